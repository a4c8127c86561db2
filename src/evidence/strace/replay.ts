/**
 * Replays a trace's bind()/listen()/close() calls, in trace order, through the kernel model, and compares each
 * verdict with what the kernel really returned.
 *
 * Each call is judged against the world *as the trace shows it* just before the call: every other socket that the
 * trace shows bound (or listening) is entered into a fresh SimulatedNamespace with adopt(), then the call is made.
 * Judging against the trace's state rather than the model's own running state keeps one disagreement from
 * cascading into every later call, so each disagreement reported stands on its own. What the trace cannot show
 * stays unknown and is enumerated: socket flags when setsockopt() was filtered out (the kernel model enumerates
 * adopted sockets' flags; this file enumerates the new socket's), and whether a bound socket was listening when
 * listen() was filtered out. No bind rule lives here: every verdict and reason comes from src/kernel.
 */
import {
  type BindResult,
  type ConflictParty,
  type NamespaceConfig,
  describeConflict, type SimSocketView, SimulatedNamespace, isLoopback, parseAddress } from '../../kernel/index.js';
import type { Location } from '../../model/location.js';
import type { TracedCall, TracedSocket } from '../../model/runtime.js';
import { type ParsedStrace, type StraceNote, parseStrace } from './parse.js';
import { type RebuildOptions, type RebuiltSocket, type RebuiltTrace, type SocketStep, pidText, rebuildSockets } from './sockets.js';

/** The kernel model's verdict on one traced call. */
export type ModelVerdict =
  | { ok: true }
  | { ok: false; errno: string }
  /** Depends on what the trace does not show: `outcomes` lists the possible results (`ok`, `EADDRINUSE`). */
  | { ok: 'unknown'; outcomes: string[]; dependsOn: string[] }
  /** The model cannot judge this call (socket state before tracing unknown, errno outside the model). */
  | { ok: 'not-modelled'; why: string };

export interface TraceFailure {
  socket: TracedSocket;
  call: TracedCall;
  /** The earlier traced socket holding the address, as the kernel model names it. */
  holder?: TracedSocket;
  /** The holder's bind() (and listen(), when it listens) that claimed the address. */
  holderBind?: TracedCall;
  holderListen?: TracedCall;
  /** EADDRINUSE, but nothing in the trace holds the address: another, untraced process does. */
  heldOutside?: boolean;
  modelVerdict: ModelVerdict;
  /** One sentence: the kernel rule (describeConflict) or why the holder is outside the trace. */
  reason: string;
}

export interface TraceDisagreement {
  socket: TracedSocket;
  call: TracedCall;
  /** What the trace shows: `ok` or the errno. */
  traced: string;
  modelVerdict: ModelVerdict;
  /** The traced socket the model blames, when it predicts a conflict the trace does not show. */
  modelHolder?: TracedSocket;
  reason: string;
  /** The call's location and the locations behind the model's verdict (the holder's bind). */
  locations: Location[];
}

export interface TraceExitInfo {
  pid: number;
  status?: number;
  signal?: string;
  source: Location;
}

export interface TraceAnalysis {
  /** TCP/UDP sockets over IPv4/IPv6 the trace shows, with their options and calls. */
  sockets: TracedSocket[];
  failures: TraceFailure[];
  disagreements: TraceDisagreement[];
  exits: TraceExitInfo[];
  notes: StraceNote[];
  /** How many bind()/listen() calls were judged, and how many of those the model could not decide. */
  checked: { calls: number; agreed: number; unknown: number; notModelled: number };
  /** Addresses taken to be local because the trace binds them successfully. */
  inferredLocalAddresses: string[];
}

export interface ReplayOptions extends RebuildOptions {
  /** Host facts for the namespace; defaults are the model's (127.0.0.0/8 and ::1 local, port 1024 unprivileged). */
  namespace?: NamespaceConfig;
  /** Extra local addresses (added to namespace.localAddresses). */
  localAddresses?: string[];
  /** Treat addresses the trace binds successfully as local (default true): the trace proves they were. */
  inferLocalAddresses?: boolean;
  /** The uid the traced process ran as (default 0: root). */
  uid?: number;
}

type Flag = 'reuseAddr' | 'reusePort' | 'v6Only';
const FLAG_NAME: Record<Flag, string> = { reuseAddr: 'SO_REUSEADDR', reusePort: 'SO_REUSEPORT', v6Only: 'IPV6_V6ONLY' };
const MODEL_ERRNOS = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EINVAL', 'EAFNOSUPPORT', 'EOPNOTSUPP']);
/** More unknown holder states than this on one port are not enumerated: all-bound and all-listening only. */
const MAX_STATE_UNKNOWNS = 6;

interface World {
  state: 'unbound' | 'bound' | 'listening' | 'closed';
  address?: string;
  port?: number;
  bind?: TracedCall;
  listen?: TracedCall;
}

function label(s: TracedSocket): string {
  return `fd ${s.fd} of ${pidText(s.pid)}`;
}

function outcomeOf(r: BindResult): string[] {
  if (r.ok === true) return ['ok'];
  if (r.ok === false) return [r.errno];
  return ['ok', r.errno];
}

/** Analyses a trace given as text. `file` names it in locations. */
export function analyzeStraceText(text: string, file: string, opts: ReplayOptions = {}): TraceAnalysis {
  return analyzeTrace(parseStrace(text, file), opts);
}

export function analyzeTrace(parsed: ParsedStrace, opts: ReplayOptions = {}): TraceAnalysis {
  const rebuilt = rebuildSockets(parsed, opts);
  return replay(rebuilt, parsed, opts);
}

export function replay(rebuilt: RebuiltTrace, parsed: ParsedStrace, opts: ReplayOptions = {}): TraceAnalysis {
  const notes: StraceNote[] = [...parsed.notes, ...rebuilt.notes];
  const listenTraced = rebuilt.traced.has('listen');
  const inferred = new Set<string>();
  if (opts.inferLocalAddresses !== false) {
    for (const s of rebuilt.sockets) {
      for (const c of s.net?.calls ?? []) {
        if (c.call !== 'bind' || !c.ok || c.address === undefined || s.net?.freeBind) continue;
        const p = parseAddress(c.address);
        if (!p || p.bytes.every((b) => b === 0) || isLoopback(p.text)) continue;
        inferred.add(p.text);
      }
    }
  }
  const config: NamespaceConfig = {
    ...opts.namespace,
    localAddresses: [...(opts.namespace?.localAddresses ?? []), ...(opts.localAddresses ?? []), ...inferred],
  };
  const world = new Map<RebuiltSocket, World>();
  const w = (s: RebuiltSocket): World => {
    let x = world.get(s);
    if (!x) {
      x = { state: 'unbound' };
      world.set(s, x);
    }
    return x;
  };
  const failures: TraceFailure[] = [];
  const disagreements: TraceDisagreement[] = [];
  const checked = { calls: 0, agreed: 0, unknown: 0, notModelled: 0 };

  for (const step of rebuilt.steps) {
    if (step.op === 'close') {
      w(step.socket).state = 'closed';
      continue;
    }
    const s = step.socket;
    const net = s.net;
    if (!net) continue;
    const call = step.call;
    const before = { ...w(s) };
    // Advance the world as the trace says, whatever the model thinks.
    if (call.ok) {
      const x = w(s);
      if (step.op === 'bind') {
        x.state = 'bound';
        x.address = call.address;
        x.port = call.port;
        x.bind = call;
      } else {
        x.state = 'listening';
        x.listen = call;
        if (before.state === 'unbound') {
          // listen() on an unbound socket picks an ephemeral port the trace does not show.
          x.address = undefined;
          x.port = undefined;
        }
      }
    }
    if (step.record.result === undefined) {
      notes.push({ message: `${step.op}() on fd ${call.fd} has no result in the trace (= ?); not judged`, source: call.source });
      continue;
    }
    checked.calls++;
    const judged = judge(step, before, world, config, listenTraced, opts.uid ?? 0);
    const traced = call.ok ? 'ok' : (call.errno ?? 'error');
    const v = judged.verdict;
    if (v.ok === 'not-modelled') checked.notModelled++;
    else if (v.ok === 'unknown') checked.unknown++;

    let agrees: boolean;
    if (v.ok === 'not-modelled') agrees = true;
    else if (v.ok === true) agrees = traced === 'ok';
    else if (v.ok === false) agrees = traced === v.errno;
    else agrees = v.outcomes.includes(traced);
    const heldOutside = !call.ok && traced === 'EADDRINUSE' && v.ok === true;
    if (agrees && v.ok !== 'not-modelled' && v.ok !== 'unknown') checked.agreed++;
    if (!call.ok) {
      const f: TraceFailure = { socket: net, call, modelVerdict: v, reason: judged.reason };
      if (heldOutside) {
        f.heldOutside = true;
        f.reason =
          `nothing in the trace holds ${endpointText(call, before, net)} when this ${step.op}() fails, so a process outside ` +
          'the trace holds it (bindcheck sockets shows who).';
      } else if (judged.holder) {
        f.holder = judged.holder.net;
        const hw = world.get(judged.holder);
        if (hw?.bind) f.holderBind = hw.bind;
        if (hw?.listen) f.holderListen = hw.listen;
      }
      failures.push(f);
    }
    if (!agrees && !heldOutside) {
      const d: TraceDisagreement = {
        socket: net,
        call,
        traced,
        modelVerdict: v,
        reason: `the trace shows ${traced} but the kernel model says ${verdictText(v)}: ${judged.reason}`,
        locations: [call.source],
      };
      if (judged.holder?.net) {
        d.modelHolder = judged.holder.net;
        const hb = world.get(judged.holder)?.bind;
        if (hb) d.locations.push(hb.source);
      }
      disagreements.push(d);
    }
  }

  const exits: TraceExitInfo[] = rebuilt.exits.map((e) => {
    const x: TraceExitInfo = { pid: e.pid ?? 0, source: e.source };
    if (e.status !== undefined) x.status = e.status;
    if (e.signal !== undefined) x.signal = e.signal;
    return x;
  });
  if (inferred.size > 0) {
    notes.push({
      message: `taken to be local addresses because the trace binds them: ${[...inferred].join(', ')}`,
      source: { file: rebuilt.steps[0] && 'call' in rebuilt.steps[0] ? rebuilt.steps[0].call.source.file : 'strace', line: 0 },
    });
  }
  return {
    sockets: rebuilt.sockets.flatMap((s) => (s.net ? [s.net] : [])),
    failures,
    disagreements,
    exits,
    notes,
    checked,
    inferredLocalAddresses: [...inferred],
  };
}

function endpointText(call: TracedCall, before: World, net: TracedSocket): string {
  const address = call.address ?? before.address ?? (net.family === 'inet' ? '0.0.0.0' : '::');
  const port = call.port ?? before.port ?? 0;
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

export function verdictText(v: ModelVerdict): string {
  if (v.ok === true) return 'it succeeds';
  if (v.ok === false) return `it fails with ${v.errno}`;
  if (v.ok === 'unknown') return `${v.outcomes.join(' or ')} depending on ${v.dependsOn.join(', ')}`;
  return `nothing (${v.why})`;
}

interface Judged {
  verdict: ModelVerdict;
  reason: string;
  holder?: RebuiltSocket;
}

/** One combination of what the trace does not show. */
interface Scenario {
  listening: Set<RebuiltSocket>;
  flags: Partial<Record<Flag, boolean>>;
}

function judge(
  step: Extract<SocketStep, { op: 'bind' | 'listen' }>,
  before: World,
  world: Map<RebuiltSocket, World>,
  config: NamespaceConfig,
  listenTraced: boolean,
  uid: number,
): Judged {
  const s = step.socket;
  const net = s.net as TracedSocket;
  const call = step.call;
  if (call.errno !== undefined && !call.ok && !MODEL_ERRNOS.has(call.errno)) {
    return { verdict: { ok: 'not-modelled', why: `${call.errno} is not a bind()/listen() rule` }, reason: `${call.errno} is outside the kernel model.` };
  }
  if (step.op === 'listen' && before.state === 'unbound' && s.origin === 'preexisting') {
    return {
      verdict: { ok: 'not-modelled', why: 'the socket predates the trace, so its address is unknown' },
      reason: 'the socket was bound before tracing started.',
    };
  }
  if (before.state !== 'unbound' && before.port === undefined && before.state !== 'closed') {
    return { verdict: { ok: 'not-modelled', why: 'its port was picked by the kernel and the trace does not show it' }, reason: 'ephemeral port.' };
  }
  const holders: RebuiltSocket[] = [];
  for (const [o, x] of world) {
    if (o === s || !o.net || o.net.proto !== net.proto) continue;
    if ((x.state === 'bound' || x.state === 'listening') && x.address !== undefined && x.port !== undefined) holders.push(o);
  }
  const port = step.op === 'bind' ? call.port : before.port;
  // Bound sockets whose listen() the trace cannot show may be listening: both are possible.
  const stateUnknown = listenTraced
    ? []
    : holders.filter((o) => o.net?.proto === 'tcp' && world.get(o)?.state === 'bound' && (port === undefined || world.get(o)?.port === port));
  const subjectFresh = before.state === 'unbound';
  const subjectFlags: Flag[] = subjectFresh
    ? (net.unknownOptions ?? []).filter((f) => f !== 'v6Only' || net.family === 'inet6')
    : [];

  const scenarios: Scenario[] = [];
  const stateSets: Set<RebuiltSocket>[] = [];
  if (stateUnknown.length > MAX_STATE_UNKNOWNS) {
    stateSets.push(new Set(), new Set(stateUnknown));
  } else {
    for (let m = 0; m < 1 << stateUnknown.length; m++) stateSets.push(new Set(stateUnknown.filter((_, i) => ((m >> i) & 1) === 1)));
  }
  for (const listening of stateSets) {
    for (let m = 0; m < 1 << subjectFlags.length; m++) {
      const flags: Partial<Record<Flag, boolean>> = {};
      subjectFlags.forEach((f, i) => (flags[f] = ((m >> i) & 1) === 1));
      scenarios.push({ listening, flags });
    }
  }

  const results: { r: BindResult; holder?: RebuiltSocket }[] = [];
  for (const sc of scenarios) {
    const ns = new SimulatedNamespace(config);
    const bySim = new Map<number, RebuiltSocket>();
    for (const o of holders) {
      const x = world.get(o) as World;
      const on = o.net as TracedSocket;
      const unknown = new Set(on.unknownOptions ?? []);
      const state = x.state === 'listening' || sc.listening.has(o) ? 'listening' : 'bound';
      const sim = ns.adopt({
        proto: on.proto,
        family: on.family,
        address: x.address as string,
        port: x.port as number,
        state,
        uid,
        reuseAddr: unknown.has('reuseAddr') ? 'unknown' : on.reuseAddr,
        reusePort: unknown.has('reusePort') ? 'unknown' : on.reusePort,
        v6Only: unknown.has('v6Only') ? 'unknown' : (on.v6Only ?? config.bindV6Only ?? false),
        ...(on.device !== undefined ? { device: on.device } : {}),
        label: label(on),
      });
      bySim.set(sim.id, o);
    }
    let subject: SimSocketView;
    const unknown = new Set(net.unknownOptions ?? []);
    if (subjectFresh || before.state === 'closed') {
      subject = ns.socket({
        proto: net.proto,
        family: net.family,
        reuseAddr: sc.flags.reuseAddr ?? net.reuseAddr,
        reusePort: sc.flags.reusePort ?? net.reusePort,
        ...(net.family === 'inet6' ? { v6Only: sc.flags.v6Only ?? net.v6Only ?? config.bindV6Only ?? false } : {}),
        uid,
        freeBind: net.freeBind ?? false,
        ...(net.device !== undefined ? { device: net.device } : {}),
        label: label(net),
      });
    } else {
      subject = ns.adopt({
        proto: net.proto,
        family: net.family,
        address: before.address as string,
        port: before.port as number,
        state: before.state === 'listening' ? 'listening' : 'bound',
        uid,
        reuseAddr: unknown.has('reuseAddr') ? 'unknown' : net.reuseAddr,
        reusePort: unknown.has('reusePort') ? 'unknown' : net.reusePort,
        v6Only: unknown.has('v6Only') ? 'unknown' : (net.v6Only ?? config.bindV6Only ?? false),
        ...(net.device !== undefined ? { device: net.device } : {}),
        label: label(net),
      });
    }
    let r: BindResult;
    try {
      r = step.op === 'bind' ? ns.bind(subject, call.address ?? '', call.port ?? 0) : ns.listen(subject);
    } catch (e) {
      return { verdict: { ok: 'not-modelled', why: (e as Error).message }, reason: `the kernel model could not take this call: ${(e as Error).message}.` };
    }
    const holder = r.ok !== true && r.conflictsWith ? bySim.get(r.conflictsWith.id) : undefined;
    results.push(holder ? { r, holder } : { r });
  }

  const outcomes = [...new Set(results.flatMap((x) => outcomeOf(x.r)))].sort();
  const traced = call.ok ? 'ok' : (call.errno ?? 'error');
  // Explain with the scenario that matches the trace when there is one, else the first failing one.
  const pick =
    results.find((x) => outcomeOf(x.r).length === 1 && outcomeOf(x.r)[0] === traced) ??
    results.find((x) => outcomeOf(x.r).includes(traced) && x.r.ok !== true) ??
    results.find((x) => x.r.ok !== true) ??
    results[0];
  if (!pick) return { verdict: { ok: 'not-modelled', why: 'no scenario' }, reason: '' };
  const reason = pick.r.ok === true ? 'the model finds nothing in the way.' : pick.r.reason.replace(/which \/proc does not show/g, 'which the trace does not show');
  let verdict: ModelVerdict;
  if (outcomes.length === 1) {
    const only = outcomes[0] as string;
    verdict = only === 'ok' ? { ok: true } : { ok: false, errno: only };
  } else {
    const dependsOn = new Set<string>();
    for (const x of results) if (x.r.ok === 'unknown') for (const d of x.r.dependsOn) dependsOn.add(d.replace(/^(.*) (SO_|IPV6_)/, '$1 $2'));
    const first = results[0];
    for (const f of subjectFlags) {
      const differs = results.some((x, i) => i > 0 && outcomeOf(x.r).join() !== outcomeOf(first?.r ?? x.r).join());
      if (differs) dependsOn.add(`${label(net)} ${FLAG_NAME[f]}`);
    }
    if (stateSets.length > 1) for (const o of stateUnknown) if (o.net) dependsOn.add(`whether ${label(o.net)} was listening`);
    verdict = { ok: 'unknown', outcomes, dependsOn: [...dependsOn] };
  }
  let why = reason;
  if (verdict.ok === 'unknown' && pick.r.ok !== true && pick.r.conflictsWith && subjectFlags.length > 0) {
    // The scenario's concrete flags for the new socket are a guess: state them as unknown, as the kernel would.
    const h = pick.r.conflictsWith;
    const flag = (f: Flag, v: boolean | undefined): boolean | 'unknown' => (subjectFlags.includes(f) ? 'unknown' : (v ?? false));
    const me: ConflictParty = {
      proto: net.proto,
      family: net.family,
      address: step.op === 'bind' ? (call.address ?? '') : (before.address ?? ''),
      port: step.op === 'bind' ? (call.port ?? 0) : (before.port ?? 0),
      reuseAddr: flag('reuseAddr', net.reuseAddr),
      reusePort: flag('reusePort', net.reusePort),
      v6Only: net.family === 'inet6' ? flag('v6Only', net.v6Only) : false,
      uid,
      state: step.op === 'listen' ? 'listening' : 'unbound',
      label: label(net),
    };
    const them: ConflictParty = {
      ...h.options,
      address: h.address ?? '',
      port: h.port ?? 0,
      state: h.state,
      label: h.label,
    };
    why = describeConflict(me, them);
  }
  if (verdict.ok === 'unknown' && !/depends on/.test(why)) {
    why = `${why} Whether this happens depends on ${verdict.dependsOn.join(', ')}, which the trace does not show.`;
  }
  const out: Judged = { verdict, reason: why };
  if (pick.holder) out.holder = pick.holder;
  return out;
}

export type { RebuiltTrace };

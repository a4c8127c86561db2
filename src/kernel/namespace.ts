import { parseAddress } from './address.js';
import { type ConflictParty, describeConflict } from './describe.js';
import { type KResult, type KSockOptions, KernelState } from './engine.js';
import type {
  AdoptSpec,
  BindErrno,
  BindResult,
  NamespaceConfig,
  ResolvedOptions,
  SimSocketState,
  SimSocketView,
  SocketOptions,
  Tristate,
} from './types.js';

/** More unknown flags than this on one port are not enumerated (2^n replays); see evaluate(). */
export const MAX_ENUMERATED_UNKNOWNS = 10;
const NO_ASSIGNMENT: ReadonlyMap<string, boolean> = new Map();

type Flag = 'reuseAddr' | 'reusePort' | 'v6Only';
const FLAG_NAMES: Record<Flag, string> = { reuseAddr: 'SO_REUSEADDR', reusePort: 'SO_REUSEPORT', v6Only: 'IPV6_V6ONLY' };

interface SocketRecord {
  id: number;
  label: string;
  options: ResolvedOptions;
  adopted: boolean;
  state: SimSocketState;
  address?: string;
  port?: number;
}

type HistOp =
  | { kind: 'socket'; id: number }
  | { kind: 'adopt'; id: number; address: string; port: number; state: AdoptSpec['state'] }
  | { kind: 'bind'; id: number; address: string; port: number }
  | { kind: 'listen'; id: number }
  | { kind: 'close'; id: number };

interface Unknown {
  id: number;
  flag: Flag;
}

/** A socket in a {@link SimulatedNamespace}. Its fields reflect the favourable outcome when a verdict was 'unknown'. */
export class SimSocket implements SimSocketView {
  /** @internal */
  constructor(private readonly rec: SocketRecord) {}
  get id(): number {
    return this.rec.id;
  }
  get label(): string {
    return this.rec.label;
  }
  get options(): Readonly<ResolvedOptions> {
    return this.rec.options;
  }
  get state(): SimSocketState {
    return this.rec.state;
  }
  get address(): string | undefined {
    return this.rec.address;
  }
  get port(): number | undefined {
    return this.rec.port;
  }
  get adopted(): boolean {
    return this.rec.adopted;
  }
}

function outcomeKey(r: KResult): string {
  return r.ok ? 'ok' : r.errno;
}

/**
 * A simulated network namespace: decides bind() and listen() as Linux 6.x does. Sockets made with socket() have
 * known options; sockets adopted from /proc may have unknown ones, and verdicts that hinge on those come back as
 * `{ ok: 'unknown' }`. Internally every operation is kept in a history that is replayed through the concrete
 * engine once per assignment of the unknown flags that can matter.
 */
export class SimulatedNamespace {
  private readonly cfg: Required<NamespaceConfig>;
  private readonly records = new Map<number, SocketRecord>();
  private readonly sockets = new Map<number, SimSocket>();
  private readonly history: HistOp[] = [];
  private nextId = 1;
  /**
   * The history applied once, in order, with every unknown flag taken as false — exactly what replay() computes
   * under an assignment that leaves the unknowns unassigned. An operation whose ports involve no unknown flag is
   * decided on it directly (linear), instead of replaying the whole history (quadratic in sockets).
   */
  private readonly settled: KernelState;

  constructor(config: NamespaceConfig = {}) {
    this.cfg = {
      localAddresses: config.localAddresses ?? [],
      unprivilegedPortStart: config.unprivilegedPortStart ?? 1024,
      nonLocalBind: config.nonLocalBind ?? false,
      ipv6NonLocalBind: config.ipv6NonLocalBind ?? false,
      bindV6Only: config.bindV6Only ?? false,
    };
    this.settled = new KernelState(this.cfg);
  }

  /** The settings in force (defaults filled in). */
  get config(): Readonly<Required<NamespaceConfig>> {
    return this.cfg;
  }

  /** socket() + setsockopt(): a fresh, unbound socket with known options. */
  socket(o: SocketOptions): SimSocket {
    const options: ResolvedOptions = {
      proto: o.proto,
      family: o.family,
      reuseAddr: o.reuseAddr ?? false,
      reusePort: o.reusePort ?? false,
      v6Only: o.family === 'inet6' ? (o.v6Only ?? this.cfg.bindV6Only) : false,
      uid: o.uid ?? 0,
      capNetBindService: o.capNetBindService ?? (o.uid ?? 0) === 0,
      freeBind: o.freeBind ?? false,
    };
    if (o.device !== undefined) options.device = o.device;
    return this.add({ options, adopted: false, state: 'unbound' }, o.label, { kind: 'socket', id: 0 });
  }

  /**
   * A socket that already exists (a /proc/net row). It is entered into the tables as if it had been bound (and put
   * to listen) now, in adoption order. Flags default to 'unknown'; v6Only is irrelevant (and ignored) for `inet`.
   */
  adopt(spec: AdoptSpec): SimSocket {
    const p = parseAddress(spec.address);
    if (!p) throw new Error(`adopt: not an address: ${spec.address}`);
    const options: ResolvedOptions = {
      proto: spec.proto,
      family: spec.family,
      reuseAddr: spec.reuseAddr ?? 'unknown',
      reusePort: spec.reusePort ?? 'unknown',
      v6Only: spec.family === 'inet6' ? (spec.v6Only ?? 'unknown') : false,
      uid: spec.uid ?? 0,
      capNetBindService: (spec.uid ?? 0) === 0,
      freeBind: false,
    };
    if (spec.device !== undefined) options.device = spec.device;
    return this.add(
      { options, adopted: true, state: spec.state, address: p.text, port: spec.port },
      spec.label,
      { kind: 'adopt', id: 0, address: p.text, port: spec.port, state: spec.state },
    );
  }

  /** bind(2). Port 0 picks an ephemeral port (modelled simply: the lowest free one from 32768). */
  bind(s: SimSocketView, address: string, port: number): BindResult {
    const rec = this.live(s);
    const op: HistOp = { kind: 'bind', id: rec.id, address, port };
    const { result, favourable } = this.evaluate(op, rec);
    if (favourable && favourable.ok) {
      rec.state = 'bound';
      rec.address = parseAddress(address)?.text ?? address;
      rec.port = favourable.port ?? port;
    }
    return result;
  }

  /** listen(2): for TCP, inet_csk_listen_start() re-validates the port with the socket now in LISTEN. */
  listen(s: SimSocketView): BindResult {
    const rec = this.live(s);
    const { result, favourable } = this.evaluate({ kind: 'listen', id: rec.id }, rec);
    if (favourable && favourable.ok) {
      if (rec.state === 'unbound') {
        rec.address = rec.options.family === 'inet' ? '0.0.0.0' : '::';
        rec.port = favourable.port;
      }
      rec.state = 'listening';
    }
    return result;
  }

  /** close(2): the socket leaves every table at once (no TIME_WAIT is created by the model itself). */
  close(s: SimSocketView): void {
    const rec = this.records.get(s.id);
    if (!rec || rec.state === 'closed') return;
    this.record({ kind: 'close', id: rec.id });
    rec.state = 'closed';
  }

  /** Every socket created or adopted, in order. */
  list(): SimSocket[] {
    return [...this.sockets.values()];
  }

  private add(partial: Omit<SocketRecord, 'id' | 'label'>, label: string | undefined, op: HistOp): SimSocket {
    const id = this.nextId++;
    const rec: SocketRecord = { ...partial, id, label: label ?? `#${id}` };
    this.records.set(id, rec);
    const sock = new SimSocket(rec);
    this.sockets.set(id, sock);
    this.record({ ...op, id });
    return sock;
  }

  private live(s: SimSocketView): SocketRecord {
    const rec = this.records.get(s.id);
    if (!rec || this.sockets.get(s.id) !== s) throw new Error('socket does not belong to this namespace');
    if (rec.state === 'closed') throw new Error(`socket ${rec.label} is closed`);
    return rec;
  }

  /** Ports (per protocol) whose tables the operation can depend on, closed over sockets that touched them. */
  private relevantKeys(op: HistOp, rec: SocketRecord): Set<string> {
    const proto = rec.options.proto;
    const keys = new Set<string>();
    const touched = new Map<number, Set<string>>();
    for (const h of this.history) {
      if (h.kind !== 'bind' && h.kind !== 'adopt') continue;
      const r = this.records.get(h.id);
      if (!r) continue;
      const set = touched.get(h.id) ?? new Set<string>();
      set.add(`${r.options.proto}:${h.port}`);
      touched.set(h.id, set);
    }
    if (op.kind === 'bind' && op.port !== 0) keys.add(`${proto}:${op.port}`);
    for (const k of touched.get(rec.id) ?? []) keys.add(k);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [id, set] of touched) {
        if (this.records.get(id)?.adopted) continue;
        if ([...set].some((k) => keys.has(k))) {
          for (const k of set) if (!keys.has(k)) (keys.add(k), (grew = true));
        }
      }
    }
    return keys;
  }

  private unknownsFor(keys: Set<string>): Unknown[] {
    const out: Unknown[] = [];
    for (const rec of this.records.values()) {
      if (!rec.adopted || rec.port === undefined || !keys.has(`${rec.options.proto}:${rec.port}`)) continue;
      for (const flag of ['reuseAddr', 'reusePort', 'v6Only'] as const) {
        if (flag === 'v6Only' && rec.options.family !== 'inet6') continue;
        if (rec.options[flag] === 'unknown') out.push({ id: rec.id, flag });
      }
    }
    return out;
  }

  private concrete(rec: SocketRecord, assign: ReadonlyMap<string, boolean>): KSockOptions {
    const pick = (flag: Flag, v: Tristate): boolean => (v === 'unknown' ? (assign.get(`${rec.id}:${flag}`) ?? false) : v);
    const o: KSockOptions = {
      proto: rec.options.proto,
      family: rec.options.family,
      reuseAddr: pick('reuseAddr', rec.options.reuseAddr),
      reusePort: pick('reusePort', rec.options.reusePort),
      v6Only: pick('v6Only', rec.options.v6Only),
      uid: rec.options.uid,
      capNetBindService: rec.options.capNetBindService,
      freeBind: rec.options.freeBind,
    };
    if (rec.options.device !== undefined) o.device = rec.options.device;
    return o;
  }

  private applyTo(k: KernelState, h: HistOp, assign: ReadonlyMap<string, boolean>): KResult {
    const rec = this.records.get(h.id);
    if (!rec) throw new Error(`history names unknown socket ${h.id}`);
    switch (h.kind) {
      case 'socket':
        k.create(h.id, this.concrete(rec, assign));
        return { ok: true };
      case 'adopt':
        k.adopt(h.id, this.concrete(rec, assign), h.address, h.port, h.state);
        return { ok: true };
      case 'bind':
        return k.bind(h.id, h.address, h.port);
      case 'listen':
        return k.listen(h.id);
      case 'close':
        k.close(h.id);
        return { ok: true };
    }
  }

  /** Records `op` in the history and in the settled state. */
  private record(op: HistOp): KResult {
    this.history.push(op);
    return this.applyTo(this.settled, op, NO_ASSIGNMENT);
  }

  /** Replays the history under one assignment of the unknowns, then applies `op`. */
  private replay(assign: Map<string, boolean>, op: HistOp): KResult {
    const k = new KernelState(this.cfg);
    for (const h of this.history) this.applyTo(k, h, assign);
    return this.applyTo(k, op, assign);
  }

  private assignments(unknowns: Unknown[]): Map<string, boolean>[] {
    const key = (u: Unknown): string => `${u.id}:${u.flag}`;
    if (unknowns.length > MAX_ENUMERATED_UNKNOWNS) {
      // Too many to enumerate: compare the two extremes only (documented in docs/kernel-model.md).
      return [false, true].map((v) => new Map(unknowns.map((u) => [key(u), v])));
    }
    const out: Map<string, boolean>[] = [];
    for (let mask = 0; mask < 1 << unknowns.length; mask++) {
      out.push(new Map(unknowns.map((u, i) => [key(u), ((mask >> i) & 1) === 1])));
    }
    return out;
  }

  /**
   * Decides `op` under every assignment of the relevant unknown flags and records it in the history.
   * Exact when all assignments agree; otherwise 'unknown', naming each flag whose flip changes the outcome.
   */
  private evaluate(op: HistOp, rec: SocketRecord): { result: BindResult; favourable: KResult | undefined } {
    const unknowns = this.unknownsFor(this.relevantKeys(op, rec));
    if (unknowns.length === 0) {
      // Nothing unknown can change this verdict: decide it on the settled state (replay would give the same).
      const r = this.record(op);
      return { result: this.present(r, rec, op), favourable: r };
    }
    const assigns = this.assignments(unknowns);
    const outcomes = assigns.map((a) => this.replay(a, op));
    this.record(op);
    const first = outcomes[0];
    if (!first) throw new Error('no assignment evaluated');
    const favourable = outcomes.find((r) => r.ok) ?? first;
    const distinct = new Set(outcomes.map(outcomeKey));
    if (distinct.size === 1) return { result: this.present(first, rec, op), favourable };
    const failing = outcomes.find((r) => !r.ok);
    if (!failing || failing.ok) throw new Error('unreachable: differing outcomes without a failure');
    const dependsOn: string[] = [];
    unknowns.forEach((u, i) => {
      if (unknowns.length > MAX_ENUMERATED_UNKNOWNS) {
        dependsOn.push(this.flagName(u));
        return;
      }
      const matters = outcomes.some((r, mask) => outcomeKey(r) !== outcomeKey(outcomes[mask ^ (1 << i)] ?? r));
      if (matters) dependsOn.push(this.flagName(u));
    });
    const concrete = this.present(failing, rec, op);
    if (concrete.ok !== false) throw new Error('unreachable');
    const result: BindResult = {
      ok: 'unknown',
      errno: concrete.errno,
      reason: `${concrete.reason} Whether this happens depends on ${dependsOn.join(', ')}, which /proc does not show.`,
      dependsOn,
    };
    if (concrete.conflictsWith) result.conflictsWith = concrete.conflictsWith;
    return { result, favourable };
  }

  private flagName(u: Unknown): string {
    const rec = this.records.get(u.id);
    return `${rec?.label ?? `#${u.id}`} ${FLAG_NAMES[u.flag]}`;
  }

  private party(rec: SocketRecord, address: string, port: number, state: SimSocketState): ConflictParty {
    const p: ConflictParty = {
      proto: rec.options.proto,
      family: rec.options.family,
      address,
      port,
      reuseAddr: rec.options.reuseAddr,
      reusePort: rec.options.reusePort,
      v6Only: rec.options.v6Only,
      uid: rec.options.uid,
      state,
    };
    if (!rec.label.startsWith('#')) p.label = rec.label;
    return p;
  }

  private present(r: KResult, rec: SocketRecord, op: HistOp): BindResult {
    if (r.ok) return { ok: true };
    const errno: BindErrno = r.errno;
    const holder = r.holder !== undefined ? this.records.get(r.holder) : undefined;
    const sock = r.holder !== undefined ? this.sockets.get(r.holder) : undefined;
    if (errno === 'EADDRINUSE' && holder && sock) {
      const address = op.kind === 'bind' ? (parseAddress(op.address)?.text ?? op.address) : (rec.address ?? '');
      const port = op.kind === 'bind' ? op.port : (rec.port ?? 0);
      const me = this.party(rec, address, port, op.kind === 'listen' ? 'listening' : 'unbound');
      const them = this.party(holder, holder.address ?? '', holder.port ?? port, holder.state);
      return { ok: false, errno, conflictsWith: sock, reason: describeConflict(me, them) };
    }
    return { ok: false, errno, reason: `${r.detail}.` };
  }
}

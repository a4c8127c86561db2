/**
 * The real systemd-resolved (Debian 12, systemd 252) as bindcheck's oracle.
 *
 * For each scenario: write resolved.conf and drop-ins into a temporary root, run the real binary in a private
 * network/mount/pid namespace under strace — the root's /etc/systemd, /usr/lib/systemd and /run bind-mounted over
 * the host's, a passwd with the systemd-resolve account — wait until it has created its stub and extra listeners,
 * and compare what it really did (sockets in order, options set before bind(), bind results, sockets it closed
 * again, whether it keeps running) with what `scan({ root, readers: [resolvedReader] })` predicts. The "after"
 * test starts a port holder once resolved runs and compares its fate with the kernel model.
 *
 * Prerequisites (root, unshare, strace, the unpacked binary from .ci/install-resolved.sh) missing → skipped with
 * the reason, except under CI where that is a failure.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scan } from '../../src/index.js';
import { RootFs } from '../../src/fs/root-fs.js';
import { SimulatedNamespace } from '../../src/kernel/index.js';
import { replayDaemon } from '../../src/analysis/startup.js';
import { readResolved, resolvedReader } from '../../src/readers/resolved/index.js';
import { resolvedRecogniser } from '../../src/evidence/logs/recognisers/resolved.js';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { attemptLine, holdersAsLive, observeOnce } from './harness/oracle.js';
import { checkOracleEnv } from './harness/env.js';
import { PORT_HOLDER, startInNamespace, type NamespaceRun, type PortHolderSpec, type WaitResult } from './harness/namespace.js';
import { boundNetSockets, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';
import { RESOLVED_BINARY, RESOLVED_ROOT, RESOLVED_SHARED_LIB, resolvedEnv, resolvedStartDone, writeAccounts, writeResolvedRoot } from './daemons/resolved.js';

const RECORDED = join(import.meta.dirname, 'recorded', 'resolved');
/** Set BINDCHECK_RECORD=1 to (re)write test/integration/recorded/resolved/<scenario>/ from this run. */
const RECORD = process.env.BINDCHECK_RECORD === '1';

interface Scenario {
  id: string;
  title: string;
  /** Root-relative path → text; `/etc/systemd/resolved.conf` defaults to Debian's shipped file. */
  files?: Record<string, string>;
  holders?: PortHolderSpec[];
  /** Input findings bindcheck must report (code and a piece of the message). */
  expectFindings?: { code: string; text: string }[];
}

const conf = (...lines: string[]) => ['[Resolve]', ...lines].join('\n') + '\n';
const holder = (proto: 'tcp' | 'udp', address: string, port: number, reuseAddr = false): PortHolderSpec => ({ proto, family: address.includes(':') ? 'inet6' : 'inet', address, port, reuseAddr });

const SCENARIOS: Scenario[] = [
  { id: 'debian-default', title: "Debian's shipped resolved.conf: LLMNR on 0.0.0.0/[::]:5355, stub on 127.0.0.53 and 127.0.0.54" },
  { id: 'stub-no', title: 'DNSStubListener=no: no port 53 at all', files: { '/etc/systemd/resolved.conf': conf('DNSStubListener=no') } },
  { id: 'stub-udp', title: 'DNSStubListener=udp: UDP only', files: { '/etc/systemd/resolved.conf': conf('DNSStubListener=udp') } },
  { id: 'stub-tcp-llmnr-no', title: 'DNSStubListener=tcp, LLMNR=no', files: { '/etc/systemd/resolved.conf': conf('DNSStubListener=tcp', 'LLMNR=no') } },
  {
    id: 'extras',
    title: 'DNSStubListenerExtra= in several forms, one invalid, one repeated',
    files: {
      '/etc/systemd/resolved.conf': conf(
        'LLMNR=no',
        'DNSStubListenerExtra=[::1]:5353',
        'DNSStubListenerExtra=udp:127.0.0.1:5300',
        'DNSStubListenerExtra=tcp:192.0.2.10',
        'DNSStubListenerExtra=127.0.0.2',
        'DNSStubListenerExtra=::1',
        'DNSStubListenerExtra=[::1]',
        'DNSStubListenerExtra=udp:127.0.0.1:5300',
      ),
    },
    expectFindings: [
      { code: 'BC002', text: 'DNSStubListenerExtra=[::1]' },
      { code: 'BC002', text: 'repeats' },
    ],
  },
  {
    id: 'extras-reset',
    title: 'an empty DNSStubListenerExtra= drops the ones before it',
    files: { '/etc/systemd/resolved.conf': conf('LLMNR=no', 'DNSStubListenerExtra=127.0.0.2:5301', 'DNSStubListenerExtra=', 'DNSStubListenerExtra=127.0.0.3:5302') },
  },
  {
    id: 'dropin-override',
    title: 'drop-ins: /etc beats /usr/lib for the same name, a later name overrides an earlier one, /run is read',
    files: {
      '/etc/systemd/resolved.conf': conf('DNSStubListener=no', 'LLMNR=no'),
      '/usr/lib/systemd/resolved.conf.d/50-stub.conf': conf('DNSStubListener=no', 'DNSStubListenerExtra=127.0.0.9:5309'),
      '/etc/systemd/resolved.conf.d/50-stub.conf': conf('DNSStubListener=udp'),
      '/run/systemd/resolved.conf.d/60-more.conf': conf('DNSStubListener=yes', 'DNSStubListenerExtra=127.0.0.1:5353'),
      '/usr/lib/systemd/resolved.conf.d/70-last.conf': conf('DNSStubListenerExtra=tcp:127.0.0.1:5354'),
    },
  },
  {
    id: 'held-udp-any',
    title: 'UDP 0.0.0.0:53 held before resolved starts (no SO_REUSEADDR): the stub is off, resolved runs on',
    holders: [holder('udp', '0.0.0.0', 53)],
  },
  {
    id: 'held-tcp-any',
    title: 'TCP 0.0.0.0:53 held and listening before resolved starts: UDP 127.0.0.53 is bound, then closed',
    holders: [holder('tcp', '0.0.0.0', 53, true)],
  },
  {
    id: 'held-like-dnsmasq',
    title: 'UDP and TCP 0.0.0.0:53 held with SO_REUSEADDR (as dnsmasq binds): UDP shares, TCP fails, the stub is off',
    holders: [holder('udp', '0.0.0.0', 53, true), holder('tcp', '0.0.0.0', 53, true)],
  },
  {
    id: 'held-stub-address',
    title: 'TCP 127.0.0.53:53 held: the stub is off',
    holders: [holder('tcp', '127.0.0.53', 53)],
  },
  {
    id: 'held-proxy-address',
    title: 'UDP 127.0.0.54:53 held: 127.0.0.53 UDP and TCP are bound, then closed again',
    holders: [holder('udp', '127.0.0.54', 53)],
  },
  {
    id: 'held-llmnr-tcp',
    title: 'TCP 0.0.0.0:5355 held and listening: LLMNR is off (its UDP socket bound, then closed), the stub is up',
    holders: [holder('tcp', '0.0.0.0', 5355, true)],
  },
  {
    id: 'held-llmnr-udp-reuseaddr',
    title: 'UDP 0.0.0.0:5355 held with SO_REUSEADDR: resolved retries with SO_REUSEADDR and shares the port',
    holders: [holder('udp', '0.0.0.0', 5355, true)],
  },
  {
    id: 'held-extra',
    title: 'an extra listener held: only it is skipped',
    files: { '/etc/systemd/resolved.conf': conf('DNSStubListenerExtra=127.0.0.1:5300') },
    holders: [holder('udp', '127.0.0.1', 5300)],
  },
];

interface Observation {
  scenario: Scenario;
  root: string;
  wait: WaitResult;
  attempts: NetSocketAttempt[];
  syslog: string[];
  traceText: string;
  running: boolean;
}

const env = checkOracleEnv([RESOLVED_BINARY], [RESOLVED_SHARED_LIB, '/etc/systemd', '/usr/lib/systemd']);
if (!env.ok && !env.required) console.warn(`[resolved oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-resolved.sh)`);

/** What the trace shows for one socket: its bind() failure, `closed` when resolved closed it itself, else `ok`. */
function observed(a: NetSocketAttempt): string {
  if (a.outcome.ok === false) return `${a.outcome.call} ${a.outcome.errno}`;
  return a.socket.closedLine !== undefined ? 'closed' : 'ok';
}

/**
 * SO_REUSEADDR as it stood when the (last) bind() was called. resolved's LLMNR sockets are the exception: bound
 * without it first, they set it right after (or retry with it), and bindcheck models the flag they end up with.
 */
function reuseAddrAtBind(a: NetSocketAttempt): boolean {
  if (a.port === 5355) return a.socket.reuseAddr;
  const bindLine = a.socket.bind?.line ?? Number.MAX_SAFE_INTEGER;
  return a.socket.options.some((o) => o.name === 'SO_REUSEADDR' && o.result === 0 && o.line < bindLine && /[1-9]/.test(o.value));
}

describe.runIf(env.ok || env.required)('real systemd-resolved vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-resolved-'));
  const debianConf = () => readFileSync(join(RESOLVED_ROOT, 'etc/systemd/resolved.conf'), 'utf8');

  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the systemd-resolved oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  function prepareRoot(sc: Scenario): string {
    const root = join(tmpBase, sc.id, 'root');
    writeResolvedRoot(root, { '/etc/systemd/resolved.conf': debianConf(), ...sc.files });
    return root;
  }

  async function start(sc: Scenario, root: string, name: string): Promise<NamespaceRun> {
    const workDir = join(tmpBase, sc.id, name);
    const acc = writeAccounts(join(workDir, 'accounts'));
    return startInNamespace({
      workDir,
      command: [RESOLVED_BINARY],
      strace: true,
      env: resolvedEnv(),
      bindMounts: [
        { source: acc.passwd, target: '/etc/passwd' },
        { source: acc.group, target: '/etc/group' },
        { source: join(root, 'etc/systemd'), target: '/etc/systemd' },
        { source: join(root, 'usr/lib/systemd'), target: '/usr/lib/systemd' },
        { source: join(root, 'run'), target: '/run' },
      ],
      holders: sc.holders,
    });
  }

  async function runScenario(sc: Scenario): Promise<Observation> {
    const root = prepareRoot(sc);
    const run = await start(sc, root, 'work');
    try {
      const wait = await run.waitFor(resolvedStartDone, { timeoutMs: 20_000, quietMs: 300 });
      const snap = run.snapshot();
      const obs: Observation = {
        scenario: sc,
        root,
        wait,
        attempts: boundNetSockets(socketsFromTrace(snap.trace)),
        syslog: snap.logLines,
        traceText: snap.traceText,
        running: snap.commandExit === undefined,
      };
      if (RECORD) record(obs);
      return obs;
    } finally {
      await run.stop();
    }
  }

  const observe = observeOnce(runScenario);

  describe.concurrent.each(SCENARIOS)('$id: $title', (sc) => {
    it('real systemd-resolved: start observed, still running', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.wait.timedOut, 'resolved did not finish creating its listeners in time').toBe(false);
      expect(o.running, 'systemd-resolved exited').toBe(true);
    }, 40_000);

    it('bindcheck predicts the same sockets, options and outcomes, and that resolved keeps running', async () => {
      const o = await observe(sc);
      const extraLiveSockets = holdersAsLive(sc.holders);
      const report = await scan({ root: o.root, live: false, readers: [resolvedReader], extraLiveSockets });
      const plan = report.daemons.find((d) => d.daemon === 'systemd-resolved');
      expect(plan, 'scan() found no systemd-resolved').toBeDefined();
      const view = (s: { proto: string; family: string; address: string; port: number }) => `${s.proto}/${s.family} ${s.address}:${s.port}`;
      const predicted = (x: unknown): string | undefined => {
        const v = x as { ok: unknown; call?: string; errno?: string; reason?: string };
        if (v.ok === true) return 'ok';
        if (v.call === 'none') return v.reason?.startsWith('bound, then closed') ? 'closed' : undefined;
        return `${v.call} ${v.errno ?? ''}`.trim();
      };
      const attempted = plan!.sockets.filter((s) => predicted(s.outcome) !== undefined);
      expect(attempted.map((s) => `${view(s)} ${predicted(s.outcome)}`), 'sockets (in order) and outcomes').toEqual(
        o.attempts.map((a) => `${view(a)} ${observed(a)}`),
      );
      // The report leaves out device and IP_FREEBIND: take them from the reader's plan (same sockets, same order).
      const planned = readResolved(new RootFs(o.root)).plans[0]!.sockets.filter((_, k) => predicted(plan!.sockets[k]?.outcome) !== undefined);
      expect(
        planned.map((p) => ({ reuseAddr: p.reuseAddr, v6Only: p.v6Only ?? undefined, device: p.device, freeBind: p.freeBind ?? false })),
        'socket options set before bind()',
      ).toEqual(
        o.attempts.map((a) => ({
          reuseAddr: reuseAddrAtBind(a),
          v6Only: a.socket.v6Only,
          device: a.socket.options.some((x) => (x.name === 'SO_BINDTOIFINDEX' && x.value.includes('1')) || (x.name === 'SO_BINDTODEVICE' && x.value.includes('lo'))) ? 'lo' : undefined,
          freeBind: a.socket.options.some((x) => /^IP(V6)?_FREEBIND$/.test(x.name) && /[1-9]/.test(x.value)),
        })),
      );
      expect(plan!.starts, 'whether resolved runs').toBe(o.running);
      const inputFindings = report.findings.filter((f) => f.code.startsWith('BC0'));
      expect(inputFindings.map((f) => `${f.code} ${f.message}`).sort(), 'input findings').toHaveLength((sc.expectFindings ?? []).length);
      for (const e of sc.expectFindings ?? []) expect(inputFindings.some((f) => f.code === e.code && f.message.includes(e.text)), `${e.code} ${e.text}`).toBe(true);
      // A stub or extra that fails is BC402: resolved runs on without it.
      const failed = o.attempts.filter((a) => a.outcome.ok === false);
      const bc402 = report.findings.filter((f) => f.code === 'BC402');
      expect(bc402.map((f) => `${f.endpoint?.proto}/${f.endpoint?.address}:${f.endpoint?.port}`).sort()).toEqual(failed.map((a) => `${a.proto}/${a.address}:${a.port}`).sort());
    }, 40_000);

    it("the recogniser maps resolved's own log lines to the failed sockets", async () => {
      const o = await observe(sc);
      const events = o.syslog.map((l, i) => recogniseRaw(l, { file: 'syslog', line: i + 1 }, [resolvedRecogniser])?.event).filter((e) => e !== undefined);
      // The LLMNR line names no socket: it stands for the first LLMNR socket that failed.
      const failed = o.attempts.filter((a) => a.outcome.ok === false).filter((a, k, all) => a.port !== 5355 || all.findIndex((b) => b.port === 5355) === k);
      const show = (x: { proto?: string; address?: string; port?: number }, errno: string | undefined) => (x.port === 5355 ? `LLMNR :5355 ${errno}` : `${x.proto}/${x.address}:${x.port} ${errno}`);
      expect(events.map((e) => show(e, e.errno))).toEqual(failed.map((a) => show(a, (a.outcome as { errno: string }).errno)));
      expect(events.every((e) => e.kind === 'listener-disabled' && e.daemon === 'systemd-resolved')).toBe(true);
    }, 40_000);
  });

  describe('started after resolved: another daemon on port 53', () => {
    const sc: Scenario = { id: 'after', title: 'port holders started once resolved runs' };
    const tries: { spec: PortHolderSpec; label: string }[] = [
      { spec: holder('tcp', '0.0.0.0', 53, true), label: 'TCP 0.0.0.0:53 (SO_REUSEADDR, listening)' },
      { spec: holder('udp', '0.0.0.0', 53), label: 'UDP 0.0.0.0:53 without SO_REUSEADDR' },
      { spec: holder('udp', '0.0.0.0', 53, true), label: 'UDP 0.0.0.0:53 with SO_REUSEADDR' },
      { spec: holder('tcp', '127.0.0.1', 53, true), label: 'TCP 127.0.0.1:53' },
      { spec: holder('tcp', '0.0.0.0', 5355, true), label: 'TCP 0.0.0.0:5355 (LLMNR)' },
      { spec: holder('udp', '0.0.0.0', 5355, true), label: 'UDP 0.0.0.0:5355 with SO_REUSEADDR (LLMNR)' },
      { spec: holder('udp', '0.0.0.0', 5355), label: 'UDP 0.0.0.0:5355 without SO_REUSEADDR (LLMNR)' },
    ];

    it('each holder meets the fate the kernel model predicts next to resolved', async () => {
      const root = prepareRoot(sc);
      const run = await start(sc, root, 'work');
      try {
        const w = await run.waitFor(resolvedStartDone, { timeoutMs: 20_000, quietMs: 300 });
        expect(w.timedOut).toBe(false);
        const plan = readResolved(new RootFs(root)).plans[0]!;
        const lines: string[] = [];
        for (const t of tries) {
          const h = t.spec;
          const real = await holdOnce(run, h, lines.length);
          const ns = new SimulatedNamespace({});
          replayDaemon(ns, plan, 0, new Map());
          const sim = ns.socket({ proto: h.proto, family: h.family, reuseAddr: Boolean(h.reuseAddr) });
          const b = ns.bind(sim, h.address, h.port);
          const model = b.ok !== true ? `bind ${b.errno}` : h.proto === 'tcp' ? (() => { const l = ns.listen(sim); return l.ok === true ? 'ok' : `listen ${l.errno}`; })() : 'ok';
          lines.push(`${t.label}: real ${real}, model ${model}`);
          expect(model, t.label).toBe(real);
        }
        console.log(`[resolved oracle] after:\n  ${lines.join('\n  ')}`);
      } finally {
        await run.stop();
      }
    }, 60_000);
  });
});

/** Run the port holder once inside the namespace; READY means it got the port (it is killed right away). */
async function holdOnce(run: NamespaceRun, h: PortHolderSpec, n: number): Promise<string> {
  const flags = [h.reuseAddr ? 'reuseaddr' : ''].filter(Boolean).join(' ');
  const out = join(run.workDir, `after-${n}.out`);
  const script = `python3 ${PORT_HOLDER} ${h.proto} ${h.family} ${h.address} ${h.port} ${flags} > ${out} 2>&1 & p=$!; i=0; while [ ! -s ${out} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; kill $p 2>/dev/null; wait $p 2>/dev/null; true`;
  await run.exec(['sh', '-c', script], 10_000);
  const text = readFileSync(out, 'utf8').trim();
  if (text.startsWith('READY')) return 'ok';
  const m = /^ERROR (\S+)/.exec(text);
  return m ? `bind ${m[1]}` : `unexpected: ${text}`;
}

function summarize(o: Observation): string {
  const lines = [`[resolved oracle] ${o.scenario.id} (${o.wait.elapsedMs} ms, ${o.running ? 'running' : `exit ${o.wait.commandExit}`})`];
  for (const a of o.attempts) lines.push(`  ${attemptLine(a)}${a.socket.closedLine !== undefined ? ' (closed by resolved)' : ''}`);
  for (const l of o.syslog) lines.push(`  syslog: ${l}`);
  return lines.join('\n');
}

function record(o: Observation): void {
  const dir = join(RECORDED, o.scenario.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'strace.txt'), o.traceText);
  writeFileSync(join(dir, 'syslog.txt'), o.syslog.join('\n') + (o.syslog.length ? '\n' : ''));
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify(
      {
        title: o.scenario.title,
        files: { '/etc/systemd/resolved.conf': "Debian 12's shipped file", ...o.scenario.files },
        holders: o.scenario.holders ?? [],
        note: 'unedited outputs of the real systemd-resolved (Debian 12, systemd 252) in a private namespace; stopped once its listeners were set up',
        keptRunning: o.running,
        sockets: o.attempts.map((a) => ({ pid: a.socket.pid, fd: a.socket.fd, proto: a.proto, family: a.family, address: a.address, port: a.port, outcome: a.outcome, closedByResolved: a.socket.closedLine !== undefined })),
      },
      null,
      2,
    ) + '\n',
  );
}

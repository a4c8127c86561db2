/**
 * The real OpenSSH sshd as bindcheck's oracle.
 *
 * For each scenario: write an sshd_config (or copy Debian's installed one) into a temporary appliance root, run the
 * real `sshd -D` on it in a private network/mount/pid namespace under strace (the root's /etc/ssh bind-mounted over
 * the host's, /run a private tmpfs holding /run/sshd), wait until it logged that it listens or gave up, and compare
 * what it really did — computed from the trace, never written down here — with what
 * `scan({ root, live: false, readers: [sshdReader] })` predicts for that root. The command line comes from the
 * root's ssh.service when a scenario has one, so the reader sees the same argv as sshd.
 *
 * Prerequisites (root, unshare, strace, sshd: .ci/install-sshd.sh) missing → skipped with the reason, except under
 * CI where that is a failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptLine, errnoName, holdersAsLive, observeOnce, recordedSockets } from './harness/oracle.js';
import { scan } from '../../src/index.js';
import { sshdReader } from '../../src/readers/sshd/index.js';
import { sshdRecogniser } from '../../src/evidence/logs/recognisers/sshd.js';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { checkOracleEnv } from './harness/env.js';
import { startInNamespace, type NamespaceRun, type PortHolderSpec, type SsRow, type WaitResult } from './harness/namespace.js';
import { boundNetSockets, socketsFromTrace, type NetSocketAttempt, type Outcome } from './harness/strace.js';
import { HOST_KEY, makeRoot, SSH_KEYGEN, SSHD_BINARY, sshdStartDone } from './daemons/sshd.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, 'recorded', 'sshd');
/** Set BINDCHECK_RECORD=1 to (re)write test/integration/recorded/sshd/<scenario>/ from this run. */
const RECORD = process.env.BINDCHECK_RECORD === '1';

interface Scenario {
  id: string;
  title: string;
  /** Lines after the base config (`UsePAM no`); ignored when `debian` is set. */
  lines: string[];
  debian?: boolean;
  /** Extra files in the root (path relative to the root → lines). */
  files?: Record<string, string[]>;
  /** ssh.service ExecStart in the root; the real sshd runs exactly this argv (plus `-h KEY`). */
  execStart?: string;
  holders?: PortHolderSpec[];
  /** `sshd -t` accepts the config although sshd cannot bind (all or some of) its addresses. */
  sshdTestAccepts?: boolean;
  recordTrace?: boolean;
  check?: (o: Observation) => void;
}

const heldTcp = (address: string, port: number, extra: Partial<PortHolderSpec> = {}): PortHolderSpec => ({
  proto: 'tcp',
  family: address.includes(':') ? 'inet6' : 'inet',
  address,
  port,
  reuseAddr: true,
  ...extra,
});

const SCENARIOS: Scenario[] = [
  { id: 'debian-default', title: "Debian's installed sshd_config: Port 22 on 0.0.0.0 and ::", lines: [], debian: true, recordTrace: true },
  {
    id: 'two-ports',
    title: 'Port 22 + Port 2222: the last port is bound first',
    lines: ['Port 22', 'Port 2222'],
    check: (o) => expect(o.attempts.map((a) => a.port)).toEqual([2222, 2222, 22, 22]),
  },
  { id: 'listen-loopback', title: 'ListenAddress 127.0.0.1 with the default port', lines: ['ListenAddress 127.0.0.1'] },
  {
    id: 'wildcard-and-specific',
    title: 'ListenAddress 0.0.0.0 + ListenAddress 127.0.0.1: 127.0.0.1 is bound first, 0.0.0.0 then fails (it listens)',
    lines: ['ListenAddress 0.0.0.0', 'ListenAddress 127.0.0.1'],
    recordTrace: true,
  },
  { id: 'address-family-inet', title: 'AddressFamily inet: 0.0.0.0 only', lines: ['AddressFamily inet'] },
  {
    id: 'argv-p',
    title: 'ssh.service runs sshd -D -p 2222: the config\'s Port 22 is ignored',
    lines: ['Port 22'],
    execStart: `${SSHD_BINARY} -D -p 2222`,
  },
  {
    id: 'argv-o-port',
    title: 'ssh.service runs sshd -D -o Port=2200: added to the config\'s Port 22',
    lines: ['Port 22'],
    execStart: `${SSHD_BINARY} -D -o Port=2200`,
  },
  {
    id: 'include-first-wins',
    title: 'Include sshd_config.d/*.conf before the main lines: Ports add up, the first AddressFamily wins',
    lines: ['Include /etc/ssh/sshd_config.d/*.conf', 'AddressFamily inet6', 'Port 22'],
    files: { 'etc/ssh/sshd_config.d/10-port.conf': ['Port 2222', 'AddressFamily inet'] },
  },
  {
    id: 'listen-address-ports',
    title: 'ListenAddress with its own port, [v6]:port and a bare IPv6 address',
    lines: ['Port 2224', 'ListenAddress 127.0.0.1:2200', 'ListenAddress [::1]:2201', 'ListenAddress ::1'],
  },
  { id: 'match-all-port', title: 'Port after "Match all" is accepted and counts', lines: ['Match all', 'Port 2222'] },
  {
    id: 'not-local',
    title: 'ListenAddress 192.0.2.99 (not a local address): nothing bound, "Cannot bind any address."',
    lines: ['ListenAddress 192.0.2.99'],
    sshdTestAccepts: true,
    recordTrace: true,
  },
  {
    id: 'held-v4',
    title: '0.0.0.0:22 held by another process: sshd keeps running on :: alone',
    lines: [],
    holders: [heldTcp('0.0.0.0', 22)],
    sshdTestAccepts: true,
    recordTrace: true,
  },
  {
    id: 'two-ports-one-held',
    title: 'Port 22 + Port 2222, 0.0.0.0:2222 held (no SO_REUSEADDR): the other three bind',
    lines: ['Port 22', 'Port 2222'],
    holders: [heldTcp('0.0.0.0', 2222, { reuseAddr: false })],
    sshdTestAccepts: true,
  },
  {
    id: 'held-all',
    title: 'AddressFamily inet and 0.0.0.0:22 held: no address left, sshd exits 255',
    lines: ['AddressFamily inet'],
    holders: [heldTcp('0.0.0.0', 22)],
    sshdTestAccepts: true,
    recordTrace: true,
  },
];

interface Observation {
  scenario: Scenario;
  root: string;
  wait: WaitResult;
  attempts: NetSocketAttempt[];
  logLines: string[];
  ss: { text: string; rows: SsRow[] };
  traceText: string;
  running: boolean;
  /** `sshd -t` in the same namespace, before sshd started: exit status and output. */
  sshdTest?: { code: number; output: string };
}


function normalizeOutcome(o: { ok: true } | { ok: false; call: string; errno?: string | number } | { ok: 'unknown' }) {
  if (o.ok === true) return { ok: true };
  if (o.ok === 'unknown') return { ok: 'unknown' };
  if (o.call === 'none') return { ok: false, call: 'none' };
  return { ok: false, call: o.call, errno: errnoName(o.errno ?? 'UNKNOWN') };
}

function splitExecStart(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

const env = checkOracleEnv([SSHD_BINARY, SSH_KEYGEN]);
if (!env.ok && !env.required) console.warn(`[sshd oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-sshd.sh)`);

describe.runIf(env.ok || env.required)('real sshd vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-sshd-'));

  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the sshd oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  async function sshdTest(run: NamespaceRun, argv: string[]): Promise<{ code: number; output: string }> {
    const r = await run.exec([...argv.filter((a) => a !== '-D'), '-t', '-h', HOST_KEY], 10_000);
    return { code: r.code, output: (r.stdout + r.stderr).trim() };
  }

  async function runScenario(sc: Scenario): Promise<Observation> {
    const root = join(tmpBase, sc.id, 'root');
    const workDir = join(tmpBase, sc.id, 'work');
    mkdirSync(workDir, { recursive: true });
    const conf: Parameters<typeof makeRoot>[1] = { lines: sc.lines };
    if (sc.debian) conf.debian = true;
    if (sc.files) conf.files = sc.files;
    if (sc.execStart) conf.unitExecStart = sc.execStart;
    makeRoot(root, conf);
    const argv = sc.execStart ? splitExecStart(sc.execStart) : [SSHD_BINARY, '-D'];
    const run = await startInNamespace({
      workDir,
      // No -e: sshd logs through syslog(3) to the harness's /dev/log receiver, as it would to the journal.
      command: [...argv, '-h', HOST_KEY],
      strace: true,
      bindMounts: [{ source: join(root, 'etc', 'ssh'), target: '/etc/ssh' }],
      tmpfs: ['/run'],
      mkdirs: ['/run/sshd'],
      holders: sc.holders,
    });
    try {
      const wait = await run.waitFor(sshdStartDone, { timeoutMs: 15_000, quietMs: 500 });
      const ss = await run.ss();
      const snap = run.snapshot();
      const obs: Observation = {
        scenario: sc,
        root,
        wait,
        attempts: boundNetSockets(socketsFromTrace(snap.trace)),
        logLines: snap.logLines,
        ss,
        traceText: snap.traceText,
        running: snap.commandExit === undefined,
      };
      if (sc.sshdTestAccepts) obs.sshdTest = await sshdTest(run, argv);
      if (RECORD) record(obs);
      return obs;
    } finally {
      await run.stop();
    }
  }

  const observe = observeOnce(runScenario);

  describe.concurrent.each(SCENARIOS)('$id: $title', (sc) => {
    it('real sshd: start observed', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.wait.timedOut, 'sshd did not finish starting in time').toBe(false);
      expect(o.attempts.length, 'sshd tried no address').toBeGreaterThan(0);
      expect(o.attempts.every((a) => a.outcome.ok !== 'unknown'), 'a bound socket got no listen()').toBe(true);
      const anyBound = o.attempts.some((a) => a.outcome.ok === true);
      // sshd.c: a failed bind is logged and skipped; only when none was bound: fatal "Cannot bind any address."
      expect(o.running, anyBound ? 'sshd exited although an address was bound' : 'sshd kept running with nothing bound').toBe(anyBound);
      if (!anyBound) {
        expect(o.logLines.some((l) => l.includes('Cannot bind any address.'))).toBe(true);
        expect(o.wait.commandExit).toBe(255);
      }
      sc.check?.(o);
    }, 30_000);

    it('bindcheck predicts the same sockets, options and outcomes', async () => {
      const o = await observe(sc);
      const extraLiveSockets = holdersAsLive(sc.holders);
      const report = await scan({ root: o.root, live: false, readers: [sshdReader], extraLiveSockets });
      const plan = report.daemons.find((d) => d.daemon === 'sshd');
      expect(plan, 'scan() found no sshd').toBeDefined();
      const predicted = plan!.sockets;
      const view = (s: { proto: string; family: string; address: string; port: number; outcome: unknown }) => ({
        proto: s.proto,
        family: s.family,
        address: s.address,
        port: s.port,
        outcome: normalizeOutcome(s.outcome as Outcome),
      });
      expect(predicted.map(view), 'sockets (in order) and outcomes').toEqual(o.attempts.map(view));
      expect(
        predicted.map((p) => ({ reuseAddr: p.reuseAddr, reusePort: p.reusePort, v6Only: p.v6Only ?? undefined })),
        'socket options sshd sets',
      ).toEqual(o.attempts.map((a) => ({ reuseAddr: a.socket.reuseAddr, reusePort: a.socket.reusePort, v6Only: a.socket.v6Only })));
      expect(report.findings.filter((f) => f.code.startsWith('BC0')), 'no input findings on a config sshd accepts').toEqual([]);
    }, 30_000);

    it("the recogniser maps sshd's own failure lines to the failed sockets", async () => {
      const o = await observe(sc);
      const events = o.logLines
        .map((l, i) => recogniseRaw(l, { file: 'syslog', line: i + 1 }, [sshdRecogniser])?.event)
        .filter((e) => e !== undefined);
      const failed = o.attempts.filter((a) => a.outcome.ok === false);
      expect(
        events.filter((e) => e.kind === 'bind-failed').map((e) => ({ family: e.family, address: e.address, port: e.port, errno: e.errno })),
      ).toEqual(failed.map((a) => ({ family: a.family, address: a.address, port: a.port, errno: (a.outcome as { errno: string }).errno })));
      expect(events.some((e) => e.kind === 'gave-up')).toBe(o.attempts.every((a) => a.outcome.ok === false));
    }, 30_000);

    if (sc.sshdTestAccepts) {
      it('sshd -t accepts this config although sshd cannot bind (some of) it', async () => {
        const o = await observe(sc);
        expect(o.sshdTest?.code, o.sshdTest?.output).toBe(0);
        expect(o.attempts.some((a) => a.outcome.ok === false), 'the real sshd fails a bind').toBe(true);
      }, 30_000);
    }
  });
});

function summarize(o: Observation): string {
  const lines = [`[sshd oracle] ${o.scenario.id} (${o.wait.elapsedMs} ms, exit ${o.wait.commandExit ?? 'none: running'})`];
  for (const a of o.attempts) {
    lines.push(`  ${attemptLine(a)}`);
  }
  for (const l of o.logLines) lines.push(`  log: ${l}`);
  for (const r of o.ss.rows) lines.push(`  ss: ${r.raw}`);
  if (o.sshdTest) lines.push(`  sshd -t: exit ${o.sshdTest.code} ${o.sshdTest.output}`);
  return lines.join('\n');
}

function record(o: Observation): void {
  const dir = join(RECORDED, o.scenario.id);
  mkdirSync(dir, { recursive: true });
  if (o.scenario.recordTrace) writeFileSync(join(dir, 'strace.txt'), o.traceText);
  writeFileSync(join(dir, 'syslog.txt'), o.logLines.join('\n') + (o.logLines.length ? '\n' : ''));
  writeFileSync(join(dir, 'ss-ltnp.txt'), o.ss.text);
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify(
      {
        title: o.scenario.title,
        config: o.scenario.debian ? "Debian 12's installed /etc/ssh/sshd_config" : ['# bindcheck integration scenario', 'UsePAM no', ...o.scenario.lines],
        files: o.scenario.files ?? {},
        execStart: o.scenario.execStart ?? null,
        holders: o.scenario.holders ?? [],
        note: 'strace.txt and syslog.txt are unedited outputs of the real `sshd -D` (Debian 12, OpenSSH 9.2p1) in a private namespace.',
        exitStatus: o.wait.commandExit ?? null,
        keptRunning: o.running,
        sshdTest: o.sshdTest ?? null,
        sockets: recordedSockets(o.attempts),
      },
      null,
      2,
    ) + '\n',
  );
}

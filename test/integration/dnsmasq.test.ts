/**
 * The real dnsmasq as bindcheck's oracle.
 *
 * For each scenario: write a dnsmasq.conf (and conf-dir files) into a temporary appliance root with a dnsmasq.service
 * whose ExecStart is the argv the suite runs; run that argv (`dnsmasq -k …`, or Debian's systemd-helper) in a private
 * network/mount/pid namespace under strace, the root's /etc/dnsmasq.conf and /etc/dnsmasq.d bind-mounted over the
 * host's, dnsmasq logging to the harness's /dev/log; wait until it signed on or died; and compare what it really did —
 * computed from the trace, never written down here — with what `scan({ root, live: false, readers: [dnsmasqReader] })`
 * predicts for that root.
 *
 * Prerequisites (root, unshare, strace, dnsmasq + dnsmasq-base: .ci/install-dnsmasq.sh) missing → skipped with the
 * reason, except under CI where that is a failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptLine, errnoName, holdersAsLive, observeOnce, recordedSockets } from './harness/oracle.js';
import { scan } from '../../src/index.js';
import { dnsmasqReader, readDnsmasq } from '../../src/readers/dnsmasq/index.js';
import { dnsmasqRecogniser } from '../../src/evidence/logs/recognisers/dnsmasq.js';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { RootFs } from '../../src/fs/root-fs.js';
import { checkOracleEnv } from './harness/env.js';
import { startInNamespace, type NamespaceRun, type PortHolderSpec, type SsRow, type WaitResult } from './harness/namespace.js';
import { boundNetSockets, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';
import { DEBIAN_CONF, DEBIAN_CONF_DIR, DNSMASQ_BINARY, dnsmasqStartDone, makeRoot } from './daemons/dnsmasq.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, 'recorded', 'dnsmasq');
/** Set BINDCHECK_RECORD=1 to (re)write test/integration/recorded/dnsmasq/<scenario>/ from this run. */
const RECORD = process.env.BINDCHECK_RECORD === '1';
const DEBIAN_HELPER = '/usr/share/dnsmasq/systemd-helper';
const DEBIAN_DEFAULTS = '/etc/default/dnsmasq';

interface Scenario {
  id: string;
  title: string;
  /** dnsmasq.conf lines. */
  lines: string[];
  /** Extra files in the root (path relative to the root → lines). */
  files?: Record<string, string[]>;
  /** Command-line options after `dnsmasq -k` (the unit's ExecStart carries them too). */
  args?: string[];
  /** Run Debian's own `systemd-helper exec` (its /etc/default/dnsmasq copied into the root): dnsmasq forks. */
  debianHelper?: boolean;
  holders?: PortHolderSpec[];
  /** `dnsmasq --test` accepts the config although dnsmasq cannot start with it (or serves nothing). */
  dnsmasqTestAccepts?: boolean;
  /** dnsmasq refuses the config before binding anything: this text and exit status. */
  refuses?: { message: string; exitStatus: number };
  recordTrace?: boolean;
  /** Ask dnsmasq for version.bind (CHAOS TXT, answered by dnsmasq itself) on 127.0.0.1 at this port, once started. */
  query?: number;
  check?: (o: Observation) => void;
}

const held = (proto: 'tcp' | 'udp', address: string, port: number, extra: Partial<PortHolderSpec> = {}): PortHolderSpec => ({
  proto,
  family: address.includes(':') ? 'inet6' : 'inet',
  address,
  port,
  ...extra,
});
/** systemd-resolved's stub listener: UDP and TCP 127.0.0.53:53, both with SO_REUSEADDR (resolved-dns-stub.c). */
const RESOLVED_STUB = [held('udp', '127.0.0.53', 53, { reuseAddr: true }), held('tcp', '127.0.0.53', 53, { reuseAddr: true })];

const SCENARIOS: Scenario[] = [
  { id: 'default-wildcard', title: 'empty config: UDP+TCP 0.0.0.0:53 then :::53 (IPV6_V6ONLY)', lines: [], recordTrace: true, query: 53 },
  {
    id: 'debian-unit',
    title: "Debian's dnsmasq.service (systemd-helper exec: -7 /etc/dnsmasq.d,.dpkg-dist,… --local-service) on Debian's dnsmasq.conf",
    lines: [],
    debianHelper: true,
    files: { 'etc/dnsmasq.d/10-x.conf.dpkg-dist': ['port=5999'], 'etc/dnsmasq.d/20-port.conf': ['port=5300'] },
  },
  { id: 'port-5353', title: 'port=5353', lines: ['port=5353'] },
  {
    id: 'resolved-stub-wildcard',
    title: "systemd-resolved's stub holds 127.0.0.53:53 (UDP+TCP): wildcard dnsmasq binds UDP 0.0.0.0:53, TCP fails, exit 2",
    lines: [],
    holders: RESOLVED_STUB,
    dnsmasqTestAccepts: true,
    recordTrace: true,
  },
  {
    id: 'resolved-stub-udp-no-reuse',
    title: 'UDP 127.0.0.53:53 held without SO_REUSEADDR: already the UDP 0.0.0.0:53 bind fails',
    lines: [],
    holders: [held('udp', '127.0.0.53', 53)],
    dnsmasqTestAccepts: true,
  },
  {
    id: 'resolved-stub-bind-interfaces',
    title: "the same stub, bind-interfaces: 127.0.0.1 and ::1 only, dnsmasq starts",
    lines: ['bind-interfaces'],
    holders: RESOLVED_STUB,
  },
  {
    id: 'listen-address-wildcard-held',
    title: 'listen-address=127.0.0.1 (no bind-interfaces) and TCP 0.0.0.0:53 held: dnsmasq still binds 0.0.0.0 and fails',
    lines: ['listen-address=127.0.0.1'],
    holders: [held('tcp', '0.0.0.0', 53, { reuseAddr: true })],
    dnsmasqTestAccepts: true,
  },
  {
    id: 'listen-address-bind-interfaces-held',
    title: 'listen-address=127.0.0.1 + bind-interfaces and TCP 0.0.0.0:53 held: TCP 127.0.0.1:53 fails',
    lines: ['listen-address=127.0.0.1', 'bind-interfaces'],
    holders: [held('tcp', '0.0.0.0', 53, { reuseAddr: true })],
    dnsmasqTestAccepts: true,
    recordTrace: true,
  },
  {
    id: 'not-local-wildcard',
    title: 'listen-address=192.0.2.99 (not local), wildcard mode: binds 0.0.0.0 and ::, starts, answers nobody (BC405)',
    lines: ['listen-address=192.0.2.99'],
    query: 53,
  },
  {
    id: 'wildcard-listen-address-local',
    title: 'listen-address=192.0.2.99 and 127.0.0.1, wildcard mode: answers on 127.0.0.1',
    lines: ['listen-address=192.0.2.99', 'listen-address=127.0.0.1'],
    query: 53,
  },
  {
    id: 'wildcard-interface-unknown',
    title: 'interface=eth9 (no such interface), wildcard mode: only a warning, lo is always added and answered',
    lines: ['interface=eth9'],
    query: 53,
  },
  {
    id: 'not-local-bind-interfaces',
    title: 'listen-address=192.0.2.99 + bind-interfaces: EADDRNOTAVAIL, exit 2',
    lines: ['listen-address=192.0.2.99', 'bind-interfaces'],
    dnsmasqTestAccepts: true,
    recordTrace: true,
  },
  {
    id: 'not-local-bind-dynamic',
    title: 'listen-address=192.0.2.99 + bind-dynamic: UDP and TCP fail with EADDRNOTAVAIL, dnsmasq keeps running',
    lines: ['listen-address=192.0.2.99', 'bind-dynamic'],
  },
  {
    id: 'duplicate-listen-address',
    title: 'listen-address=127.0.0.2 twice + bind-interfaces: the second UDP bind works (SO_REUSEADDR), the second TCP fails',
    lines: ['listen-address=127.0.0.2', 'listen-address=127.0.0.2', 'bind-interfaces'],
    dnsmasqTestAccepts: true,
  },
  { id: 'interface-lo', title: 'interface=lo + bind-interfaces: 127.0.0.1 then ::1', lines: ['interface=lo', 'bind-interfaces'] },
  { id: 'bind-dynamic', title: 'bind-dynamic alone: every address of lo', lines: ['bind-dynamic'] },
  {
    id: 'two-listen-addresses',
    title: 'listen-address 127.0.0.2, 127.0.0.1,::1, 127.0.0.3 + bind-interfaces: lo\'s first, then the others last-given first',
    lines: ['listen-address=127.0.0.2', 'listen-address=127.0.0.1,::1', 'listen-address=127.0.0.3', 'bind-interfaces'],
    check: (o) => expect(o.attempts.filter((a) => a.proto === 'udp').map((a) => a.address)).toEqual(['127.0.0.1', '::1', '127.0.0.3', '127.0.0.2']),
  },
  {
    id: 'conf-dir',
    title: 'conf-dir=/etc/dnsmasq.d,*.conf: 10-a.conf then 20-b.conf (sorted), x.conf.bak skipped',
    lines: ['conf-dir=/etc/dnsmasq.d,*.conf'],
    files: {
      'etc/dnsmasq.d/20-b.conf': ['listen-address=127.0.0.1'],
      'etc/dnsmasq.d/10-a.conf': ['port=5301', 'bind-interfaces'],
      'etc/dnsmasq.d/x.conf.bak': ['port=5999'],
    },
  },
  { id: 'port-0', title: 'port=0: no DNS socket at all, dnsmasq keeps running', lines: ['port=0'] },
  { id: 'argv-p', title: 'dnsmasq -k -p 5454 (from the unit): port 5454', lines: [], args: ['-p', '5454'] },
  { id: 'argv-p-file-wins', title: 'dnsmasq -k --port=5454 and port=5353 in the file: the file wins', lines: ['port=5353'], args: ['--port=5454'] },
  { id: 'argv-listen-address', title: 'dnsmasq -k -z -a 127.0.0.2 (from the unit)', lines: [], args: ['-z', '-a', '127.0.0.2'] },
  { id: 'dhcp-wildcard', title: 'dhcp-range: UDP 0.0.0.0:67 first (no SO_REUSEADDR), then DNS', lines: ['dhcp-range=192.0.2.50,192.0.2.60'] },
  { id: 'dhcp-bind-interfaces', title: 'dhcp-range + bind-interfaces: 0.0.0.0:67 with SO_REUSEPORT+SO_REUSEADDR', lines: ['dhcp-range=192.0.2.50,192.0.2.60', 'bind-interfaces'] },
  {
    id: 'dhcp-held',
    title: 'dhcp-range and UDP 0.0.0.0:67 held: "failed to bind DHCP server socket", exit 2, no DNS socket',
    lines: ['dhcp-range=192.0.2.50,192.0.2.60'],
    holders: [held('udp', '0.0.0.0', 67)],
    dnsmasqTestAccepts: true,
  },
  { id: 'tftp', title: 'enable-tftp: UDP port 69 after each address\'s DNS sockets', lines: ['enable-tftp', 'tftp-root=/tmp'] },
  { id: 'local-service-host', title: 'local-service=host: like interface=lo + bind-interfaces', lines: ['local-service=host'] },
  { id: 'except-lo-bind-interfaces', title: 'except-interface=lo + bind-interfaces: nothing to bind, dnsmasq runs', lines: ['except-interface=lo', 'bind-interfaces'] },
  {
    id: 'both-bind-modes',
    title: 'bind-interfaces and bind-dynamic: --test passes, dnsmasq refuses to start (exit 1)',
    lines: ['bind-interfaces', 'bind-dynamic'],
    dnsmasqTestAccepts: true,
    refuses: { message: 'cannot set --bind-interfaces and --bind-dynamic', exitStatus: 1 },
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
  /** dnsmasq is still running (its foreground process, or the daemon the helper forked). */
  running: boolean;
  dnsmasqTest?: { code: number; output: string };
  /** Whether dnsmasq answered the scenario's query to 127.0.0.1. */
  answered?: boolean;
}

/** One UDP DNS query (version.bind CHAOS TXT) to 127.0.0.1:PORT inside the namespace; prints ANSWERED or SILENT. */
const QUERY_PY = [
  'import socket, sys',
  "q = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x07version\\x04bind\\x00\\x00\\x10\\x00\\x03'",
  's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.5)',
  "s.sendto(q, ('127.0.0.1', int(sys.argv[1])))",
  'try:',
  "    s.recvfrom(512); print('ANSWERED')",
  'except socket.timeout:',
  "    print('SILENT')",
].join('\n');

const env = checkOracleEnv([DNSMASQ_BINARY, DEBIAN_HELPER], [DEBIAN_CONF, DEBIAN_CONF_DIR, DEBIAN_DEFAULTS]);
if (!env.ok && !env.required) console.warn(`[dnsmasq oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-dnsmasq.sh)`);

function argvOf(sc: Scenario): string[] {
  return sc.debianHelper ? [DEBIAN_HELPER, 'exec'] : [DNSMASQ_BINARY, '-k', ...(sc.args ?? [])];
}

describe.runIf(env.ok || env.required)('real dnsmasq vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-dnsmasq-'));

  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the dnsmasq oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  async function runScenario(sc: Scenario): Promise<Observation> {
    const root = join(tmpBase, sc.id, 'root');
    const workDir = join(tmpBase, sc.id, 'work');
    mkdirSync(workDir, { recursive: true });
    const argv = argvOf(sc);
    makeRoot(root, { lines: sc.lines, files: sc.files ?? {}, execStart: argv });
    const bindMounts = [
      { source: join(root, 'etc', 'dnsmasq.conf'), target: DEBIAN_CONF },
      { source: join(root, 'etc', 'dnsmasq.d'), target: DEBIAN_CONF_DIR },
    ];
    if (sc.debianHelper) {
      mkdirSync(join(root, 'etc', 'default'), { recursive: true });
      writeFileSync(join(root, 'etc', 'default', 'dnsmasq'), await readHost(DEBIAN_DEFAULTS));
      writeFileSync(join(root, 'etc', 'dnsmasq.conf'), await readHost(DEBIAN_CONF));
    }
    const run = await startInNamespace({ workDir, command: argv, strace: true, bindMounts, tmpfs: ['/run'], holders: sc.holders });
    try {
      const wait = await run.waitFor(dnsmasqStartDone, { timeoutMs: 15_000, quietMs: 500 });
      const ss = await run.ss(['-H', '-lnup', '-ltnp']);
      const snap = run.snapshot();
      const ps = await run.exec(['sh', '-c', 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = dnsmasq ] && echo $p; done']);
      const obs: Observation = {
        scenario: sc,
        root,
        wait,
        attempts: boundNetSockets(socketsFromTrace(snap.trace)),
        logLines: snap.logLines,
        ss,
        traceText: snap.traceText,
        running: ps.stdout.trim() !== '',
      };
      if (sc.dnsmasqTestAccepts) {
        const base = sc.debianHelper ? [DNSMASQ_BINARY] : argv.filter((a) => a !== '-k');
        const r = await run.exec([...base, '--test'], 10_000);
        obs.dnsmasqTest = { code: r.code, output: (r.stdout + r.stderr).trim() };
      }
      if (sc.query !== undefined) obs.answered = (await run.exec(['python3', '-c', QUERY_PY, String(sc.query)], 10_000)).stdout.includes('ANSWERED');
      if (RECORD) record(obs);
      return obs;
    } finally {
      await run.stop();
    }
  }

  const observe = observeOnce(runScenario);

  describe.concurrent.each(SCENARIOS)('$id: $title', (sc) => {
    it('real dnsmasq: start observed', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.wait.timedOut, 'dnsmasq did not finish starting in time').toBe(false);
      expect(o.attempts.every((a) => a.outcome.ok !== 'unknown'), 'a bound TCP socket got no listen()').toBe(true);
      if (sc.refuses) {
        expect(o.attempts).toEqual([]);
        expect(o.wait.commandExit).toBe(sc.refuses.exitStatus);
        expect(o.logLines.join('\n')).toContain(sc.refuses.message);
        return;
      }
      const fatal = o.attempts.some((a) => a.outcome.ok === false && !(sc.lines.includes('bind-dynamic') && errnoName((a.outcome as { errno: string }).errno) === 'EADDRNOTAVAIL'));
      // make_sock()/make_fd(): a failed socket is fatal at startup — die(), "FAILED to start up", exit 2.
      expect(o.running, fatal ? 'dnsmasq kept running after a fatal bind failure' : 'dnsmasq exited although nothing fatal happened').toBe(!fatal);
      if (fatal) {
        expect(o.wait.commandExit).toBe(2);
        expect(o.logLines.some((l) => l.includes('FAILED to start up'))).toBe(true);
      }
      sc.check?.(o);
    }, 30_000);

    it('bindcheck predicts the same sockets, options and outcomes', async () => {
      const o = await observe(sc);
      const extraLiveSockets = holdersAsLive(sc.holders);
      const report = await scan({ root: o.root, live: false, readers: [dnsmasqReader], extraLiveSockets });
      const plan = report.daemons.find((d) => d.daemon === 'dnsmasq');
      expect(plan, 'scan() found no dnsmasq').toBeDefined();
      if (sc.refuses) {
        const direct = readDnsmasq(new RootFs(o.root), { argv: argvOf(sc) });
        expect(direct.refusesToStart.map((r) => r.exitStatus)).toEqual([sc.refuses.exitStatus]);
        expect(report.findings.filter((f) => f.code === 'BC002').map((f) => f.message).join('\n')).toContain(sc.refuses.message);
        return;
      }
      const view = (s: { proto: string; family: string; address: string; port: number }) => `${s.proto}/${s.family} ${s.address}:${s.port}`;
      const outcome = (x: unknown) => {
        const v = x as { ok: unknown; call?: string; errno?: string | number };
        return v.ok === true ? 'ok' : `${v.call} ${v.errno !== undefined ? errnoName(v.errno) : ''}`.trim();
      };
      // Sockets predicted as never created (dnsmasq died first) must be absent from the trace: compare the rest.
      const reached = plan!.sockets.filter((s) => outcome(s.outcome) !== 'none');
      expect(reached.map((s) => `${view(s)} ${outcome(s.outcome)}`), 'sockets (in order) and outcomes').toEqual(o.attempts.map((a) => `${view(a)} ${outcome(a.outcome)}`));
      expect(
        reached.map((p) => ({ reuseAddr: p.reuseAddr, reusePort: p.reusePort, v6Only: p.v6Only ?? undefined })),
        'socket options dnsmasq sets',
      ).toEqual(o.attempts.map((a) => ({ reuseAddr: a.socket.reuseAddr, reusePort: a.socket.reusePort, v6Only: a.socket.v6Only })));
      expect(plan!.starts, 'whether dnsmasq starts').toBe(o.running);
      expect(report.findings.filter((f) => f.code.startsWith('BC0')), 'no input findings on a config dnsmasq accepts').toEqual([]);
      if (o.answered !== undefined) expect(report.findings.some((f) => f.code === 'BC405'), 'BC405 exactly when dnsmasq answers nobody').toBe(!o.answered);
    }, 30_000);

    it("the recogniser maps dnsmasq's own failure lines to the failed sockets", async () => {
      const o = await observe(sc);
      const events = o.logLines.map((l, i) => recogniseRaw(l, { file: 'syslog', line: i + 1 }, [dnsmasqRecogniser])?.event).filter((e) => e !== undefined);
      // bind-dynamic logs nothing for an address that is not local (yet).
      const logged = o.attempts.filter((a) => a.outcome.ok === false && !(sc.lines.includes('bind-dynamic') && errnoName((a.outcome as { errno: string }).errno) === 'EADDRNOTAVAIL'));
      const wildcard = !sc.lines.some((l) => /^bind-(interfaces|dynamic)|^local-service=host/.test(l)) && !(sc.args ?? []).includes('-z');
      expect(
        events.filter((e) => e.kind === 'bind-failed').map((e) => `${e.address ?? '*'}:${e.port ?? '*'} ${e.errno}`),
      ).toEqual(
        logged.map((a) => {
          const errno = errnoName((a.outcome as { errno: string }).errno);
          // "for port 53" in wildcard mode, "for ADDRESS" otherwise; the DHCP line names neither (0.0.0.0 implied).
          if (a.port === 67) return `0.0.0.0:* ${errno}`;
          return wildcard ? `*:${a.port} ${errno}` : `${a.address}:* ${errno}`;
        }),
      );
      expect(events.some((e) => e.kind === 'gave-up')).toBe(!o.running);
    }, 30_000);

    if (sc.dnsmasqTestAccepts) {
      it('dnsmasq --test accepts this config although dnsmasq cannot start with it', async () => {
        const o = await observe(sc);
        expect(o.dnsmasqTest?.code, o.dnsmasqTest?.output).toBe(0);
        expect(o.dnsmasqTest?.output).toContain('syntax check OK');
        expect(o.running, 'the real dnsmasq fails').toBe(false);
      }, 30_000);
    }
  });
});

async function readHost(p: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(p, 'utf8');
}

function summarize(o: Observation): string {
  const lines = [`[dnsmasq oracle] ${o.scenario.id} (${o.wait.elapsedMs} ms, exit ${o.wait.commandExit ?? 'none: running'}, running ${o.running})`];
  for (const a of o.attempts) lines.push(`  ${attemptLine(a)}`);
  for (const l of o.logLines) lines.push(`  log: ${l}`);
  for (const r of o.ss.rows) lines.push(`  ss: ${r.raw}`);
  if (o.dnsmasqTest) lines.push(`  dnsmasq --test: exit ${o.dnsmasqTest.code} ${o.dnsmasqTest.output}`);
  if (o.answered !== undefined) lines.push(`  query to 127.0.0.1: ${o.answered ? 'answered' : 'no reply'}`);
  return lines.join('\n');
}

function record(o: Observation): void {
  const dir = join(RECORDED, o.scenario.id);
  mkdirSync(dir, { recursive: true });
  if (o.scenario.recordTrace) writeFileSync(join(dir, 'strace.txt'), o.traceText);
  writeFileSync(join(dir, 'syslog.txt'), o.logLines.join('\n') + (o.logLines.length ? '\n' : ''));
  writeFileSync(join(dir, 'ss.txt'), o.ss.text);
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify(
      {
        title: o.scenario.title,
        config: o.scenario.debianHelper ? "Debian 12's installed /etc/dnsmasq.conf" : ['# bindcheck integration scenario', ...o.scenario.lines],
        files: o.scenario.files ?? {},
        argv: argvOf(o.scenario),
        holders: o.scenario.holders ?? [],
        note: 'strace.txt and syslog.txt are unedited outputs of the real dnsmasq (Debian 12, 2.90-4~deb12u2) in a private namespace.',
        exitStatus: o.wait.commandExit ?? null,
        keptRunning: o.running,
        dnsmasqTest: o.dnsmasqTest ?? null,
        answeredQueryTo127001: o.answered ?? null,
        sockets: recordedSockets(o.attempts),
      },
      null,
      2,
    ) + '\n',
  );
}

/**
 * Two real daemons on one port, in both start orders, as bindcheck's oracle for BC103.
 *
 * For each pair and order: one private network/mount/pid namespace, both daemons' configs bind-mounted over the
 * host's, the first daemon started in the background, the second started once the first listens on the port
 * (`ss`), all under one `strace -f`. Which one bound and which one failed (and with what errno and exit status) is
 * read from the trace by pid, and compared with bindcheck's pair replay (Analysis.pairConflicts) for that order.
 * Then the same configs get Debian's unit files (test/fixtures/boot-order/base) with a drop-in ordering one unit
 * after the other, and BC103 must give what was measured for that order: the daemon that really lost, or, when
 * the second carried on, a warning that only the reverse order (a restart) loses.
 *
 * The live side too: the namespace's /proc socket tables and fds are captured into the root, and a scan of it must
 * name the daemon that holds the port and the one failing.
 *
 * Pairs: nginx and apache2 on port 80 (each loses when second); sshd and nginx on port 80 (nginx loses after sshd;
 * sshd after nginx loses 0.0.0.0:80 but keeps [::]:80 and runs).
 *
 * Prerequisites (root, unshare, strace, nginx, apache2, sshd, dnsmasq, systemd-resolved: .ci/install-nginx.sh,
 * .ci/install-apache.sh, .ci/install-sshd.sh, .ci/install-dnsmasq.sh, .ci/install-resolved.sh) missing → skipped with
 * the reason, except under CI where that is a failure.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanInventory } from '../../src/run.js';
import type { DaemonReader } from '../../src/readers/index.js';
import { nginxReader } from '../../src/readers/nginx/index.js';
import { apacheReader } from '../../src/readers/apache/index.js';
import { checkOracleEnv } from './harness/env.js';
import { DEFAULT_STRACE_SYSCALLS, defaultHosts, startInNamespace, type Snapshot } from './harness/namespace.js';
import { attemptLine } from './harness/oracle.js';
import { boundNetSockets, firstAttempt, parseStrace, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';
import { NGINX_BINARY, NGINX_WRITABLE, nginxCommand, writeConf } from './daemons/nginx.js';
import { APACHE_BINARY, APACHE_COMMAND, APACHE_MKDIRS, APACHE_TMPFS, makeApacheRoot } from './daemons/apache.js';
import { HOST_KEY, makeRoot as makeSshdRoot, SSH_KEYGEN, SSHD_BINARY } from './daemons/sshd.js';
import { sshdReader } from '../../src/readers/sshd/index.js';
import { dnsmasqReader } from '../../src/readers/dnsmasq/index.js';
import { resolvedReader } from '../../src/readers/resolved/index.js';
import { DNSMASQ_BINARY } from './daemons/dnsmasq.js';
import { RESOLVED_BINARY, resolvedEnv, writeAccounts, writeResolvedRoot } from './daemons/resolved.js';

const BOOT_ORDER_BASE = join(import.meta.dirname, '..', 'fixtures', 'boot-order', 'base');

/** One daemon of a pair: how to lay its config into a root, mount it, and start it. */
interface PairDaemon {
  /** bindcheck's daemon name (DaemonPlan.daemon). */
  daemon: string;
  /** Its Debian unit (for the After= drop-in). */
  unit: string;
  reader: DaemonReader;
  binary: string;
  writeRoot(root: string): void;
  mounts(root: string): { source: string; target: string }[];
  tmpfs: string[];
  mkdirs: string[];
  command: string[];
}

const nginx: PairDaemon = {
  daemon: 'nginx',
  unit: 'nginx.service',
  reader: nginxReader,
  binary: NGINX_BINARY,
  writeRoot: (root) => void writeConf(root, { http: ['server {', '    listen 80;', '}'] }),
  mounts: (root) => [{ source: join(root, 'etc', 'nginx'), target: '/etc/nginx' }],
  tmpfs: NGINX_WRITABLE,
  mkdirs: ['/var/log/nginx', '/var/lib/nginx'],
  command: nginxCommand(),
};

const apache: PairDaemon = {
  daemon: 'apache',
  unit: 'apache2.service',
  reader: apacheReader,
  binary: APACHE_BINARY,
  writeRoot: (root) => makeApacheRoot(root, ['Listen 80']),
  mounts: (root) => [{ source: join(root, 'etc', 'apache2'), target: '/etc/apache2' }],
  tmpfs: APACHE_TMPFS,
  mkdirs: APACHE_MKDIRS,
  command: APACHE_COMMAND,
};

const sshd: PairDaemon = {
  daemon: 'sshd',
  unit: 'ssh.service',
  reader: sshdReader,
  binary: SSHD_BINARY,
  writeRoot: (root) => makeSshdRoot(root, { lines: ['Port 80'] }),
  mounts: (root) => [{ source: join(root, 'etc', 'ssh'), target: '/etc/ssh' }],
  tmpfs: ['/run'],
  mkdirs: ['/run/sshd'],
  command: [SSHD_BINARY, '-D', '-e', '-h', HOST_KEY],
};

const dnsmasq: PairDaemon = {
  daemon: 'dnsmasq',
  unit: 'dnsmasq.service',
  reader: dnsmasqReader,
  binary: DNSMASQ_BINARY,
  writeRoot: (root) => {
    mkdirSync(join(root, 'etc', 'dnsmasq.d'), { recursive: true });
    writeFileSync(join(root, 'etc', 'dnsmasq.conf'), '# the defaults: every address, port 53\n');
  },
  mounts: (root) => [
    { source: join(root, 'etc', 'dnsmasq.conf'), target: '/etc/dnsmasq.conf' },
    { source: join(root, 'etc', 'dnsmasq.d'), target: '/etc/dnsmasq.d' },
  ],
  tmpfs: [],
  mkdirs: [],
  // In the foreground, no pid file (the private /run below is resolved's).
  command: [DNSMASQ_BINARY, '-k', '--pid-file='],
};

const resolved: PairDaemon = {
  daemon: 'systemd-resolved',
  unit: 'systemd-resolved.service',
  reader: resolvedReader,
  binary: RESOLVED_BINARY,
  writeRoot: (root) => {
    writeResolvedRoot(root, { '/etc/systemd/resolved.conf': '[Resolve]\n' });
    writeAccounts(join(root, 'accounts'));
  },
  mounts: (root) => [
    { source: join(root, 'accounts', 'passwd'), target: '/etc/passwd' },
    { source: join(root, 'accounts', 'group'), target: '/etc/group' },
    { source: join(root, 'etc', 'systemd'), target: '/etc/systemd' },
    { source: join(root, 'usr', 'lib', 'systemd'), target: '/usr/lib/systemd' },
    { source: join(root, 'run'), target: '/run' },
  ],
  tmpfs: [],
  mkdirs: [],
  command: ['env', ...Object.entries(resolvedEnv()).map(([k, v]) => `${k}=${v}`), RESOLVED_BINARY],
};

interface Pair {
  id: string;
  title: string;
  a: PairDaemon;
  b: PairDaemon;
  port: number;
  /**
   * Whether an After= drop-in can order the pair either way. Debian's systemd-resolved.service is
   * DefaultDependencies=no and Before=sysinit.target, so `After=dnsmasq.service` on it would be an ordering cycle
   * (tested on the units themselves in test/checks/bc103-boot-order.test.ts).
   */
  dropIns?: false;
}

const PAIRS: Pair[] = [
  { id: 'nginx-apache-80', title: 'nginx (listen 80) and apache2 (Listen 80)', a: nginx, b: apache, port: 80 },
  // sshd binds 0.0.0.0 and [::] (IPV6_V6ONLY) and carries on with what it got: second after nginx it keeps [::]:80.
  { id: 'sshd-nginx-80', title: 'sshd (Port 80) and nginx (listen 80)', a: sshd, b: nginx, port: 80 },
  // The classic: dnsmasq on every address and resolved's stub on 127.0.0.53. dnsmasq second exits (status 2);
  // resolved second turns its stub off and runs on.
  { id: 'dnsmasq-resolved-53', title: 'dnsmasq (defaults) and systemd-resolved (its stub)', a: dnsmasq, b: resolved, port: 53, dropIns: false },
];

interface OrderObservation {
  /** The config root the daemons ran on, with the namespace's /proc socket tables and fds captured under proc/. */
  liveRoot: string;
  first: PairDaemon;
  second: PairDaemon;
  firstAttempts: NetSocketAttempt[];
  secondAttempts: NetSocketAttempt[];
  /** Exit status of the second daemon (undefined: still running when the test stopped it). */
  secondExit: number | undefined;
  /** Whether the first daemon was still listening on the port at the end. */
  firstListening: boolean;
  summary: string;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The script run under strace: first daemon in the background, wait for its listener, then the second. */
function pairScript(first: PairDaemon, second: PairDaemon, port: number, pidsFile: string): string {
  return [
    `P=${q(pidsFile)}`,
    `${first.command.map(q).join(' ')} > ${q(pidsFile + '.first.out')} 2>&1 &`,
    'echo "first $!" >> "$P"',
    // ss, not a sleep: the second daemon starts once the first really listens, as After= on a forking unit does.
    `i=0; until ss -Hltn "sport = :${port}" | grep -q LISTEN; do i=$((i+1)); [ $i -lt 150 ] || break; sleep 0.1; done`,
    'echo "first-listening $i" >> "$P"',
    `${second.command.map(q).join(' ')} > ${q(pidsFile + '.second.out')} 2>&1 &`,
    'S=$!; echo "second $S" >> "$P"',
    'wait $S; echo "second-exit $?" >> "$P"',
    'while :; do sleep 3600 & wait $!; done',
  ].join('\n');
}

/**
 * Copy what bindcheck's live reader reads from the namespace's /proc into DEST/proc: the socket tables (through
 * pid 1, as /proc/self does not resolve for a process outside the namespace's pid namespace) and, per process,
 * status, cmdline and its fds as symlinks (`socket:[inode]`).
 */
function captureScript(dest: string): string {
  return [
    `D=${q(dest)}/proc`,
    'mkdir -p "$D/net"',
    'for t in tcp tcp6 udp udp6; do cat /proc/1/net/$t > "$D/net/$t"; done',
    'for p in /proc/[0-9]*; do n=${p#/proc/}; mkdir -p "$D/$n/fd"',
    '  cat $p/status > "$D/$n/status" 2>/dev/null; cat $p/cmdline > "$D/$n/cmdline" 2>/dev/null',
    '  for f in $p/fd/*; do l=$(readlink $f) && ln -s "$l" "$D/$n/fd/${f##*/}"; done',
    'done',
  ].join('\n');
}

function pidsOf(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, Number(v));
  }
  return m;
}

const env = checkOracleEnv([NGINX_BINARY, APACHE_BINARY, SSHD_BINARY, SSH_KEYGEN, DNSMASQ_BINARY, RESOLVED_BINARY]);
if (!env.ok && !env.required) console.warn(`[cross-daemon oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-nginx.sh, .ci/install-apache.sh, .ci/install-sshd.sh, .ci/install-dnsmasq.sh, .ci/install-resolved.sh)`);

describe.runIf(env.ok || env.required)('two real daemons on one port vs bindcheck BC103', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-pair-'));
  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the cross-daemon oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  function configRoot(pair: Pair, name: string): string {
    const root = join(tmpBase, pair.id, name);
    mkdirSync(join(root, 'etc'), { recursive: true });
    pair.a.writeRoot(root);
    pair.b.writeRoot(root);
    writeFileSync(join(root, 'etc', 'hosts'), defaultHosts('bindcheck-test'));
    return root;
  }

  async function observe(pair: Pair, first: PairDaemon, second: PairDaemon): Promise<OrderObservation> {
    const root = configRoot(pair, `root-${first.daemon}-first`);
    const workDir = join(tmpBase, pair.id, `${first.daemon}-first`);
    mkdirSync(workDir, { recursive: true });
    const pidsFile = join(workDir, 'pair.txt');
    writeFileSync(pidsFile, '');
    const ns = await startInNamespace({
      workDir,
      command: ['sh', '-c', pairScript(first, second, pair.port, pidsFile)],
      // openat: apache2's second config pass starts at its second open of apache2.conf.
      strace: { syscalls: [...DEFAULT_STRACE_SYSCALLS, 'openat'] },
      hosts: defaultHosts('bindcheck-test'),
      bindMounts: [...first.mounts(root), ...second.mounts(root)],
      tmpfs: [...new Set([...first.tmpfs, ...second.tmpfs])],
      mkdirs: [...new Set([...first.mkdirs, ...second.mkdirs])],
    });
    try {
      // Over when the second daemon exited, or listens (a daemon that carries on without the lost socket).
      // nginx retries a failed bind() 4 more times, 500 ms apart, before it gives up: the quiet time waits it out.
      const done = (snap: Snapshot): boolean => {
        const p = pidsOf(readFileSync(pidsFile, 'utf8'));
        const second = p.get('second');
        return p.has('second-exit') || (second !== undefined && snap.trace.calls.some((c) => c.pid === second && c.syscall === 'listen' && c.result === 0));
      };
      await ns.waitFor(done, { timeoutMs: 20_000, quietMs: 1000 });
      const snap = ns.snapshot();
      const pids = pidsOf(readFileSync(pidsFile, 'utf8'));
      const ss = await ns.ss(['-H', '-ltnp']);
      const cap = await ns.exec(['sh', '-c', captureScript(root)]);
      if (cap.code !== 0) throw new Error(`capturing /proc failed: ${cap.stderr}`);
      const all = boundNetSockets(socketsFromTrace(parseStrace(snap.traceText))).sort((x, y) => (x.socket.bind?.line ?? 0) - (y.socket.bind?.line ?? 0));
      const firstPid = pids.get('first');
      const secondPid = pids.get('second');
      const firstAttempts = firstAttempt(all.filter((s) => s.socket.pid === firstPid));
      const secondAttempts = firstAttempt(all.filter((s) => s.socket.pid === secondPid));
      const secondExit = pids.get('second-exit');
      const firstListening = ss.rows.some((r) => r.port === pair.port && r.process.includes(`pid=${firstPid},`));
      const out = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8').trim() : '');
      const summary = [
        `${first.daemon} first (pid ${firstPid}):`,
        ...firstAttempts.map((x) => `  ${attemptLine(x)}`),
        `${second.daemon} second (pid ${secondPid}), exit ${secondExit ?? 'none (running)'}:`,
        ...secondAttempts.map((x) => `  ${attemptLine(x)}`),
        `  ${out(pidsFile + '.second.out').replace(/\n/g, '\n  ')}`,
        `listening at the end: ${ss.rows.map((r) => `${r.address}:${r.port} ${r.process}`).join('; ')}`,
      ].join('\n');
      return { liveRoot: root, first, second, firstAttempts, secondAttempts, secondExit, firstListening, summary };
    } finally {
      await ns.stop();
    }
  }

  const view = (x: { family: string; address: string; port: number; outcome: string }) => `${x.family} ${x.address}:${x.port} ${x.outcome}`;
  const observedView = (a: NetSocketAttempt): string => {
    const o = a.outcome;
    return view({ ...a, outcome: o.ok === true ? 'ok' : o.ok === 'unknown' ? 'unknown' : `${o.call} ${o.errno}` });
  };

  for (const pair of PAIRS) {
    describe(`${pair.id}: ${pair.title}`, () => {
      const seen = new Map<string, Promise<OrderObservation>>();
      const orderOf = (first: PairDaemon, second: PairDaemon): Promise<OrderObservation> => {
        let p = seen.get(first.daemon);
        if (!p) seen.set(first.daemon, (p = observe(pair, first, second)));
        return p;
      };

      for (const [first, second] of [
        [pair.a, pair.b],
        [pair.b, pair.a],
      ] as const) {
        it(`${first.daemon} first, then ${second.daemon}: bindcheck's pair replay predicts who binds and who fails`, async () => {
          const o = await orderOf(first, second);
          console.log(`[cross-daemon oracle] ${pair.id}\n${o.summary}`);
          // The measurement itself: the first daemon bound and still listens, the second failed and exited.
          expect(o.firstAttempts.length).toBeGreaterThan(0);
          expect(o.firstAttempts.every((x) => x.outcome.ok === true)).toBe(true);
          expect(o.firstListening).toBe(true);

          const root = configRoot(pair, `predict-${first.daemon}-first`);
          const r = scanInventory({ root, live: false, readers: [pair.a.reader, pair.b.reader] });
          const fi = r.inventory.daemons.findIndex((d) => d.daemon === first.daemon);
          const si = r.inventory.daemons.findIndex((d) => d.daemon === second.daemon);
          expect(fi).toBeGreaterThanOrEqual(0);
          expect(si).toBeGreaterThanOrEqual(0);
          // Each starts alone.
          expect(r.analysis.predictions[fi]?.starts).toBe(true);
          expect(r.analysis.predictions[si]?.starts).toBe(true);
          const plan = r.inventory.daemons[si]!;
          const pc = r.analysis.pairConflicts.find((c) => c.first === fi && c.second === si);
          // The second fails in this order exactly when bindcheck has a (full) pair conflict for it; it keeps
          // running without a socket it has alone exactly when the conflict is partial.
          const secondFailed = o.secondExit !== undefined && o.secondExit !== 0;
          const secondLostSome = !secondFailed && o.secondAttempts.some((x) => x.outcome.ok === false);
          expect(pc !== undefined && pc.partial !== true, 'full pair conflict').toBe(secondFailed);
          expect(pc?.partial === true, 'partial pair conflict').toBe(secondLostSome);
          if (!pc) return;
          const predicted = pc.outcomes
            .map((oc, i) => ({ oc: oc.ok === false && oc.call === 'none' && oc.closedByGroup ? ({ ok: true } as const) : oc, s: plan.sockets[i]! }))
            .filter(({ oc }) => !(oc.ok === false && oc.call === 'none'))
            .map(({ oc, s }) => view({ family: s.family, address: s.address, port: s.port, outcome: oc.ok === true ? 'ok' : `${oc.call} ${oc.ok === false && oc.call !== 'none' ? oc.errno : ''}` }));
          expect(predicted).toEqual(o.secondAttempts.map(observedView));
          if (pc.partial) expect(o.secondExit, 'the second keeps running').toBeUndefined();
          else if (plan.retry?.exitStatus !== undefined) expect(o.secondExit).toBe(plan.retry.exitStatus);
        });

        // Registered only where a drop-in can order the pair (no test is skipped).
        if (pair.dropIns !== false) it(`${second.unit} After=${first.unit} in a drop-in: BC103 gives the outcome measured for that order`, async () => {
          const o = await orderOf(first, second);
          const root = configRoot(pair, `units-${first.daemon}-first`);
          // Debian's unit files and targets (not the fixture's own daemon configs).
          cpSync(join(BOOT_ORDER_BASE, 'lib'), join(root, 'lib'), { recursive: true, verbatimSymlinks: true });
          cpSync(join(BOOT_ORDER_BASE, 'etc', 'systemd'), join(root, 'etc', 'systemd'), { recursive: true, verbatimSymlinks: true });
          const dropIn = join(root, 'etc', 'systemd', 'system', `${second.unit}.d`);
          mkdirSync(dropIn, { recursive: true });
          writeFileSync(join(dropIn, 'order.conf'), `[Unit]\nAfter=${first.unit}\n`);
          const r = scanInventory({ root, live: false, readers: [pair.a.reader, pair.b.reader] });
          const found = r.findings.filter((f) => f.code === 'BC103');
          expect(found).toHaveLength(1);
          const f = found[0]!;
          const failed = o.secondAttempts.find((x) => x.outcome.ok === false);
          if (o.secondExit !== undefined && o.secondExit !== 0) {
            // The second really lost: BC103 names it, with the drop-in as the reason, and its failing bind().
            expect(f.daemon).toBe(second.daemon);
            expect(f.severity).toBe('error');
            expect(f.message).toContain(`systemd starts ${first.unit} first (After=${first.unit} at /etc/systemd/system/${second.unit}.d/order.conf:2:1), so at boot ${second.daemon} fails`);
            expect(f.errno).toBe(failed && failed.outcome.ok === false ? failed.outcome.errno : undefined);
            expect(f.endpoint).toEqual({ proto: failed?.proto, address: failed?.address, port: failed?.port });
          } else {
            // The second carried on without the socket it lost (it kept another): a warning naming what it lost.
            expect(o.secondAttempts.some((x) => x.outcome.ok === true)).toBe(true);
            expect(f.severity).toBe('warning');
            expect(f.daemon).toBe(second.daemon);
            const lost = o.secondAttempts.filter((x) => x.outcome.ok === false).map((x) => (x.family === 'inet6' ? `tcp/[${x.address}]:${x.port}` : `tcp/${x.address}:${x.port}`));
            expect(f.message).toContain(`systemd starts ${first.unit} first (After=${first.unit} at /etc/systemd/system/${second.unit}.d/order.conf:2:1), so at boot ${second.daemon} runs without ${lost.join(', ')} if it starts after ${first.daemon}`);
          }
        });

        it(`${first.daemon} first, then ${second.daemon}, scanned live: BC103 names who holds the port now`, async () => {
          const o = await orderOf(first, second);
          const r = scanInventory({ root: o.liveRoot, readers: [pair.a.reader, pair.b.reader] });
          const onPort = r.inventory.liveSockets.filter((l) => l.port === pair.port && l.state === 'LISTEN');
          expect(onPort.length).toBeGreaterThan(0);
          expect(onPort.every((l) => l.owners.length > 0)).toBe(true);
          const found = r.findings.filter((f) => f.code === 'BC103');
          expect(found).toHaveLength(1);
          const f = found[0]!;
          console.log(`[cross-daemon oracle] ${pair.id} ${first.daemon} first, live scan: ${f.severity} ${f.message}`);
          // What the first holds on the contested port (resolved binds LLMNR's 5355 before its stub on 53).
          const held = o.firstAttempts.find((x) => x.proto === 'tcp' && x.port === pair.port)!;
          const endpoint = held.family === 'inet6' ? `tcp/[${held.address}]:${held.port}` : `tcp/${held.address}:${held.port}`;
          const comm = (s: string): string => r.inventory.daemons.find((d) => d.daemon === s)!.processNames.join('|');
          if (o.secondExit !== undefined && o.secondExit !== 0) {
            expect(f.daemon).toBe(second.daemon);
            expect(f.message).toMatch(new RegExp(`; ${first.daemon} holds ${endpoint.replace(/[[\]]/g, '\\$&')} now \\(pid \\d+ (${comm(first.daemon)})\\), ${second.daemon} is the one failing$`));
          } else if (o.secondAttempts.some((x) => x.port === pair.port && x.outcome.ok === true && x.proto === 'tcp')) {
            // The second carried on with what it could bind: both hold sockets on the port.
            expect(f.message).toMatch(new RegExp(`; both run now: .*${first.daemon} holds ${endpoint.replace(/[[\]]/g, '\\$&')} now`));
            expect(f.message).toContain(`${second.daemon} holds`);
          } else {
            // The second runs on, but with nothing on the port (resolved turned its stub off).
            expect(f.message).toMatch(new RegExp(`; ${first.daemon} holds ${endpoint.replace(/[[\]]/g, '\\$&')} now \\(pid \\d+ (${comm(first.daemon)})\\), ${second.daemon} runs without it$`));
          }
        });
      }
    });
  }
});

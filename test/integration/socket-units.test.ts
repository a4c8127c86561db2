/**
 * The real systemd as bindcheck's oracle for `.socket` units.
 *
 * pid 1 cannot be run here, but the same manager code runs as `systemd --user`: src/core/socket.c opens a socket
 * unit's ports the same way for both (socket_open_fds → socket_address_listen_in_cgroup → socket_address_listen),
 * with the same unit loader (load-fragment.c). For each scenario: write .socket/.service units and their
 * sockets.target.wants links into a temporary root's /etc/systemd/system, point the user manager's unit directory
 * ($XDG_CONFIG_HOME/systemd/user) at it, run Debian 12's /lib/systemd/systemd --user in a private
 * network/mount/pid namespace under strace — inside a cgroup namespace rooted at a child cgroup of ours with its own
 * cgroup2 mount, so the manager's cgroups stay below ours and are removed afterwards — with its log going through
 * syslog(3) to the harness's /dev/log receiver, wait for "Startup finished", and compare what it really bound
 * (computed from the trace, never written down here) with what `scanInventory({ root, readers: [socketUnitsReader] })`
 * predicts for that root.
 *
 * A second block runs `systemd-socket-activate -l VALUE` (which calls the same socket_address_parse() as the
 * manager, through make_socket_fd()) on address forms and compares the address it binds, or its parse error, with
 * parseListenAddress().
 *
 * Prerequisites (root, unshare, strace, systemd: .ci/install-socket-units.sh, a cgroup2 hierarchy) missing →
 * skipped with the reason, except under CI where that is a failure.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { systemdRecogniser } from '../../src/evidence/logs/recognisers/systemd.js';
import { scanInventory, type ScanResult } from '../../src/run.js';
import { parseListenAddress, socketUnitsReader } from '../../src/readers/socket-units/index.js';
import { checkOracleEnv } from './harness/env.js';
import { startInNamespace, SYSLOG_RECEIVER, type PortHolderSpec, type SsRow, type WaitResult } from './harness/namespace.js';
import { attemptLine, describeOutcome, errnoName, holdersAsLive, observeOnce } from './harness/oracle.js';
import { boundNetSockets, parseStrace, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';

const SYSTEMD = '/lib/systemd/systemd';
const SOCKET_ACTIVATE = '/usr/bin/systemd-socket-activate';
const UNIT_DIR = 'etc/systemd/system';

interface Scenario {
  id: string;
  title: string;
  /** Unit files by name (`web.socket` → text); `.socket` units are enabled unless listed in `disabled`. */
  units: Record<string, string>;
  disabled?: string[];
  holders?: PortHolderSpec[];
  /** Extra checks on what the real manager did. */
  check?: (o: Observation) => void;
}

const SERVICE = '[Service]\nExecStart=/bin/sleep 1000\n';

const SCENARIOS: Scenario[] = [
  {
    id: 'port-only',
    title: 'ListenStream=8081: one [::]:8081 socket, IPV6_V6ONLY left to the sysctl (dual-stack); a unit not wanted by anything is not started',
    units: {
      'port.socket': '[Socket]\nListenStream=8081\n',
      'port.service': SERVICE,
      'idle.socket': '[Socket]\nListenStream=8099\n',
      'idle.service': SERVICE,
    },
    disabled: ['idle.socket'],
    check: (o) => {
      expect(o.attempts.map((a) => `${a.family} ${a.address}:${a.port}`)).toEqual(['inet6 :::8081']);
      expect(o.ss.some((r) => r.port === 8081 && (r.address === '*' || r.address === '[::]'))).toBe(true);
    },
  },
  {
    id: 'ipv4-any',
    title: 'ListenStream=0.0.0.0:8082 and ListenDatagram=0.0.0.0:8082: IPv4 only, TCP and UDP',
    units: { 'v4.socket': '[Socket]\nListenStream=0.0.0.0:8082\nListenDatagram=0.0.0.0:8082\n', 'v4.service': SERVICE },
  },
  {
    id: 'ipv6-loopback',
    title: 'ListenStream=[::1]:8083 with BindIPv6Only=ipv6-only and ReusePort=yes: IPV6_V6ONLY=1, SO_REUSEPORT',
    units: { 'lo6.socket': '[Socket]\nListenStream=[::1]:8083\nBindIPv6Only=ipv6-only\nReusePort=yes\n', 'lo6.service': SERVICE },
  },
  {
    id: 'held',
    title: '0.0.0.0:8084 held by another process: bind fails with EADDRINUSE, the unit fails and never tries its second port',
    units: { 'held.socket': '[Unit]\nDescription=Held Test Socket\n[Socket]\nListenStream=0.0.0.0:8084\nListenStream=127.0.0.1:8085\n', 'held.service': SERVICE },
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 8084, reuseAddr: true }],
    check: (o) => {
      expect(o.unitStates['held.socket']).toEqual({ ActiveState: 'failed', Result: 'resources' });
      expect(o.logLines.some((l) => l.includes('held.socket: Failed to create listening socket (0.0.0.0:8084): Address already in use'))).toBe(true);
      // 252 names the unit and its Description (StatusUnitFormat=combined).
      expect(o.logLines.some((l) => l.includes('Failed to listen on held.socket - Held Test Socket.'))).toBe(true);
    },
  },
  {
    id: 'two-units-one-port',
    title: 'a.socket and b.socket both ListenStream=127.0.0.1:8086: whichever systemd starts second fails',
    units: {
      'a.socket': '[Socket]\nListenStream=127.0.0.1:8086\n',
      'a.service': SERVICE,
      'b.socket': '[Socket]\nListenStream=127.0.0.1:8086\n',
      'b.service': SERVICE,
    },
  },
  {
    id: 'datagram',
    title: 'ListenDatagram=8087 then ListenDatagram=127.0.0.1:8087: UDP with SO_REUSEADDR on both shares the port',
    units: { 'dns.socket': '[Socket]\nListenDatagram=8087\nListenDatagram=127.0.0.1:8087\n', 'dns.service': SERVICE },
  },
  {
    id: 'stream-wildcard-then-specific',
    title: 'ListenStream=8088 then ListenStream=127.0.0.1:8088: the listening [::] socket blocks 127.0.0.1 despite SO_REUSEADDR',
    units: { 'ws.socket': '[Socket]\nListenStream=8088\nListenStream=127.0.0.1:8088\n', 'ws.service': SERVICE },
    check: (o) => expect(o.unitStates['ws.socket']?.ActiveState).toBe('failed'),
  },
  {
    id: 'dropin-reset-freebind',
    title: 'a drop-in empties ListenStream= and adds a non-local address with FreeBind=yes; octal port 010 is 8',
    units: {
      'fb.socket': '[Socket]\nListenStream=8089\n',
      'fb.socket.d/override.conf': '[Socket]\nListenStream=\nListenStream=192.0.2.99:8090\nListenStream=127.0.0.1:010\nFreeBind=yes\n',
      'fb.service': SERVICE,
    },
  },
  {
    id: 'no-service',
    title: 'orphan.socket without orphan.service: systemd refuses to start it and binds nothing',
    units: { 'orphan.socket': '[Socket]\nListenStream=8091\n', 'other.socket': '[Socket]\nListenStream=127.0.0.1:8092\n', 'other.service': SERVICE },
    check: (o) => {
      expect(o.attempts.map((a) => a.port)).toEqual([8092]);
      expect(o.logLines.some((l) => l.includes('Socket service orphan.service not loaded, refusing.'))).toBe(true);
    },
  },
];

interface Observation {
  scenario: Scenario;
  root: string;
  wait: WaitResult;
  attempts: NetSocketAttempt[];
  logLines: string[];
  ss: SsRow[];
  unitStates: Record<string, Record<string, string>>;
}

/** Our own cgroup2 directory, under which each run gets a child that its cgroup namespace is rooted at. */
function cgroupParent(): string | undefined {
  const own = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))
    ?.slice(3);
  if (own === undefined) return undefined;
  for (const base of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    if (existsSync(join(base, 'cgroup.procs')) && existsSync(join(base, 'cgroup.controllers'))) return join(base, own);
  }
  return undefined;
}

function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) removeCgroup(p);
  }
  rmdirSync(dir);
}

/**
 * The manager in its own cgroup namespace, with /run private. It logs to the journal (`--log-target=syslog` is
 * ignored by 252, and /dev/console must be a terminal): the harness's datagram receiver stands in for journald at
 * /run/systemd/journal/socket and writes each native-protocol datagram (KEY=VALUE lines) as one line.
 */
const WRAPPER = `#!/bin/sh
set -eu
cg="$1"
mkdir "$cg"
echo $$ > "$cg/cgroup.procs"
exec unshare --cgroup sh -c '
  set -eu
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
  mount -t tmpfs -o mode=755 tmpfs /run
  mkdir -p /run/systemd/system /run/systemd/journal /run/user/0
  chmod 700 /run/user/0
  python3 "$2" /run/systemd/journal/socket "$1" > /run/journal.ready 2>&1 &
  i=0; while ! grep -q READY /run/journal.ready; do i=$((i+1)); [ $i -lt 200 ] || exit 91; sleep 0.05; done
  XDG_RUNTIME_DIR=/run/user/0 XDG_CONFIG_HOME="$0" exec ${SYSTEMD} --user --log-target=journal --log-level=info
' "$2" "$3" "$4"
`;

/** The MESSAGE= of each journal datagram the receiver wrote (its newlines written as a literal backslash-n). */
function journalMessages(file: string): string[] {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const msg = line.split('\\n').find((f) => f.startsWith('MESSAGE='));
    if (msg !== undefined) out.push(msg.slice('MESSAGE='.length));
  }
  return out;
}

function writeRoot(root: string, sc: Scenario): void {
  const dir = join(root, UNIT_DIR);
  for (const [name, text] of Object.entries(sc.units)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  mkdirSync(join(dir, 'sockets.target.wants'), { recursive: true });
  for (const name of Object.keys(sc.units)) {
    if (!/^[^/]+\.socket$/.test(name) || sc.disabled?.includes(name)) continue;
    // Relative, so the link resolves in the root and in the user manager's unit directory alike.
    symlinkSync(`../${name}`, join(dir, 'sockets.target.wants', name));
  }
}

const env = checkOracleEnv([SYSTEMD, SOCKET_ACTIVATE]);
const CGROUP_PARENT = cgroupParent();
if (env.ok && CGROUP_PARENT === undefined) {
  env.ok = false;
  env.reasons.push('no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified');
}
if (!env.ok && !env.required) console.warn(`[systemd socket oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-socket-units.sh)`);

const key = (x: { proto: string; family: string; address: string; port: number }) => `${x.proto}/${x.family}/${x.address}:${x.port}`;
const outcomeText = (o: { ok: boolean | 'unknown'; call?: string; errno?: string | number }) =>
  o.ok === true ? 'ok' : o.ok === 'unknown' ? 'unknown' : `${o.call} ${errnoName(o.errno ?? 'UNKNOWN')}`;

describe.runIf(env.ok || env.required)('real systemd (.socket units) vs bindcheck', () => {
  // Made in beforeAll, so a run that filters these tests out leaves no directory behind.
  let tmpBase = '';

  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the systemd socket-unit oracle, but: ${env.reasons.join('; ')}`);
    tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-sockunits-'));
  });
  afterAll(() => {
    if (tmpBase !== '' && process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  async function runScenario(sc: Scenario): Promise<Observation> {
    const base = join(tmpBase, sc.id);
    const root = join(base, 'root');
    const workDir = join(base, 'work');
    mkdirSync(workDir, { recursive: true });
    writeRoot(root, sc);
    const xdg = join(base, 'xdg');
    mkdirSync(join(xdg, 'systemd'), { recursive: true });
    symlinkSync(join(root, UNIT_DIR), join(xdg, 'systemd', 'user'));
    writeFileSync(join(workDir, 'manager.sh'), WRAPPER);
    const cgroup = join(CGROUP_PARENT as string, `bindcheck-it-${process.pid}-${sc.id}`);
    const journalFile = join(workDir, 'journal.txt');
    const run = await startInNamespace({ workDir, command: ['sh', join(workDir, 'manager.sh'), cgroup, xdg, journalFile, SYSLOG_RECEIVER], strace: true, holders: sc.holders });
    try {
      const wait = await run.waitFor(() => journalMessages(journalFile).some((l) => l.includes('Startup finished')), { timeoutMs: 30_000, quietMs: 700 });
      const ss = await run.ss(['-H', '-ltunp']);
      const units = Object.keys(sc.units).filter((n) => /^[^/]+\.socket$/.test(n));
      // The manager may still be busy right after startup (its bus answers "Transport endpoint is not connected").
      let show = { code: 1, stdout: '', stderr: '' };
      for (let i = 0; i < 10 && show.code !== 0; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 500));
        // From inside the pid namespace too (its /proc is mounted there, so its pid 1 is the namespace's): a peer
        // from outside has no pid there, and the manager may drop such a bus connection.
        show = await run.exec(['nsenter', '-t', '1', '-p', '--', 'env', 'XDG_RUNTIME_DIR=/run/user/0', 'systemctl', '--user', 'show', '--property=Id,ActiveState,Result', ...units]);
      }
      // Without the manager's own word on its units, every "which units failed" comparison below would be vacuous.
      if (show.code !== 0) throw new Error(`[systemd socket oracle] ${sc.id}: systemctl --user show: exit ${show.code} ${show.stderr.trim()}`);
      const unitStates: Observation['unitStates'] = {};
      for (const block of show.stdout.split('\n\n')) {
        const props = Object.fromEntries(block.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
        const { Id: id, ...rest } = props;
        if (id) unitStates[id] = rest;
      }
      const snap = run.snapshot();
      return { scenario: sc, root, wait, attempts: boundNetSockets(socketsFromTrace(snap.trace)), logLines: journalMessages(journalFile), ss: ss.rows, unitStates };
    } finally {
      await run.stop();
      removeCgroup(cgroup);
    }
  }

  const observe = observeOnce(runScenario);

  function predict(o: Observation): ScanResult {
    const extraLiveSockets = holdersAsLive(o.scenario.holders);
    return scanInventory({ root: o.root, live: false, readers: [socketUnitsReader], extraLiveSockets });
  }

  describe.concurrent.each(SCENARIOS)('$id: $title', (sc) => {
    it('real systemd: start observed', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.wait.timedOut, 'the manager did not finish starting in time').toBe(false);
      expect(o.attempts.every((a) => a.outcome.ok !== 'unknown'), 'a bound stream socket got no listen()').toBe(true);
      for (const a of o.attempts) {
        // socket_address_listen(): SO_REUSEADDR on every socket, before bind().
        expect(a.socket.reuseAddr, attemptLine(a)).toBe(true);
      }
      sc.check?.(o);
    }, 60_000);

    it('bindcheck predicts the same sockets, options and outcomes', async () => {
      const o = await observe(sc);
      const r = predict(o);
      const inv = r.inventory;
      const failedUnits = Object.entries(o.unitStates)
        .filter(([, st]) => st.ActiveState === 'failed')
        .map(([u]) => u);
      // Which of two units on one port systemd starts first is not defined: the one it started second is the one
      // whose unit failed. bindcheck predicts each unit alone, and the pair as a conflict in both orders.
      const predicted = inv.daemons.flatMap((plan, d) => {
        const alone = r.analysis.predictions[d]?.outcomes ?? [];
        const lost = r.analysis.pairConflicts.find((c) => c.second === d && failedUnits.includes(plan.units[0] as string));
        const outcomes = lost ? lost.outcomes : alone;
        return plan.sockets.map((s, i) => ({ unit: plan.units[0], s, outcome: outcomes[i] }));
      });
      const tried = predicted.filter((p) => !(p.outcome && p.outcome.ok === false && p.outcome.call === 'none'));
      const view = (x: { proto: string; family: string; address: string; port: number }, outcome: string) => `${key(x)} ${outcome}`;
      expect(
        tried.map((p) => view(p.s, p.outcome ? outcomeText(p.outcome as never) : 'missing')).sort(),
        'sockets and outcomes',
      ).toEqual(o.attempts.map((a) => view(a, outcomeText(a.outcome as never))).sort());
      const opts = (x: { reuseAddr: boolean; reusePort: boolean; v6Only?: boolean | undefined }) => `${x.reuseAddr} ${x.reusePort} ${x.v6Only ?? '-'}`;
      expect(
        tried.map((p) => `${key(p.s)} ${opts(p.s)}`).sort(),
        'socket options (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY)',
      ).toEqual(o.attempts.map((a) => `${key(a)} ${opts(a.socket)}`).sort());
      // Within a unit, systemd opens the ports in config order.
      for (const plan of inv.daemons) {
        const others = inv.daemons.filter((p) => p !== plan).flatMap((p) => p.sockets.map(key));
        const keys = plan.sockets.map(key).filter((k) => !others.includes(k));
        const seen = o.attempts.map(key).filter((k) => keys.includes(k));
        expect(seen, `${plan.units[0]}: order`).toEqual(keys.slice(0, seen.length));
      }
      // A unit that fails is the unit bindcheck says does not start (alone, or second of a pair).
      const predictedFailed = inv.daemons
        .filter((plan, d) => !r.analysis.predictions[d]?.starts || r.analysis.pairConflicts.some((c) => c.second === d && failedUnits.includes(plan.units[0] as string)))
        .map((p) => p.units[0]);
      expect(predictedFailed.sort(), 'failed units').toEqual(failedUnits.sort());
      if (sc.id === 'two-units-one-port') {
        expect(r.analysis.pairConflicts.length, 'the pair conflicts in both orders').toBe(2);
        expect(failedUnits.length).toBe(1);
      }
    }, 60_000);

    it('systemd-analyze verify accepts the units even where the manager fails one: bindcheck does not', async () => {
      const o = await observe(sc);
      const failed = Object.entries(o.unitStates).filter(([, st]) => st.ActiveState === 'failed').map(([u]) => u);
      const dir = join(o.root, UNIT_DIR);
      const files = readdirSync(dir).filter((n) => /\.(socket|service)$/.test(n)).map((n) => join(dir, n));
      const verify = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile('systemd-analyze', ['verify', '--man=no', ...files], { timeout: 60_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, out: `${stdout}${stderr}` });
        });
      });
      if (failed.length === 0) return;
      // The real manager failed these units at start; its own static check has nothing to say about them.
      expect(verify.code, verify.out).toBe(0);
      const r = predict(o);
      const predictedFailing = r.inventory.daemons.filter((p, d) => !r.analysis.predictions[d]?.starts || r.analysis.pairConflicts.some((c) => c.second === d)).map((p) => p.units[0]);
      expect(predictedFailing.length, 'bindcheck predicts a unit that cannot start').toBeGreaterThan(0);
    }, 60_000);

    it("the recogniser maps systemd's failure lines to the failed sockets", async () => {
      const o = await observe(sc);
      // As journalctl (or a syslog file) shows the manager's MESSAGE= fields: with the `systemd[PID]: ` tag.
      const events = o.logLines
        .map((l, i) => recogniseRaw(`Nov 27 07:00:00 host systemd[1]: ${l}`, { file: 'journal', line: i + 1 }, [systemdRecogniser])?.event)
        .filter((e) => e !== undefined);
      const failed = o.attempts.filter((a) => a.outcome.ok === false);
      expect(
        events.filter((e) => e.kind === 'bind-error').map((e) => `${e.family} ${e.address}:${e.port} ${e.errno}`),
      ).toEqual(failed.map((a) => `${a.family} ${a.address}:${a.port} ${errnoName((a.outcome as { errno: string }).errno)}`));
      const failedUnits = Object.entries(o.unitStates)
        .filter(([, st]) => st.ActiveState === 'failed')
        .map(([u]) => u);
      expect(events.filter((e) => e.kind === 'gave-up').map((e) => e.unit).sort()).toEqual(failedUnits.sort());
    }, 60_000);
  });
});

/** Address forms through systemd-socket-activate: the bind() it makes, or the parse error it reports. */
const FORMS = ['8100', '0.0.0.0:8101', '[::1]:8102', '127.0.0.1:8103', '010', '0x1f90', '+8104', '080', '65536', '0', '::1', '127.0.0.1', 'localhost:80', '[::1]8105', '1.2.3.4:80:90', '[::ffff:127.0.0.1]:8106', '[::1]:8107#name', ' 8108'];

describe.runIf(env.ok || env.required)('systemd-socket-activate (socket_address_parse) vs parseListenAddress', () => {
  let tmpBase = '';
  beforeAll(() => {
    tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-sockactivate-'));
  });
  afterAll(() => {
    if (tmpBase !== '') rmSync(tmpBase, { recursive: true, force: true });
  });

  async function activate(value: string, i: number): Promise<{ bind?: string; error?: string }> {
    const trace = join(tmpBase, `trace-${i}.txt`);
    const out = await new Promise<string>((resolve) => {
      // systemd-socket-activate waits for a connection after binding; `timeout` ends it. The namespace has only lo.
      execFile(
        'timeout',
        ['3', 'unshare', '--net', 'sh', '-c', 'ip link set lo up && exec strace -f -e trace=bind -o "$0" "$1" -l "$2" /bin/true', trace, SOCKET_ACTIVATE, value],
        { timeout: 10_000 },
        (_err, stdout, stderr) => resolve(stdout + stderr),
      );
    });
    const binds = parseStrace(existsSync(trace) ? readFileSync(trace, 'utf8') : '').calls.filter((c) => c.syscall === 'bind');
    const m = /Failed to parse socket address "[^"]*": (.+)/.exec(out);
    if (m) return { error: m[1] as string };
    const b = binds[0];
    if (!b) return { error: `no bind and no parse error: ${out.trim()}` };
    const fam = /sa_family=(AF_INET6?)/.exec(b.args)?.[1];
    const port = /sin6?_port=htons\((\d+)\)/.exec(b.args)?.[1];
    const addr = /inet_(?:pton\(AF_INET6, |addr\()"([^"]+)"/.exec(b.args)?.[1];
    return { bind: `${fam === 'AF_INET6' ? 'inet6' : 'inet'} ${addr}:${port}` };
  }

  it.concurrent.each(FORMS.map((f, i) => [f, i] as const))('ListenStream=%j', async (value, i) => {
    const real = await activate(value, i);
    const ours = parseListenAddress(value, true);
    if (real.bind !== undefined) {
      expect(ours.kind, `systemd binds ${real.bind}`).toBe('inet');
      if (ours.kind === 'inet') expect(`${ours.family} ${ours.address}:${ours.port}`).toBe(real.bind);
    } else {
      expect(real.error, 'systemd refused it').toMatch(/Invalid argument|Numerical result out of range/);
      expect(ours.kind, `systemd: ${real.error}`).toBe('invalid');
      if (ours.kind === 'invalid') expect(ours.errno).toBe(real.error?.startsWith('Numerical') ? 'ERANGE' : 'EINVAL');
    }
  }, 20_000);
});

function summarize(o: Observation): string {
  const lines = [`[systemd socket oracle] ${o.scenario.id} (${o.wait.elapsedMs} ms)`];
  for (const a of o.attempts) lines.push(`  ${attemptLine(a)} ${describeOutcome(a)}`);
  for (const l of o.logLines.filter((x) => /socket|Listen/i.test(x))) lines.push(`  log: ${l}`);
  for (const r of o.ss) lines.push(`  ss: ${r.raw}`);
  lines.push(`  units: ${JSON.stringify(o.unitStates)}`);
  return lines.join('\n');
}

/**
 * The real haproxy as bindcheck's oracle.
 *
 * For each scenario: write haproxy.cfg (and maybe more files, a systemd unit) into a temporary appliance root, or
 * copy Debian's installed /etc/haproxy, run the real `haproxy -db -f …` in a private network/mount/pid namespace
 * under strace (the root's /etc/haproxy bind-mounted over the host's, a tmpfs over /run), wait until it has made
 * its single pass over the listeners (it exits 1 after the pass when one failed), and compare what it really did —
 * computed from the trace — with what `scan({ root, live: false, readers: [haproxyReader] })` predicts. Where
 * `haproxy -c` accepts a config haproxy cannot start with, the real `haproxy -c` is run too.
 *
 * Prerequisites (root, unshare, strace, haproxy: .ci/install-haproxy.sh) missing → skipped with the reason, except
 * under CI where that is a failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptLine, holdersAsLive, observeOnce, readLines } from './harness/oracle.js';
import { scan } from '../../src/index.js';
import { haproxyReader, readHaproxy } from '../../src/readers/haproxy/index.js';
import { RootFs } from '../../src/fs/root-fs.js';
import { haproxyRecogniser } from '../../src/evidence/logs/recognisers/haproxy.js';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { checkOracleEnv } from './harness/env.js';
import { defaultHosts, startInNamespace, type PortHolderSpec, type WaitResult } from './harness/namespace.js';
import { boundNetSockets, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';
import { copyDebianConfig, DEFAULTS, HAPROXY_BINARY, HAPROXY_WRITABLE, haproxyCommand, haproxyStartDone, writeConfigs } from './daemons/haproxy.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, 'recorded', 'haproxy');
/** Set BINDCHECK_RECORD=1 to (re)write test/integration/recorded/haproxy/<scenario>/ from this run. */
const RECORD = process.env.BINDCHECK_RECORD === '1';
const CFG = '/etc/haproxy/haproxy.cfg';

interface Scenario {
  id: string;
  title: string;
  /** Files under /etc/haproxy; `haproxy.cfg` gets DEFAULTS after its own global lines unless `raw`. */
  files?: Record<string, string[]>;
  debian?: boolean;
  /** -f arguments (also written into the root's haproxy.service ExecStart, which bindcheck reads). */
  fArgs?: string[];
  holders?: PortHolderSpec[];
  /** Run haproxy as this uid/gid (setpriv), with a unit saying User= so bindcheck knows. */
  asUid?: number;
  /** Environment for the real haproxy (bindcheck cannot see it). */
  env?: Record<string, string>;
  /** Addresses (`ADDR:PORT`) the real haproxy binds that bindcheck refuses to guess (environment variables). */
  unplanned?: string[];
  /** Run as Debian's unit does, `haproxy -Ws` (master-worker) instead of `-db`. */
  masterWorker?: boolean;
  /** `haproxy -c` accepts the config although haproxy cannot start with it. */
  checkAccepts?: boolean;
  /** Finding codes bindcheck must report (beyond the socket comparison). */
  findings?: string[];
}

const fe = (name: string, ...binds: string[]) => [`frontend ${name}`, ...binds.map((b) => `    ${b}`)];
const cfg = (...lines: string[]) => ({ 'haproxy.cfg': [...DEFAULTS, ...lines] });
const withGlobal = (global: string[], ...lines: string[]) => ({ 'haproxy.cfg': ['global', ...global.map((g) => `    ${g}`), ...DEFAULTS, ...lines] });

const SCENARIOS: Scenario[] = [
  { id: 'debian-default', title: "Debian's installed /etc/haproxy: no frontend, only the UNIX stats socket", debian: true },
  { id: 'single-bind', title: 'bind :80: 0.0.0.0:80 with SO_REUSEADDR and SO_REUSEPORT', files: cfg(...fe('web', 'bind :80')) },
  {
    id: 'several-in-one-line',
    title: 'bind 127.0.0.1:80,127.0.0.1:81,:::82 and bind :8000-8002: one socket per address and port, IPv6 first',
    files: cfg(...fe('web', 'bind 127.0.0.1:80,127.0.0.1:81,:::82', 'bind :8000-8002')),
  },
  {
    id: 'v6-dual-stack',
    title: 'bind :::80 (IPV6_V6ONLY=0) and bind :80: both bound, SO_REUSEPORT lets them share',
    files: cfg(...fe('web', 'bind :80', 'bind :::80', 'bind [::1]:81 v6only', 'bind ipv6@:82 v4v6')),
  },
  {
    id: 'noreuseport-dual-stack',
    title: 'noreuseport: bind :::80 takes 0.0.0.0:80 too, bind :80 fails; :::81 v6only leaves :81 free',
    files: withGlobal(['noreuseport'], ...fe('web', 'bind :80', 'bind :::80', 'bind :::81 v6only', 'bind :81')),
    checkAccepts: true,
    findings: ['BC101'],
  },
  {
    id: 'wildcard-and-specific',
    title: 'bind :80 and bind 127.0.0.1:80 in two frontends: both bound (SO_REUSEPORT)',
    files: cfg(...fe('any', 'bind :80'), ...fe('local', 'bind 127.0.0.1:80')),
  },
  {
    id: 'wildcard-and-specific-noreuseport',
    title: 'noreuseport: bind :80 then bind 127.0.0.1:80: the specific bind() fails',
    files: withGlobal(['noreuseport'], ...fe('any', 'bind :80'), ...fe('local', 'bind 127.0.0.1:80')),
    checkAccepts: true,
  },
  {
    id: 'duplicate-bind',
    title: 'bind :80 in two frontends: both bind, the kernel splits connections (BC401)',
    files: cfg(...fe('a', 'bind :80'), ...fe('b', 'bind :80')),
    findings: ['BC401'],
  },
  {
    id: 'held-port',
    title: '0.0.0.0:80 held by a listener without SO_REUSEPORT: EADDRINUSE, haproxy tries :8080 then exits 1',
    files: cfg(...fe('web', 'bind :80', 'bind :8080')),
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, reuseAddr: true }],
    checkAccepts: true,
    findings: ['BC201'],
  },
  {
    id: 'held-port-reuseport',
    title: '0.0.0.0:80 held with SO_REUSEPORT by the same uid: haproxy joins it',
    files: cfg(...fe('web', 'bind :80')),
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, reuseAddr: true, reusePort: true }],
  },
  {
    id: 'not-local',
    title: 'bind 192.0.2.99:80 and [2001:db8::99]:80 (not local): EADDRNOTAVAIL for both, then exit 1',
    files: cfg(...fe('web', 'bind 192.0.2.99:80', 'bind [2001:db8::99]:80', 'bind :8080')),
    checkAccepts: true,
    findings: ['BC202'],
  },
  {
    id: 'not-local-transparent',
    title: 'bind 192.0.2.99:80 transparent: IP_TRANSPARENT lets the non-local bind() succeed',
    files: cfg(...fe('web', 'bind 192.0.2.99:80 transparent', 'bind [2001:db8::99]:80 transparent')),
  },
  {
    id: 'two-files',
    title: '-f haproxy.cfg -f conf.d/: the directory\'s *.cfg in byte order; noreuseport from the first file',
    files: {
      'haproxy.cfg': ['global', '    noreuseport', ...DEFAULTS],
      'conf.d/20-web.cfg': fe('web', 'bind :80'),
      'conf.d/10-mail.cfg': fe('smtp', 'bind :25', 'bind :::25 v6only'),
      'conf.d/30-dup.cfg': fe('again', 'bind :25'),
      'conf.d/notes.txt': fe('ignored', 'bind :1'),
    },
    fArgs: [CFG, '/etc/haproxy/conf.d'],
    checkAccepts: true,
  },
  {
    id: 'backend-and-disabled',
    title: 'a bind in a backend is bound despite "ignored"; a disabled frontend binds nothing; enabled undoes defaults',
    files: {
      'haproxy.cfg': [
        ...DEFAULTS,
        ...fe('off', 'disabled', 'bind :85'),
        'backend be',
        '    bind :86',
        'listen li',
        '    bind :87',
        'defaults quiet',
        '    mode tcp',
        '    timeout connect 1s',
        '    timeout client 1s',
        '    timeout server 1s',
        '    disabled',
        ...fe('inherits', 'bind :88'),
        ...fe('back-on', 'enabled', 'bind :89'),
      ],
    },
    findings: ['BC005'],
  },
  {
    id: 'non-root',
    title: 'haproxy started as uid 65534 (unit User=65534): EACCES on :80, :8080 bound, then exit 1',
    files: cfg(...fe('web', 'bind :80', 'bind :8080')),
    asUid: 65534,
    checkAccepts: true,
    findings: ['BC203'],
  },
  {
    id: 'env-address',
    title: 'bind "${FRONT_ADDR}:80": haproxy takes the address from its environment; bindcheck says it cannot see it',
    files: cfg(...fe('web', 'bind "${FRONT_ADDR}:80"', 'bind :8080')),
    env: { FRONT_ADDR: '127.0.0.1' },
    unplanned: ['127.0.0.1:80'],
    findings: ['BC005'],
  },
  {
    id: 'hostname',
    title: 'bind localhost:8080 (/etc/hosts has 127.0.0.1 and ::1): one socket, the first getaddrinfo() answer',
    files: cfg(...fe('web', 'bind localhost:8080', 'bind ipv4@localhost:8081')),
  },
  {
    id: 'master-worker',
    title: 'haproxy -Ws as under systemd: the master binds in the same order before forking its worker',
    files: cfg(...fe('web', 'bind :80', 'bind :::80', 'bind :8080')),
    masterWorker: true,
  },
  {
    id: 'master-worker-fails',
    title: 'haproxy -Ws with a non-local address: the master tries every listener, then exits 1',
    files: cfg(...fe('web', 'bind :80', 'bind 192.0.2.99:81', 'bind :8080')),
    masterWorker: true,
    checkAccepts: true,
    findings: ['BC202'],
  },
  {
    id: 'interface-and-stats',
    title: 'bind :80 interface lo (SO_BINDTODEVICE) and a TCP stats socket in global (backlog 10, GLOBAL frontend)',
    files: withGlobal(['stats socket ipv4@127.0.0.1:9999'], ...fe('web', 'bind :80 interface lo defer-accept')),
  },
];

interface Observation {
  scenario: Scenario;
  root: string;
  wait: WaitResult;
  attempts: NetSocketAttempt[];
  stderr: string[];
  syslog: string[];
  traceText: string;
  running: boolean;
}

const env = checkOracleEnv([HAPROXY_BINARY, '/usr/bin/setpriv']);
if (!env.ok && !env.required) console.warn(`[haproxy oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-haproxy.sh)`);

describe.runIf(env.ok || env.required)('real haproxy vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-haproxy-'));

  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the haproxy oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  const fArgs = (sc: Scenario) => sc.fArgs ?? [CFG];

  function prepareRoot(sc: Scenario): string {
    const root = join(tmpBase, sc.id, 'root');
    mkdirSync(root, { recursive: true });
    if (sc.debian) copyDebianConfig(root);
    else writeConfigs(root, sc.files ?? {});
    // The /etc/hosts the namespace gets, so bindcheck resolves names from the same table haproxy does.
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'hosts'), defaultHosts('bindcheck-test'));
    if (sc.fArgs || sc.asUid !== undefined) {
      // What bindcheck reads to learn the -f list and the uid; Debian's unit with these changes.
      const unit = ['[Service]', `ExecStart=/usr/sbin/haproxy -Ws ${fArgs(sc).map((f) => `-f ${f}`).join(' ')} -p /run/haproxy.pid`];
      if (sc.asUid !== undefined) unit.push(`User=${sc.asUid}`);
      mkdirSync(join(root, 'etc', 'systemd', 'system'), { recursive: true });
      writeFileSync(join(root, 'etc', 'systemd', 'system', 'haproxy.service'), unit.join('\n') + '\n');
    }
    return root;
  }

  async function runHaproxy(sc: Scenario, root: string, name: string, command: string[]) {
    const workDir = join(tmpBase, sc.id, name);
    return startInNamespace({
      workDir,
      command: sc.asUid !== undefined ? ['setpriv', `--reuid=${sc.asUid}`, `--regid=${sc.asUid}`, '--clear-groups', '--', ...command] : command,
      strace: true,
      hosts: defaultHosts('bindcheck-test'),
      bindMounts: [{ source: join(root, 'etc', 'haproxy'), target: '/etc/haproxy' }],
      tmpfs: HAPROXY_WRITABLE,
      mkdirs: ['/run/haproxy'],
      holders: sc.holders,
      ...(sc.env ? { env: sc.env } : {}),
    });
  }

  async function runScenario(sc: Scenario): Promise<Observation> {
    const root = prepareRoot(sc);
    const run = await runHaproxy(sc, root, 'work', haproxyCommand(fArgs(sc), sc.masterWorker ? ['-Ws'] : []));
    try {
      const wait = await run.waitFor(haproxyStartDone, { timeoutMs: 15_000, quietMs: 400 });
      const snap = run.snapshot();
      const obs: Observation = {
        scenario: sc,
        root,
        wait,
        // haproxy makes one pass and never retries: every bound inet socket is part of the start.
        attempts: boundNetSockets(socketsFromTrace(snap.trace)),
        stderr: readLines(join(run.workDir, 'command.out')),
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

  async function scanFor(o: Observation) {
    const extraLiveSockets = holdersAsLive(o.scenario.holders);
    return scan({ root: o.root, live: false, readers: [haproxyReader], extraLiveSockets });
  }

  describe.concurrent.each(SCENARIOS)('$id: $title', (sc) => {
    it('real haproxy: start observed', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.wait.timedOut, 'haproxy did not finish its pass in time').toBe(false);
      expect(o.attempts.every((a) => a.outcome.ok !== 'unknown'), 'a bound socket got no listen()').toBe(true);
      const failed = o.attempts.some((a) => a.outcome.ok === false);
      // protocol_bind_all() tries every listener; main() then exits 1 if any failed, else runs on.
      expect(o.running, failed ? 'haproxy kept running after a failed listener' : 'haproxy exited').toBe(!failed);
      if (failed) {
        expect(o.wait.commandExit).toBe(1);
        expect(o.stderr.some((l) => l.includes('Some protocols failed to start their listeners! Exiting.'))).toBe(true);
      }
    }, 30_000);

    it('bindcheck predicts the same sockets, options and outcomes', async () => {
      const o = await observe(sc);
      const report = await scanFor(o);
      const plan = report.daemons.find((d) => d.daemon === 'haproxy');
      expect(plan, 'scan() found no haproxy').toBeDefined();
      const view = (s: { proto: string; family: string; address: string; port: number }) => `${s.proto}/${s.family} ${s.address}:${s.port}`;
      const outcome = (x: unknown) => {
        const v = x as { ok: unknown; call?: string; errno?: string };
        return v.ok === true ? 'ok' : `${v.call} ${v.errno ?? ''}`.trim();
      };
      const unplanned = new Set(sc.unplanned ?? []);
      const seen = o.attempts.filter((a) => !unplanned.has(`${a.address}:${a.port}`));
      expect(seen.length, 'the unplanned sockets were really bound').toBe(o.attempts.length - unplanned.size);
      expect(plan!.sockets.map((s) => `${view(s)} ${outcome(s.outcome)}`), 'sockets (in order) and outcomes').toEqual(seen.map((a) => `${view(a)} ${outcome(a.outcome)}`));
      const traced = (a: NetSocketAttempt) => {
        const opt = (n: string) => a.socket.options.find((x) => x.name === n && x.result === 0);
        const dev = opt('SO_BINDTODEVICE')?.value.replace(/^"(.*?)(\\0)?"$/, '$1');
        return {
          reuseAddr: a.socket.reuseAddr,
          reusePort: a.socket.reusePort,
          v6Only: a.socket.v6Only,
          freeBind: Boolean(opt('IP_TRANSPARENT') ?? opt('IPV6_TRANSPARENT') ?? opt('IP_FREEBIND')),
          device: dev,
        };
      };
      // The JSON report has no freeBind/device: those come from the reader itself, with the same -f list.
      const direct = readHaproxy(new RootFs(o.root), { argv: ['/usr/sbin/haproxy', ...fArgs(sc).flatMap((f) => ['-f', f])] }).plans[0]?.sockets ?? [];
      expect(direct.map((s) => s.name)).toEqual(plan!.sockets.map((s) => s.name));
      expect(
        plan!.sockets.map((p, i) => ({ reuseAddr: p.reuseAddr, reusePort: p.reusePort, v6Only: p.v6Only ?? undefined, freeBind: Boolean(direct[i]?.freeBind), device: direct[i]?.device })),
        'socket options haproxy sets',
      ).toEqual(seen.map(traced));
      expect(plan!.starts, 'whether haproxy starts').toBe(o.attempts.every((a) => a.outcome.ok === true));
      const codes = report.findings.map((f) => f.code);
      for (const c of sc.findings ?? []) expect(codes, `bindcheck reports ${c}`).toContain(c);
      const inputProblems = report.findings.filter((f) => f.code.startsWith('BC0') && !(sc.findings ?? []).includes(f.code));
      expect(inputProblems.map((f) => f.message), 'no input findings on a config haproxy accepts').toEqual([]);
    }, 30_000);

    it("the recogniser maps haproxy's own lines to the failed sockets, by name", async () => {
      const o = await observe(sc);
      const report = await scanFor(o);
      const plan = report.daemons.find((d) => d.daemon === 'haproxy');
      const events = o.stderr.map((l, i) => recogniseRaw(l, { file: 'stderr', line: i + 1 }, [haproxyRecogniser])?.event).filter((e) => e !== undefined);
      const failed = o.attempts.filter((a) => a.outcome.ok === false);
      const bindFailed = events.filter((e) => e.kind === 'bind-failed');
      expect(bindFailed.map((e) => `${e.address}:${e.port} ${e.errno}`)).toEqual(failed.map((a) => `${a.address}:${a.port} ${(a.outcome as { errno: string }).errno}`));
      // Each event names a socket of the plan, and that socket is one bindcheck predicted to fail.
      const failing = new Set(plan!.sockets.filter((s) => (s.outcome as { ok: unknown }).ok !== true).map((s) => s.name));
      for (const e of bindFailed) expect(failing.has(e.listenerName ?? ''), `${e.listenerName} is a planned failing socket`).toBe(true);
      expect(events.some((e) => e.kind === 'gave-up')).toBe(failed.length > 0);
    }, 30_000);

    if (sc.checkAccepts) {
      it('haproxy -c accepts this config although haproxy cannot start with it', async () => {
        const o = await observe(sc);
        const t = await haproxyCheck(sc, o.root);
        expect(t.out).toContain('Configuration file is valid');
        expect(t.code).toBe(0);
        expect(o.attempts.some((a) => a.outcome.ok === false), 'the real haproxy fails').toBe(true);
      }, 30_000);
    }
  });

  async function haproxyCheck(sc: Scenario, root: string): Promise<{ code: number | undefined; out: string }> {
    const run = await runHaproxy({ ...sc, holders: [] }, root, 'haproxy-c', [HAPROXY_BINARY, '-c', ...fArgs(sc).flatMap((f) => ['-f', f])]);
    try {
      const w = await run.waitFor((s) => s.commandExit !== undefined, { timeoutMs: 15_000 });
      return { code: w.commandExit, out: readLines(join(run.workDir, 'command.out')).join('\n') };
    } finally {
      await run.stop();
    }
  }
});


function summarize(o: Observation): string {
  const lines = [`[haproxy oracle] ${o.scenario.id} (${o.wait.elapsedMs} ms, exit ${o.wait.commandExit ?? 'none: running'})`];
  for (const a of o.attempts) lines.push(`  ${attemptLine(a)}`);
  for (const l of o.stderr) lines.push(`  stderr: ${l}`);
  return lines.join('\n');
}

function record(o: Observation): void {
  const dir = join(RECORDED, o.scenario.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'strace.txt'), o.traceText);
  writeFileSync(join(dir, 'stderr.txt'), o.stderr.join('\n') + (o.stderr.length ? '\n' : ''));
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify(
      {
        title: o.scenario.title,
        config: o.scenario.debian ? "Debian 12's installed /etc/haproxy" : o.scenario.files,
        fArgs: o.scenario.fArgs ?? [CFG],
        holders: o.scenario.holders ?? [],
        asUid: o.scenario.asUid ?? 0,
        note: 'unedited outputs of the real haproxy (Debian 12, 2.6.12) run as haproxy -db in a private namespace',
        exitStatus: o.wait.commandExit ?? null,
        keptRunning: o.running,
        sockets: o.attempts.map((a) => ({ pid: a.socket.pid, fd: a.socket.fd, family: a.family, address: a.address, port: a.port, outcome: a.outcome })),
      },
      null,
      2,
    ) + '\n',
  );
}

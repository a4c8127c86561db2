/**
 * The real nginx as bindcheck's oracle.
 *
 * For each scenario: write an nginx.conf (or copy Debian's installed /etc/nginx) into a temporary appliance root,
 * run the real `nginx -g 'daemon off; master_process on;' -c /etc/nginx/nginx.conf` in a private network/mount/pid
 * namespace under strace (the root's /etc/nginx bind-mounted over the host's, tmpfs over its log, lib and run
 * directories), stop once the first pass of binds is over, and compare what it really did — computed from the
 * trace — with what `scan({ root, live: false, readers: [nginxReader] })` predicts. Where `nginx -t` accepts a
 * config nginx cannot start with, the real `nginx -t` is run too.
 *
 * Prerequisites (root, unshare, strace, nginx + libnginx-mod-stream: .ci/install-nginx.sh) missing → skipped with
 * the reason, except under CI where that is a failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdersAsLive, observeOnce, readLines } from './harness/oracle.js';
import { scan } from '../../src/index.js';
import { nginxReader } from '../../src/readers/nginx/index.js';
import { nginxRecogniser } from '../../src/evidence/logs/recognisers/nginx.js';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { checkOracleEnv } from './harness/env.js';
import { defaultHosts, startInNamespace, type PortHolderSpec, type WaitResult } from './harness/namespace.js';
import { boundNetSockets, firstAttempt, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';
import { copyDebianConfig, NGINX_BINARY, NGINX_WRITABLE, nginxCommand, nginxStartDone, STREAM_MODULE, writeConf } from './daemons/nginx.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, 'recorded', 'nginx');
/** Set BINDCHECK_RECORD=1 to (re)write test/integration/recorded/nginx/<scenario>/ from this run. */
const RECORD = process.env.BINDCHECK_RECORD === '1';

interface Scenario {
  id: string;
  title: string;
  http?: string[];
  stream?: string[];
  main?: string[];
  debian?: boolean;
  holders?: PortHolderSpec[];
  hosts?: string;
  /** nginx refuses the config itself (`nginx -t` fails with this message); bindcheck must say so (BC0xx). */
  configError?: string;
  /** `nginx -t` accepts the config although nginx cannot start with it. */
  nginxTAccepts?: boolean;
  /** A reason this scenario cannot run with this nginx (printed, not failed). */
  skip?: () => string | undefined;
}

const srv = (...lines: string[]) => ['server {', ...lines.map((l) => `    ${l}`), '}'];

const SCENARIOS: Scenario[] = [
  { id: 'debian-default', title: "Debian's installed /etc/nginx with its default site (listen 80 + [::]:80)", debian: true },
  { id: 'v4-and-v6', title: 'listen 80 + listen [::]:80: two sockets, IPV6_V6ONLY=1', http: srv('listen 80;', 'listen [::]:80;') },
  {
    id: 'v6only-off-conflict',
    title: 'listen [::]:80 ipv6only=off + listen 80: the dual-stack socket takes 0.0.0.0:80 first',
    http: srv('listen [::]:80 ipv6only=off;', 'listen 80;'),
    nginxTAccepts: true,
  },
  { id: 'wildcard-folds-specific', title: 'listen 127.0.0.1:80 + listen 80: only the wildcard is bound', http: srv('listen 127.0.0.1:80;', 'listen 80;') },
  {
    id: 'wildcard-and-bind',
    title: 'listen 127.0.0.1:80 bind + listen 80: the specific socket listens, the wildcard bind() fails',
    http: srv('listen 127.0.0.1:80 bind;', 'listen 80;'),
    nginxTAccepts: true,
  },
  { id: 'same-listen-two-servers', title: 'listen 80 in two server blocks: one socket', http: [...srv('listen 80;', 'server_name a;'), ...srv('listen 80;', 'server_name b;')] },
  {
    id: 'duplicate-listen-options',
    title: 'listen 80 backlog=100 and listen 80 reuseport in two servers: "duplicate listen options"',
    http: [...srv('listen 80 backlog=100;'), ...srv('listen 80 reuseport;')],
    configError: 'duplicate listen options for 0.0.0.0:80',
  },
  { id: 'reuseport-two-workers', title: 'worker_processes 2 + listen 8080 reuseport: one socket per worker', main: ['worker_processes 2;'], http: srv('listen 8080 reuseport;') },
  { id: 'not-local', title: 'listen 192.0.2.99:80 (not a local address)', http: srv('listen 192.0.2.99:80;') },
  {
    id: 'not-local-first',
    title: 'listen 192.0.2.99:80 before listen 8080: EADDRNOTAVAIL ends nginx at once, 8080 is never created',
    http: [...srv('listen 192.0.2.99:80;'), ...srv('listen 8080;')],
  },
  {
    id: 'held-port',
    title: '0.0.0.0:80 already held by another process (SO_REUSEADDR, listening)',
    http: srv('listen 80;'),
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, reuseAddr: true }],
    nginxTAccepts: true,
  },
  {
    id: 'held-port-reuseport',
    title: '0.0.0.0:80 held with SO_REUSEPORT; nginx with reuseport joins it',
    http: srv('listen 80 reuseport;'),
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, reuseAddr: true, reusePort: true }],
  },
  {
    id: 'held-port-reuseport-nginx-without',
    title: '0.0.0.0:80 held with SO_REUSEPORT; nginx without reuseport',
    http: srv('listen 80;'),
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, reuseAddr: true, reusePort: true }],
    nginxTAccepts: true,
  },
  {
    id: 'localhost',
    title: 'listen localhost:8080 with /etc/hosts giving 127.0.0.1 and ::1: both, ::1 first',
    http: srv('listen localhost:8080;'),
    hosts: '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  },
  { id: 'no-listen', title: 'a server without listen: *:80 (nginx runs as root)', http: srv('server_name _;') },
  {
    id: 'stream',
    title: 'stream {}: a UDP listener and a TCP one next to http',
    http: srv('listen 8080;'),
    stream: [...srv('listen 5353 udp;', 'proxy_pass 127.0.0.1:53;'), ...srv('listen 127.0.0.1:12345;', 'proxy_pass 127.0.0.1:22;')],
  },
  {
    id: 'quic',
    title: 'listen 443 quic (UDP)',
    http: srv('listen 443 quic;'),
    skip: () => {
      const v = execFileSync(NGINX_BINARY, ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).toString() + nginxV();
      return /http_v3_module/.test(v) ? undefined : 'this nginx has no ngx_http_v3_module (QUIC came in 1.25; Debian 12 ships 1.22.1)';
    },
  },
];

function nginxV(): string {
  try {
    execFileSync(NGINX_BINARY, ['-V'], { stdio: 'pipe' });
    return '';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? '');
  }
}

function nginxVersionText(): string {
  try {
    const r = execFileSync('sh', ['-c', `${NGINX_BINARY} -V 2>&1`], { encoding: 'utf8' });
    return r;
  } catch {
    return '';
  }
}

interface Observation {
  scenario: Scenario;
  root: string;
  wait: WaitResult;
  attempts: NetSocketAttempt[];
  first: NetSocketAttempt[];
  stderr: string[];
  errorLog: string[];
  traceText: string;
  running: boolean;
}

const env = checkOracleEnv([NGINX_BINARY], [STREAM_MODULE]);
if (!env.ok && !env.required) console.warn(`[nginx oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-nginx.sh)`);

describe.runIf(env.ok || env.required)('real nginx vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-nginx-'));

  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the nginx oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  function prepareRoot(sc: Scenario): string {
    const root = join(tmpBase, sc.id, 'root');
    mkdirSync(root, { recursive: true });
    if (sc.debian) copyDebianConfig(root);
    else writeConf(root, { http: sc.http, stream: sc.stream, main: sc.main });
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'hosts'), sc.hosts ?? defaultHosts('bindcheck-test'));
    return root;
  }

  async function runNginx(sc: Scenario, root: string, name: string, command: string[]) {
    const workDir = join(tmpBase, sc.id, name);
    return startInNamespace({
      workDir,
      command,
      strace: true,
      hosts: sc.hosts ?? defaultHosts('bindcheck-test'),
      bindMounts: [{ source: join(root, 'etc', 'nginx'), target: '/etc/nginx' }],
      tmpfs: NGINX_WRITABLE,
      mkdirs: ['/var/log/nginx', '/var/lib/nginx'],
      holders: sc.holders,
    });
  }

  async function runScenario(sc: Scenario): Promise<Observation> {
    const root = prepareRoot(sc);
    const run = await runNginx(sc, root, 'work', nginxCommand());
    try {
      const wait = await run.waitFor(nginxStartDone, { timeoutMs: 15_000, quietMs: 300 });
      const snap = run.snapshot();
      const log = await run.exec(['cat', '/var/log/nginx/error.log']);
      const attempts = boundNetSockets(socketsFromTrace(snap.trace));
      const obs: Observation = {
        scenario: sc,
        root,
        wait,
        attempts,
        first: firstAttempt(attempts),
        stderr: readLines(join(run.workDir, 'command.out')),
        errorLog: log.stdout.split('\n').filter(Boolean),
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
    const skipReason = env.ok ? sc.skip?.() : undefined;
    if (skipReason) {
      console.warn(`[nginx oracle] ${sc.id} skipped: ${skipReason}`);
      it('bindcheck says nginx 1.22 rejects the parameter', async () => {
        const root = prepareRoot(sc);
        const report = await scan({ root, live: false, readers: [nginxReader] });
        expect(report.findings.some((f) => f.code === 'BC005' && f.message.includes('"quic"'))).toBe(true);
        const t = await nginxTest(sc, root);
        expect(t.code).not.toBe(0);
        expect(t.out).toContain('invalid parameter "quic"');
      }, 30_000);
      return;
    }

    it('real nginx: start observed', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.wait.timedOut, 'nginx did not finish its first pass in time').toBe(false);
      if (sc.configError) {
        expect(o.attempts).toEqual([]);
        expect(o.stderr.join('\n')).toContain(sc.configError);
        expect(o.wait.commandExit).toBe(1);
        return;
      }
      const failed = o.first.some((a) => a.outcome.ok === false);
      if (!failed) expect(o.running, 'nginx exited although every socket was bound').toBe(true);
    }, 30_000);

    it('bindcheck predicts the same sockets, options and outcomes', async () => {
      const o = await observe(sc);
      const extraLiveSockets = holdersAsLive(sc.holders);
      const report = await scan({ root: o.root, live: false, readers: [nginxReader], extraLiveSockets });
      const plan = report.daemons.find((d) => d.daemon === 'nginx');
      expect(plan, 'scan() found no nginx').toBeDefined();
      if (sc.configError) {
        expect(report.findings.filter((f) => f.code === 'BC002').map((f) => f.message).join('\n')).toContain(sc.configError);
        return;
      }
      const view = (s: { proto: string; family: string; address: string; port: number }) => `${s.proto}/${s.family} ${s.address}:${s.port}`;
      const outcome = (x: unknown) => {
        const v = x as { ok: unknown; call?: string; errno?: string };
        return v.ok === true ? 'ok' : `${v.call} ${v.errno ?? ''}`.trim();
      };
      // Sockets predicted as never created (nginx gave up first) must be absent from the trace: compare the rest.
      const reached = plan!.sockets.filter((s) => outcome(s.outcome) !== 'none');
      expect(reached.map((s) => `${view(s)} ${outcome(s.outcome)}`), 'sockets (in order) and outcomes').toEqual(
        o.first.map((a) => `${view(a)} ${outcome(a.outcome)}`),
      );
      expect(
        reached.map((p) => ({ reuseAddr: p.reuseAddr, reusePort: p.reusePort, v6Only: p.v6Only ?? undefined })),
        'socket options nginx sets',
      ).toEqual(o.first.map((a) => ({ reuseAddr: a.socket.reuseAddr, reusePort: a.socket.reusePort, v6Only: a.socket.v6Only })));
      expect(plan!.starts, 'whether nginx starts').toBe(o.first.every((a) => a.outcome.ok === true));
      expect(report.findings.filter((f) => f.code.startsWith('BC0')), 'no input findings on a config nginx accepts').toEqual([]);
    }, 30_000);

    it("the recogniser maps nginx's own lines to the failed sockets", async () => {
      const o = await observe(sc);
      const events = o.stderr.map((l, i) => recogniseRaw(l, { file: 'stderr', line: i + 1 }, [nginxRecogniser])?.event).filter((e) => e !== undefined);
      const failed = o.first.filter((a) => a.outcome.ok === false);
      const firstPass = events.filter((e) => e.kind === 'bind-failed').slice(0, failed.length);
      expect(firstPass.map((e) => `${e.address}:${e.port} ${e.errno}`)).toEqual(failed.map((a) => `${a.address}:${a.port} ${(a.outcome as { errno: string }).errno}`));
    }, 30_000);

    if (sc.nginxTAccepts) {
      it('nginx -t accepts this config although nginx cannot start with it', async () => {
        const o = await observe(sc);
        const t = await nginxTest(sc, o.root);
        expect(t.out).toContain('test is successful');
        expect(t.code).toBe(0);
        expect(o.first.some((a) => a.outcome.ok === false), 'the real nginx fails').toBe(true);
      }, 30_000);
    }
  });

  async function nginxTest(sc: Scenario, root: string): Promise<{ code: number | undefined; out: string }> {
    const run = await runNginx(sc, root, 'nginx-t', [NGINX_BINARY, '-t', '-c', '/etc/nginx/nginx.conf']);
    try {
      const w = await run.waitFor((s) => s.commandExit !== undefined, { timeoutMs: 15_000 });
      return { code: w.commandExit, out: readLines(join(run.workDir, 'command.out')).join('\n') };
    } finally {
      await run.stop();
    }
  }
});


function summarize(o: Observation): string {
  const lines = [`[nginx oracle] ${o.scenario.id} (${o.wait.elapsedMs} ms, exit ${o.wait.commandExit ?? 'none: running'})`];
  for (const a of o.first) {
    const s = a.socket;
    const opts = s.options.map((x) => `${x.name}=${x.value}`).join(' ');
    const oc = a.outcome.ok === true ? 'ok' : a.outcome.ok === 'unknown' ? 'unknown' : `${a.outcome.call} ${a.outcome.errno}`;
    lines.push(`  pid ${s.pid} fd ${s.fd} ${a.proto}/${a.family} ${a.address}:${a.port} [${opts}] -> ${oc}`);
  }
  for (const l of o.stderr) lines.push(`  stderr: ${l}`);
  for (const l of o.errorLog) lines.push(`  error.log: ${l}`);
  return lines.join('\n');
}

function record(o: Observation): void {
  const dir = join(RECORDED, o.scenario.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'strace.txt'), o.traceText);
  writeFileSync(join(dir, 'stderr.txt'), o.stderr.join('\n') + (o.stderr.length ? '\n' : ''));
  writeFileSync(join(dir, 'error.log'), o.errorLog.join('\n') + (o.errorLog.length ? '\n' : ''));
  writeFileSync(
    join(dir, 'scenario.json'),
    JSON.stringify(
      {
        title: o.scenario.title,
        config: o.scenario.debian ? "Debian 12's installed /etc/nginx" : readFileSync(join(o.root, 'etc', 'nginx', 'nginx.conf'), 'utf8').split('\n'),
        holders: o.scenario.holders ?? [],
        note: `unedited outputs of the real nginx (${nginxVersionText().split('\n')[0]}) in a private namespace; stopped after the first bind pass`,
        exitStatus: o.wait.commandExit ?? null,
        keptRunning: o.running,
        sockets: o.first.map((a) => ({ pid: a.socket.pid, fd: a.socket.fd, family: a.family, address: a.address, port: a.port, outcome: a.outcome })),
      },
      null,
      2,
    ) + '\n',
  );
}

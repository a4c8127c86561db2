/**
 * The real Apache httpd (Debian 12's apache2) as bindcheck's oracle.
 *
 * For each scenario: copy Debian's installed /etc/apache2 into a temporary root with the scenario's ports.conf, run
 * the real `apache2 -X` (envvars sourced) in a private network/mount/pid namespace under strace, wait until it
 * exited or its binds settled, and compare what it really did — computed from the trace — with
 * `scan({ root, live: false, readers: [apacheReader] })`. httpd reads its config twice at start-up; the sockets are
 * created while parsing and bound/listened by open_listeners() at the end of the first pass, which the second pass
 * reuses: the per-socket comparison uses the first pass (trace cut at the second open of apache2.conf), in bind()
 * order; whether it started is the whole run's exit (see firstPassAttempts). Also runs `apache2 -t` on each config:
 * it accepts every config here that cannot start (bind happens after the syntax check).
 *
 * Prerequisites (root, unshare, strace, apache2: .ci/install-apache.sh) missing → skipped with the reason, except
 * under CI where that is a failure.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scan } from '../../src/index.js';
import { apacheReader } from '../../src/readers/apache/index.js';
import { apacheRecogniser } from '../../src/evidence/logs/recognisers/apache.js';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { checkOracleEnv } from './harness/env.js';
import { startInNamespace, type PortHolderSpec } from './harness/namespace.js';
import { DEFAULT_STRACE_SYSCALLS } from './harness/namespace.js';
import { boundNetSockets, firstAttempt, parseStrace, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';
import { APACHE_BINARY, APACHE_COMMAND, APACHE_CONFIGTEST, APACHE_MKDIRS, APACHE_TMPFS, makeApacheRoot } from './daemons/apache.js';
import { holdersAsLive } from './harness/oracle.js';

interface Scenario {
  id: string;
  title: string;
  /** ports.conf lines; undefined = Debian's own. */
  ports?: string[];
  holders?: PortHolderSpec[];
  /** `apache2 -t` says Syntax OK. */
  configtestOk: boolean;
}

const SCENARIOS: Scenario[] = [
  { id: 'debian-default', title: "Debian's ports.conf (Listen 80; 443 only with ssl_module)", configtestOk: true },
  { id: 'plus-v6', title: 'Listen 80 + Listen [::]:80', ports: ['Listen 80', 'Listen [::]:80'], configtestOk: true },
  { id: 'v4-and-v6', title: 'Listen 0.0.0.0:80 + Listen [::]:80: one dual-stack socket', ports: ['Listen 0.0.0.0:80', 'Listen [::]:80'], configtestOk: true },
  { id: 'wildcard-specific', title: 'Listen 80 + Listen 127.0.0.1:80', ports: ['Listen 80', 'Listen 127.0.0.1:80'], configtestOk: true },
  { id: 'duplicate', title: 'Listen 80 twice', ports: ['Listen 80', 'Listen 80'], configtestOk: false },
  { id: 'not-local', title: 'Listen 192.0.2.99:80', ports: ['Listen 192.0.2.99:80'], configtestOk: true },
  { id: 'https-8443', title: 'Listen 8443 https', ports: ['Listen 8443 https'], configtestOk: true },
  {
    id: 'held-specific',
    title: '127.0.0.1:8080 held (SO_REUSEADDR) by another process',
    ports: ['Listen 127.0.0.1:8080'],
    holders: [{ proto: 'tcp', family: 'inet', address: '127.0.0.1', port: 8080, reuseAddr: true }],
    configtestOk: true,
  },
  {
    id: 'held-specific-reuseport',
    title: '127.0.0.1:8080 held with SO_REUSEPORT (apache2 sets none)',
    ports: ['Listen 127.0.0.1:8080'],
    holders: [{ proto: 'tcp', family: 'inet', address: '127.0.0.1', port: 8080, reuseAddr: true, reusePort: true }],
    configtestOk: true,
  },
  {
    id: 'held-wildcard',
    title: '0.0.0.0:80 held; Listen 80',
    ports: ['Listen 80'],
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, reuseAddr: true }],
    configtestOk: true,
  },
  {
    id: 'held-v6only',
    title: '[::]:80 held by an IPV6_V6ONLY socket; Listen 80: [::] fails, apache2 falls back to 0.0.0.0 and runs IPv4-only',
    ports: ['Listen 80'],
    holders: [{ proto: 'tcp', family: 'inet6', address: '::', port: 80, reuseAddr: true, v6Only: true }],
    configtestOk: true,
  },
  { id: 'include-missing', title: 'Include of a missing file', ports: ['Listen 80', 'Include /etc/apache2/nope.conf'], configtestOk: false },
  { id: 'include-optional', title: 'IncludeOptional of a missing file and glob', ports: ['Listen 80', 'IncludeOptional /etc/apache2/nope.conf', 'IncludeOptional nope*.conf'], configtestOk: true },
];

/**
 * The bind()/listen() attempts of apache2's first config pass, in the order apache2 made them.
 *
 * httpd reads its config twice at start-up (main.c: once before the restart loop, once inside it). Listen creates
 * its sockets while the config is parsed (alloc_listener), and open_listeners() binds and listens at the end of the
 * FIRST pass; the second pass reuses the already-bound sockets (debian-default: no bind/listen after the second
 * read of apache2.conf) and only goes back to make_sock() for listeners the first pass left unbound. So the trace is
 * cut at the second open of apache2.conf and the pass-2 binds (e.g. the 0.0.0.0 socket created in pass 1 but
 * skipped there, then tried in pass 2) are not mixed in. Attempts are ordered by bind(), not socket(): sockets
 * exist from parse time, open_listeners() binds them in its own order ([::] before 0.0.0.0 of the same port).
 * Whether apache2 started (exit status) is the whole run's, both passes.
 */
function firstPassAttempts(traceText: string): NetSocketAttempt[] {
  const lines = traceText.split('\n');
  const confOpens = lines.flatMap((l, i) => (/\bopenat\(.*"\/etc\/apache2\/apache2\.conf"/.test(l) && !/= -1 /.test(l) ? [i] : []));
  const firstPass = confOpens.length > 1 ? lines.slice(0, confOpens[1]).join('\n') + '\n' : traceText;
  const bound = boundNetSockets(socketsFromTrace(parseStrace(firstPass)));
  return firstAttempt([...bound].sort((a, b) => a.socket.bind!.line - b.socket.bind!.line));
}

interface Observation {
  root: string;
  attempts: NetSocketAttempt[];
  exit: number | undefined;
  output: string;
  configtest: { code: number; out: string };
}

const env = checkOracleEnv([APACHE_BINARY]);
if (!env.ok && !env.required) console.warn(`[apache oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-apache.sh)`);

describe.runIf(env.ok || env.required)('real apache2 vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-apache-'));
  const observations = new Map<string, Promise<Observation>>();
  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the apache oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  async function run(sc: Scenario): Promise<Observation> {
    const root = join(tmpBase, sc.id, 'root');
    makeApacheRoot(root, sc.ports);
    const workDir = join(tmpBase, sc.id, 'work');
    const ns = await startInNamespace({
      workDir,
      command: APACHE_COMMAND,
      // openat too: the second open of apache2.conf marks where the first config pass ends.
      strace: { syscalls: [...DEFAULT_STRACE_SYSCALLS, 'openat'] },
      bindMounts: [{ source: join(root, 'etc', 'apache2'), target: '/etc/apache2' }],
      tmpfs: APACHE_TMPFS,
      mkdirs: APACHE_MKDIRS,
      holders: sc.holders,
    });
    try {
      const done = (s: ReturnType<typeof ns.snapshot>) =>
        s.commandExit !== undefined || s.trace.calls.filter((c) => c.syscall === 'listen').length > 0;
      await ns.waitFor(done, { timeoutMs: 10_000, quietMs: 1500 });
      const snap = ns.snapshot();
      const configtest = await ns.exec(APACHE_CONFIGTEST);
      let output = '';
      try {
        output = readFileSync(join(workDir, 'command.out'), 'utf8');
      } catch {
        /* none */
      }
      return {
        root,
        attempts: firstPassAttempts(snap.traceText),
        exit: snap.commandExit,
        output,
        configtest: { code: configtest.code, out: configtest.stdout + configtest.stderr },
      };
    } finally {
      await ns.stop();
    }
  }
  const observe = (sc: Scenario) => {
    let p = observations.get(sc.id);
    if (!p) observations.set(sc.id, (p = run(sc)));
    return p;
  };

  describe.concurrent.each(SCENARIOS)('$id: $title', (sc) => {
    it('bindcheck predicts the sockets apache2 binds, their options and outcomes, and whether it starts', async () => {
      const o = await observe(sc);
      console.log(`[apache oracle] ${sc.id}: exit ${o.exit ?? 'none (running)'}\n  ${o.attempts.map((a) => `${a.family} ${a.address}:${a.port} ${JSON.stringify(a.outcome)} v6only=${a.socket.v6Only}`).join('\n  ')}\n  ${o.output.trim().replace(/\n/g, '\n  ')}`);
      const extraLiveSockets = holdersAsLive(sc.holders);
      const report = await scan({ root: o.root, live: false, readers: [apacheReader], extraLiveSockets });
      const plan = report.daemons.find((d) => d.daemon === 'apache');
      expect(plan, 'scan() found no apache').toBeDefined();
      const refuses = report.findings.some((f) => f.code.startsWith('BC0') && f.severity === 'error') || report.findings.some((f) => f.code === 'BC004');
      if (!sc.configtestOk) {
        // apache2 refuses the config before any bind: bindcheck reports the input problem.
        expect(o.attempts).toEqual([]);
        expect(o.exit).toBe(1);
        expect(refuses).toBe(true);
        return;
      }
      const view = (s: { family: string; address: string; port: number; outcome: unknown }) => {
        const oc = s.outcome as { ok: boolean | string; call?: string; errno?: string };
        return { family: s.family, address: s.address, port: s.port, outcome: oc.ok === true ? 'ok' : `${oc.call} ${oc.errno ?? ''}`.trim() };
      };
      // A fallback socket predicted as not needed (its [::] was created) must be absent from the trace.
      const reached = plan!.sockets.filter((s) => !(s.outcome.ok === false && s.outcome.call === 'none'));
      const observed = o.attempts;
      expect(reached.map(view)).toEqual(observed.map(view));
      // The plan says null for "never set" (AF_INET sockets), the trace undefined.
      expect(reached.map((p) => ({ reuseAddr: p.reuseAddr, reusePort: p.reusePort, v6Only: p.v6Only ?? undefined }))).toEqual(
        observed.map((a) => ({ reuseAddr: a.socket.reuseAddr, reusePort: a.socket.reusePort, v6Only: a.socket.v6Only })),
      );
      const started = o.exit === undefined;
      expect(plan!.starts).toBe(started);
      if (!started) expect(o.exit).toBe(1);
    }, 40_000);

    it('apache2 -t: accepts exactly the configs that fail only at bind time', async () => {
      const o = await observe(sc);
      expect(o.configtest.code === 0, o.configtest.out).toBe(sc.configtestOk);
    }, 40_000);

    it('the recogniser maps apache2\'s own failure lines to the failed sockets', async () => {
      const o = await observe(sc);
      const events = o.output
        .split('\n')
        .filter(Boolean)
        .map((l, i) => recogniseRaw(l, { file: 'stderr', line: i + 1 }, [apacheRecogniser])?.event)
        .filter((e) => e !== undefined);
      const failed = o.attempts.filter((a) => a.outcome.ok === false);
      expect(events.filter((e) => e.kind === 'bind-failed').map((e) => `${e.address}:${e.port} ${e.errno}`).slice(0, failed.length)).toEqual(
        failed.map((a) => `${a.address}:${a.port} ${(a.outcome as { errno: string }).errno}`),
      );
    }, 40_000);
  });
});

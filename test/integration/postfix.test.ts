/**
 * The real postfix master(8) as bindcheck's oracle.
 *
 * For each scenario: write main.cf and master.cf (Debian 12's, with the scenario's parameters and inet services)
 * into a temporary root, run `postfix check` and then the real `master -d` from the separate postfix root
 * (.ci/install-postfix.sh) on them, in a private network/mount/pid namespace under strace; stop once the first
 * start is over (master exited, or logged "daemon started"); compare what it did — computed from the trace —
 * with what `scan({ root, live: false, readers: [postfixReader] })` predicts.
 *
 * Missing prerequisites → skipped with the reason printed, except under CI (process.env.CI) where that fails.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptLine, errnoName, holdersAsLive, observeOnce, recordedSockets } from './harness/oracle.js';
import { scan, scanInventory } from '../../src/index.js';
import { postfixReader } from '../../src/readers/postfix/index.js';
import { postfixRecogniser } from '../../src/evidence/logs/recognisers/postfix.js';
import { parseSyslogHeader } from '../../src/evidence/logs/syslog-line.js';
import { checkOracleEnv } from './harness/env.js';
import { startInNamespace, type PortHolderSpec, type SsRow, type WaitResult } from './harness/namespace.js';
import { boundNetSockets, socketsFromTrace, type NetSocketAttempt, type Outcome } from './harness/strace.js';
import {
  debianMainCf,
  debianMasterCf,
  postfixCheckResult,
  postfixCommand,
  postfixFirstAttemptDone,
  postfixRootReady,
  POSTFIX_ROOT,
  withInetServices,
  withParams,
} from './daemons/postfix.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, 'recorded', 'postfix');
/** BINDCHECK_RECORD=1 (re)writes test/integration/recorded/postfix/<scenario>/ from this run. */
const RECORD = process.env.BINDCHECK_RECORD === '1';

interface Scenario {
  id: string;
  title: string;
  params?: Record<string, string>;
  /** master.cf inet lines replacing Debian's `smtp inet …` line (undefined: Debian's as shipped). */
  inet?: string[];
  holders?: PortHolderSpec[];
  extraAddresses?: string[];
  recordTrace?: boolean;
  /**
   * A systemd unit written into the root at `path` (bindcheck reads it), and how the real master is started to match
   * it: with CAP_NET_BIND_SERVICE dropped from its bounding set, as `CapabilityBoundingSet=~…` does.
   */
  unit?: { path: string; text: string; dropCapNetBindService: boolean };
  /** `postfix check` itself rejects this config (exit 1); every other scenario passes it. */
  checkRejects?: boolean;
  /** Facts of the real run this scenario exists to show. */
  check?: (o: Observation) => void;
}

const SMTP = 'smtp      inet  n       -       y       -       -       smtpd';
const svc = (name: string, extra = '') => `${name.padEnd(9)} inet  n       -       y       -       -       smtpd${extra}`;

const listening = (o: Observation, address: string, port: number) => o.ss.rows.some((r) => r.state === 'LISTEN' && r.address === address && r.port === port);
const fatal = (o: Observation) => o.logLines.find((l) => /postfix\/master\[\d+\]: fatal: /.test(l));

const SCENARIOS: Scenario[] = [
  {
    id: 'debian-default',
    title: "Debian 12's main.cf and master.cf as installed (inet_interfaces = all, inet_protocols = all)",
    recordTrace: true,
    check: (o) => {
      expect(listening(o, '0.0.0.0', 25)).toBe(true);
      expect(listening(o, '::', 25)).toBe(true);
    },
  },
  { id: 'loopback-only', title: 'inet_interfaces = loopback-only', params: { inet_interfaces: 'loopback-only' }, recordTrace: true },
  { id: 'all-ipv4', title: 'inet_interfaces = all, inet_protocols = ipv4', params: { inet_protocols: 'ipv4' } },
  { id: 'all-ipv6', title: 'inet_interfaces = all, inet_protocols = ipv6', params: { inet_protocols: 'ipv6' } },
  {
    id: 'list',
    title: 'inet_interfaces = 127.0.0.1, [::1] 127.0.0.1 (a list with a duplicate)',
    params: { inet_interfaces: '127.0.0.1, [::1] 127.0.0.1' },
  },
  {
    id: 'wildcard-plus-specific',
    title: 'master.cf smtp plus 127.0.0.1:smtp (inet_interfaces = all)',
    inet: [SMTP, svc('127.0.0.1:smtp')],
    recordTrace: true,
    check: (o) => {
      // SO_REUSEPORT on both, same uid: Linux lets the specific socket join the port. Postfix starts.
      expect(fatal(o)).toBeUndefined();
      expect(listening(o, '127.0.0.1', 25)).toBe(true);
    },
  },
  {
    id: 'duplicate-service',
    title: 'master.cf smtp and 25 (the same service to master)',
    inet: [SMTP, svc('25')],
    check: (o) => expect(o.logLines.some((l) => l.includes('duplicate master.cf entry for service "smtp" (25)'))).toBe(true),
  },
  {
    id: 'same-port-two-services',
    title: 'master.cf smtp and 0.0.0.0:smtp (two services, one address)',
    inet: [SMTP, svc('0.0.0.0:smtp')],
  },
  {
    id: 'v4-v6-explicit',
    title: 'master.cf 0.0.0.0:smtp and [::]:smtp',
    inet: [svc('0.0.0.0:smtp'), svc('[::]:smtp')],
  },
  {
    id: 'v6-loopback',
    title: 'master.cf [::1]:2525',
    inet: [svc('[::1]:2525')],
  },
  {
    id: 'not-local-interfaces',
    title: 'inet_interfaces = 192.0.2.99 (not a local address)',
    params: { inet_interfaces: '192.0.2.99' },
    recordTrace: true,
    // postfix check runs postconf, which evaluates inet_interfaces the same way: this one it does catch.
    checkRejects: true,
  },
  {
    id: 'not-local-service',
    title: 'master.cf 192.0.2.99:smtp (not a local address)',
    inet: [svc('192.0.2.99:smtp')],
    recordTrace: true,
  },
  {
    id: 'no-cap-net-bind-service',
    title: "the postfix@- unit drops CAP_NET_BIND_SERVICE: master is root, but port 25 is privileged (Debian's main.cf and master.cf)",
    recordTrace: true,
    unit: {
      // Debian's postfix@.service as the instance's own unit, with the bounding set restricted.
      path: '/etc/systemd/system/postfix@-.service',
      text: [
        '[Unit]',
        'Description=Postfix Mail Transport Agent (instance %i)',
        '',
        '[Service]',
        'Type=forking',
        'GuessMainPID=no',
        'ExecStartPre=/usr/lib/postfix/configure-instance.sh %i',
        'ExecStart=/usr/sbin/postmulti -i %i -p start',
        'ExecStop=/usr/sbin/postmulti -i %i -p stop',
        'CapabilityBoundingSet=~CAP_NET_BIND_SERVICE',
        '',
      ].join('\n'),
      dropCapNetBindService: true,
    },
    check: (o) => {
      // The first socket's bind() is refused; master exits before the second.
      expect(o.attempts[0]?.outcome).toMatchObject({ ok: false, call: 'bind', errno: 'EACCES' });
      expect(fatal(o)).toMatch(/fatal: bind 0\.0\.0\.0 port 25: Permission denied/);
    },
  },
  {
    id: 'holder-no-reuseport',
    title: '0.0.0.0:25 already held (listening, SO_REUSEADDR, no SO_REUSEPORT)',
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 25, reuseAddr: true }],
    recordTrace: true,
  },
  {
    id: 'holder-reuseport',
    title: '0.0.0.0:25 already held by a root process with SO_REUSEPORT (listening)',
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 25, reuseAddr: true, reusePort: true }],
    check: (o) => expect(fatal(o)).toBeUndefined(),
  },
  {
    id: 'holder-specific',
    title: '127.0.0.1:25 held (no SO_REUSEPORT), inet_interfaces = loopback-only',
    params: { inet_interfaces: 'loopback-only' },
    holders: [{ proto: 'tcp', family: 'inet', address: '127.0.0.1', port: 25 }],
  },
  {
    id: 'submission',
    title: 'smtp plus submission (587) with -o overrides, inet_interfaces = 127.0.0.1',
    params: { inet_interfaces: '127.0.0.1' },
    inet: [SMTP, svc('submission', '\n  -o syslog_name=postfix/submission\n  -o smtpd_tls_security_level=encrypt')],
    check: (o) => expect(listening(o, '127.0.0.1', 587)).toBe(true),
  },
  {
    id: 'override-interfaces',
    title: 'smtp with -o inet_interfaces=127.0.0.1 (main.cf: all)',
    inet: [svc('smtp', ' -o inet_interfaces=127.0.0.1')],
    check: (o) => {
      // The override reaches smtpd only: master still binds the wildcards.
      expect(listening(o, '0.0.0.0', 25)).toBe(true);
      expect(listening(o, '127.0.0.1', 25)).toBe(false);
    },
  },
];

interface Observation {
  scenario: Scenario;
  root: string;
  workDir: string;
  masterLines: number[];
  wait: WaitResult;
  attempts: NetSocketAttempt[];
  logLines: string[];
  ss: { text: string; rows: SsRow[] };
  traceText: string;
  check: { rc: number | undefined; output: string };
  exit: number | undefined;
}


function normalizeOutcome(o: Outcome | { ok: 'unknown' } | { ok: false; call: 'none' }) {
  if (o.ok === true) return { ok: true };
  if (o.ok === 'unknown') return { ok: 'unknown' };
  if (o.call === 'none') return { ok: false, call: 'none' };
  return { ok: false, call: o.call, errno: errnoName(o.errno) };
}

const baseEnv = checkOracleEnv([], []);
const rootReasons = postfixRootReady();
const env = { ...baseEnv, ok: baseEnv.ok && rootReasons.length === 0, reasons: [...baseEnv.reasons, ...rootReasons] };
if (!env.ok && !env.required) console.warn(`[postfix oracle] skipped: ${env.reasons.join('; ')}`);

describe.runIf(env.ok || env.required)('real postfix vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-postfix-'));

  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the postfix oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  async function runScenario(sc: Scenario): Promise<Observation> {
    const dir = join(tmpBase, sc.id);
    const root = join(dir, 'root');
    const workDir = join(dir, 'work');
    mkdirSync(join(root, 'etc', 'postfix'), { recursive: true });
    mkdirSync(workDir, { recursive: true });
    const mainCf = withParams(debianMainCf(), sc.params ?? {});
    const master = sc.inet ? withInetServices(debianMasterCf(), sc.inet) : withInetServices(debianMasterCf(), [SMTP]);
    writeFileSync(join(root, 'etc', 'postfix', 'main.cf'), mainCf);
    writeFileSync(join(root, 'etc', 'postfix', 'master.cf'), master.text);
    copyFileSync(`${POSTFIX_ROOT}/etc/services`, join(root, 'etc', 'services'));
    if (sc.unit) {
      mkdirSync(join(root, dirname(sc.unit.path)), { recursive: true });
      writeFileSync(join(root, sc.unit.path), sc.unit.text);
    }
    const run = await startInNamespace({
      workDir,
      command: postfixCommand(workDir, join(root, 'etc', 'postfix'), { dropCapNetBindService: sc.unit?.dropCapNetBindService === true }),
      hostname: 'vm',
      extraAddresses: sc.extraAddresses,
      holders: sc.holders,
    });
    try {
      const wait = await run.waitFor(postfixFirstAttemptDone, { timeoutMs: 45_000, quietMs: 300 });
      const ss = await run.ss();
      const snap = run.snapshot();
      const attempts = boundNetSockets(socketsFromTrace(snap.trace));
      const obs: Observation = {
        scenario: sc,
        root,
        workDir,
        masterLines: master.lineNumbers,
        wait,
        attempts,
        logLines: snap.logLines,
        ss,
        traceText: snap.traceText,
        check: postfixCheckResult(workDir),
        exit: snap.commandExit,
      };
      if (RECORD) record(obs);
      return obs;
    } finally {
      await run.stop();
    }
  }

  const observe = observeOnce(runScenario);

  describe.concurrent.each(SCENARIOS)('$id: $title', (sc) => {
    it('real postfix: `postfix check` passes and the first start is observed', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.wait.timedOut, 'first start did not settle in time').toBe(false);
      expect(o.check.rc, `postfix check: ${o.check.output}`).toBe(sc.checkRejects ? 1 : 0);
      expect(o.logLines.some((l) => /postfix\/master\[\d+\]: /.test(l)), 'no syslog line from master').toBe(true);
      // Every failure is fatal: master exits 1 and logs why; otherwise it keeps running.
      const failed = o.attempts.some((a) => a.outcome.ok === false) || fatal(o) !== undefined;
      if (failed) {
        expect(o.exit).toBe(1);
        expect(fatal(o)).toBeDefined();
      } else {
        expect(o.exit).toBeUndefined();
        expect(o.logLines.some((l) => l.includes('daemon started'))).toBe(true);
      }
      // Each failing bind is logged in postfix's words and recognised by postfixRecogniser with its endpoint.
      for (const a of o.attempts.filter((x) => x.outcome.ok === false)) {
        const ev = o.logLines.map((l) => postfixRecogniser.recognise(parseSyslogHeader(l))).find((r) => r?.kind === 'bind-failed');
        expect(ev).toMatchObject({ address: a.address, port: a.port, errno: errnoName((a.outcome as { errno: string }).errno) });
      }
      sc.check?.(o);
    }, 60_000);

    it('bindcheck predicts the same sockets, options and outcomes', async () => {
      const o = await observe(sc);
      const extraLiveSockets = holdersAsLive(sc.holders);
      const scanOptions = {
        root: o.root,
        live: false,
        readers: [postfixReader],
        extraLiveSockets,
        extraLocalAddresses: (sc.extraAddresses ?? []).map((a) => a.replace(/\/\d+$/, '')),
      };
      const report = await scan(scanOptions);
      // The JSON report has no onFailure; the plan the reader made has.
      const onFailure = scanInventory(scanOptions).inventory.daemons.find((d) => d.daemon === 'postfix')?.onFailure;
      const plan = report.daemons.find((d) => d.daemon === 'postfix');
      expect(plan, 'scan() found no postfix').toBeDefined();
      const predicted = plan!.sockets;
      const view = (s: { proto: string; family: string; address: string; port: number; outcome: unknown }) => ({
        proto: s.proto,
        family: s.family,
        address: s.address,
        port: s.port,
        outcome: normalizeOutcome(s.outcome as Outcome),
      });
      const noLocal = fatal(o) !== undefined && /no local interface found for (\S+)/.exec(fatal(o)!);
      if (noLocal) {
        // own_inet_addr.c checks inet_interfaces against the interfaces and exits before any bind(); bindcheck
        // predicts the same address failing with EADDRNOTAVAIL at bind() — the kernel's answer to the same question.
        expect(o.attempts).toEqual([]);
        expect(predicted.map(view)[0]).toMatchObject({ address: noLocal[1], outcome: { ok: false, call: 'bind', errno: 'EADDRNOTAVAIL' } });
        return;
      }
      // Sockets after the first failure are never created (master exits): bindcheck says "not reached".
      const reached = predicted.filter((p) => normalizeOutcome(p.outcome as Outcome).call !== 'none');
      expect(reached.map(view), 'sockets (in order) and outcomes').toEqual(o.attempts.map(view));
      expect(
        reached.map((p) => ({ reuseAddr: p.reuseAddr, reusePort: p.reusePort, v6Only: p.v6Only ?? undefined })),
        'socket options master sets',
      ).toEqual(o.attempts.map((a) => ({ reuseAddr: a.socket.reuseAddr, reusePort: a.socket.reusePort, v6Only: a.socket.v6Only })));
      for (const p of predicted) {
        expect(p.source.file).toBe('/etc/postfix/master.cf');
        expect(o.masterLines).toContain(p.source.line);
      }
      // What master does after a failed socket: it exits (status 1) without creating the rest — onFailure 'exit'.
      const failed = o.attempts.some((a) => a.outcome.ok === false);
      expect(plan!.starts, 'whether master starts').toBe(!failed);
      if (failed) {
        expect(onFailure, "plan's onFailure").toBe('exit');
        expect(o.exit).toBe(1);
      } else expect(o.exit).toBeUndefined();
      if (sc.unit) {
        // The refusal comes from the unit bindcheck read, not from the config.
        expect(predicted.every((p) => p.derivation.some((d) => d.includes('CapabilityBoundingSet') && d.includes(sc.unit!.path)))).toBe(true);
      }
    }, 60_000);
  });
});

function summarize(o: Observation): string {
  const lines = [`[postfix oracle] ${o.scenario.id} (${o.wait.elapsedMs} ms${o.wait.timedOut ? ', TIMED OUT' : ''}) exit=${o.exit ?? 'running'} check=${o.check.rc}`];
  for (const a of o.attempts) {
    lines.push(`  ${attemptLine(a)}`);
  }
  for (const l of o.logLines) lines.push(`  log: ${l}`);
  for (const r of o.ss.rows) lines.push(`  ss: ${r.raw}`);
  if (o.check.output.trim()) lines.push(`  postfix check: ${o.check.output.trim()}`);
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
        params: o.scenario.params ?? {},
        inet: o.scenario.inet ?? [SMTP],
        holders: o.scenario.holders ?? [],
        note: 'strace.txt and syslog.txt are unedited outputs of the real postfix 3.7.11 master -d (Debian 12 root) in a private namespace, stopped after its first start.',
        postfixCheck: o.check,
        exitStatus: o.exit ?? null,
        sockets: recordedSockets(o.attempts),
      },
      null,
      2,
    ) + '\n',
  );
}

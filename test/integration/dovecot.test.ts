/**
 * The real Dovecot as bindcheck's oracle.
 *
 * For each scenario: write a dovecot.conf (or copy Debian's installed /etc/dovecot) into a temporary appliance
 * root, run the real `dovecot -F` on it in a private network/mount/pid namespace under strace (the root's
 * /etc/dovecot bind-mounted over the host's), wait until the master logged "starting up" or gave up, and compare
 * what it really did — computed from the trace, never written down here — with what
 * `scan({ root, live: false, readers: [dovecotReader] })` predicts for that root.
 *
 * Prerequisites (root, unshare, strace, dovecot: .ci/install-dovecot.sh) missing → skipped with the reason,
 * except under CI where that is a failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptLine, errnoName, holdersAsLive, observeOnce, recordedSockets } from './harness/oracle.js';
import { scan, scanInventory } from '../../src/index.js';
import { dovecotReader } from '../../src/readers/dovecot/index.js';
import { dovecotRecogniser } from '../../src/evidence/logs/recognisers/dovecot.js';
import { recogniseRaw } from '../../src/evidence/logs/recognise.js';
import { checkOracleEnv } from './harness/env.js';
import { startInNamespace, type PortHolderSpec, type SsRow, type WaitResult } from './harness/namespace.js';
import { boundNetSockets, socketsFromTrace, type NetSocketAttempt, type Outcome } from './harness/strace.js';
import {
  copyDebianConfig,
  DEBIAN_PROTOCOLS_DIR,
  DOVECONF_BINARY,
  DOVECOT_BINARY,
  dovecotStartDone,
  makeThrowawayCert,
  writeConf,
} from './daemons/dovecot.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, 'recorded', 'dovecot');
/** Set BINDCHECK_RECORD=1 to (re)write test/integration/recorded/dovecot/<scenario>/ from this run. */
const RECORD = process.env.BINDCHECK_RECORD === '1';

interface Scenario {
  id: string;
  title: string;
  /** Lines after the base config (`ssl = no`); ignored when `debian` is set. */
  lines: string[];
  /** Run Debian's installed /etc/dovecot (with a throwaway certificate) instead. */
  debian?: boolean;
  holders?: PortHolderSpec[];
  extraAddresses?: string[];
  /** `doveconf -n` accepts the config although dovecot cannot start with it. */
  doveconfAccepts?: boolean;
  /**
   * A systemd unit for dovecot written into the root (bindcheck reads it), and how the real master is started to
   * match it: with CAP_NET_BIND_SERVICE dropped from its bounding set, as `CapabilityBoundingSet=~…` does.
   */
  unit?: { text: string; dropCapNetBindService: boolean };
  recordTrace?: boolean;
  check?: (o: Observation) => void;
}

const imapListener = (name: string, body: string[]) => ['service imap-login {', `  inet_listener ${name} {`, ...body.map((b) => `    ${b}`), '  }', '}'];

const SCENARIOS: Scenario[] = [
  { id: 'debian-default', title: "Debian's installed /etc/dovecot (imapd, pop3d, submissiond, lmtpd) with a throwaway certificate", lines: [], debian: true, recordTrace: true },
  { id: 'listen-star', title: 'listen = * (IPv4 only)', lines: ['protocols = imap', 'listen = *'] },
  { id: 'listen-both', title: 'listen = *, :: (the default, written out)', lines: ['protocols = imap', 'listen = *, ::'], recordTrace: true },
  {
    id: 'listen-v6-only',
    title: 'listen = :: alone: one IPv6 socket with IPV6_V6ONLY, no IPv4',
    lines: ['protocols = imap', 'listen = ::'],
    check: (o) => expect(o.attempts.every((a) => a.family === 'inet6' && a.socket.v6Only === true)).toBe(true),
  },
  {
    id: 'specific-plus-wildcard',
    title: 'inet_listener with address = 127.0.0.1 on 143 next to the default imap listener on *, ::',
    lines: ['protocols = imap', ...imapListener('imap-local', ['address = 127.0.0.1', 'port = 143'])],
    doveconfAccepts: true,
    recordTrace: true,
  },
  {
    id: 'two-listeners-one-port',
    title: 'a second listener on port 143 with address = *, :: (doveconf compares "143:" with "143:*, ::")',
    lines: ['protocols = imap', ...imapListener('imap-again', ['address = *, ::', 'port = 143'])],
    doveconfAccepts: true,
  },
  {
    id: 'reuse-port-both',
    title: 'reuse_port = yes on both listeners of port 143',
    lines: [
      'protocols = imap',
      'service imap-login {',
      '  inet_listener imap {',
      '    reuse_port = yes',
      '  }',
      '  inet_listener imap-again {',
      '    address = *, ::',
      '    port = 143',
      '    reuse_port = yes',
      '  }',
      '}',
    ],
    recordTrace: true,
  },
  {
    id: 'not-local',
    title: 'listen = 192.0.2.99 (not a local address)',
    lines: ['protocols = imap', 'listen = 192.0.2.99'],
    doveconfAccepts: true,
    recordTrace: true,
  },
  {
    id: 'no-cap-net-bind-service',
    title: 'the unit drops CAP_NET_BIND_SERVICE: the master is root, but 143 is privileged (listen = *, :: by default)',
    lines: ['protocols = imap'],
    unit: {
      // Debian's dovecot.service, with the bounding set restricted.
      text: '[Service]\nType=notify\nExecStart=/usr/sbin/dovecot -F\nNonBlocking=yes\nCapabilityBoundingSet=~CAP_NET_BIND_SERVICE\n',
      dropCapNetBindService: true,
    },
    doveconfAccepts: true,
    recordTrace: true,
    check: (o) => {
      // Both sockets of the imap listener are tried and refused; only then does the master give up.
      expect(o.attempts.length).toBe(2);
      for (const a of o.attempts) expect(a.outcome).toMatchObject({ ok: false, call: 'bind', errno: 'EACCES' });
    },
  },
  {
    id: 'held-no-reuseport',
    title: '0.0.0.0:143 already held by another process (SO_REUSEADDR, listening)',
    lines: ['protocols = imap', 'listen = *'],
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 143, reuseAddr: true }],
    doveconfAccepts: true,
    recordTrace: true,
  },
  {
    id: 'held-reuseport',
    title: '0.0.0.0:143 held with SO_REUSEPORT; dovecot with reuse_port = yes joins it',
    lines: ['protocols = imap', 'listen = *', ...imapListener('imap', ['reuse_port = yes'])],
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 143, reuseAddr: true, reusePort: true }],
  },
  {
    id: 'held-reuseport-dovecot-without',
    title: '0.0.0.0:143 held with SO_REUSEPORT; dovecot without reuse_port',
    lines: ['protocols = imap', 'listen = *'],
    holders: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 143, reuseAddr: true, reusePort: true }],
  },
  {
    id: 'port-zero',
    title: 'imap listener port = 0; pop3 on its default',
    lines: ['protocols = imap pop3', ...imapListener('imap', ['port = 0'])],
  },
  { id: 'imap-only', title: 'protocols = imap', lines: ['protocols = imap'] },
  { id: 'imap-pop3', title: 'protocols = imap pop3 (pop3-login listens first)', lines: ['protocols = imap pop3'] },
  {
    id: 'listener-order',
    title: 'added listeners keep config order after the built-in one; services in descending name order',
    lines: [
      'protocols = imap pop3 submission',
      ...imapListener('zz', ['port = 1144']),
      ...imapListener('aa', ['port = 1143']),
      'service pop3-login {',
      '  inet_listener pop3 {',
      '    address = 127.0.0.1',
      '  }',
      '}',
    ],
  },
  { id: 'no-protocols', title: 'no protocols line: dovecot starts "without any protocols"', lines: [] },
];

interface Observation {
  scenario: Scenario;
  root: string;
  workDir: string;
  wait: WaitResult;
  attempts: NetSocketAttempt[];
  logLines: string[];
  ss: { text: string; rows: SsRow[] };
  traceText: string;
  /** The master was still running when observed. */
  running: boolean;
}


function normalizeOutcome(o: { ok: true } | { ok: false; call: string; errno?: string | number } | { ok: 'unknown' }) {
  if (o.ok === true) return { ok: true };
  if (o.ok === 'unknown') return { ok: 'unknown' };
  if (o.call === 'none') return { ok: false, call: 'none' };
  return { ok: false, call: o.call, errno: errnoName(o.errno ?? 'UNKNOWN') };
}

const env = checkOracleEnv([DOVECOT_BINARY, DOVECONF_BINARY, '/usr/bin/openssl'], [DEBIAN_PROTOCOLS_DIR]);
if (!env.ok && !env.required) console.warn(`[dovecot oracle] skipped: ${env.reasons.join('; ')} (install with .ci/install-dovecot.sh)`);

describe.runIf(env.ok || env.required)('real dovecot vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-dovecot-'));

  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the dovecot oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => {
    if (process.env.BINDCHECK_KEEP_TMP !== '1') rmSync(tmpBase, { recursive: true, force: true });
  });

  function prepareRoot(sc: Scenario): string {
    const root = join(tmpBase, sc.id, 'root');
    mkdirSync(root, { recursive: true });
    if (sc.debian) {
      copyDebianConfig(root);
      makeThrowawayCert(join(root, 'etc', 'dovecot', 'private'));
    } else writeConf(root, sc.lines);
    if (sc.unit) {
      mkdirSync(join(root, 'etc', 'systemd', 'system'), { recursive: true });
      writeFileSync(join(root, 'etc', 'systemd', 'system', 'dovecot.service'), sc.unit.text);
    }
    return root;
  }

  async function runScenario(sc: Scenario): Promise<Observation> {
    const root = prepareRoot(sc);
    const workDir = join(tmpBase, sc.id, 'work');
    const baseDir = join(workDir, 'run');
    mkdirSync(baseDir, { recursive: true });
    const run = await startInNamespace({
      workDir,
      // base_dir on the command line keeps the master's sockets and pid file out of the host's /run without
      // changing the dovecot.conf bindcheck reads (base_dir has no part in inet listeners).
      command: [
        // As systemd would start it under CapabilityBoundingSet=~CAP_NET_BIND_SERVICE: root keeps only the bounding set.
        ...(sc.unit?.dropCapNetBindService ? ['setpriv', '--bounding-set=-net_bind_service', '--'] : []),
        DOVECOT_BINARY,
        '-F',
        '-c',
        '/etc/dovecot/dovecot.conf',
        '-o',
        `base_dir=${baseDir}`,
      ],
      strace: true,
      bindMounts: [{ source: join(root, 'etc', 'dovecot'), target: '/etc/dovecot' }],
      extraAddresses: sc.extraAddresses,
      holders: sc.holders,
    });
    try {
      const wait = await run.waitFor(dovecotStartDone, { timeoutMs: 15_000, quietMs: 400 });
      const ss = await run.ss();
      const snap = run.snapshot();
      const obs: Observation = {
        scenario: sc,
        root,
        workDir,
        wait,
        attempts: boundNetSockets(socketsFromTrace(snap.trace)),
        logLines: snap.logLines,
        ss,
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
    it('real dovecot: start observed', async () => {
      const o = await observe(sc);
      console.log(summarize(o));
      expect(o.wait.timedOut, 'dovecot did not finish starting in time').toBe(false);
      expect(o.attempts.every((a) => a.outcome.ok !== 'unknown'), 'a bound socket got no listen()').toBe(true);
      const failed = o.attempts.some((a) => a.outcome.ok === false);
      // main.c: any failed listener → "Failed to start listeners" and exit; otherwise it runs on.
      expect(o.running, failed ? 'dovecot keeps running after a failed listener' : 'dovecot exited').toBe(!failed);
      if (failed) {
        expect(o.logLines.some((l) => l.includes('Fatal: Failed to start listeners'))).toBe(true);
        expect(o.wait.commandExit).toBe(89);
      } else expect(o.logLines.some((l) => l.includes('starting up'))).toBe(true);
      sc.check?.(o);
    }, 30_000);

    it('bindcheck predicts the same sockets, options and outcomes', async () => {
      const o = await observe(sc);
      const extraLiveSockets = holdersAsLive(sc.holders);
      const scanOptions = {
        root: o.root,
        live: false,
        readers: [dovecotReader],
        extraLiveSockets,
        extraLocalAddresses: (sc.extraAddresses ?? []).map((a) => a.replace(/\/\d+$/, '')),
      };
      const report = await scan(scanOptions);
      // The JSON report has no onFailure; the plan the reader made has.
      const onFailure = scanInventory(scanOptions).inventory.daemons.find((d) => d.daemon === 'dovecot')?.onFailure;
      const plan = report.daemons.find((d) => d.daemon === 'dovecot');
      expect(plan, 'scan() found no dovecot').toBeDefined();
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
        'socket options dovecot sets',
      ).toEqual(o.attempts.map((a) => ({ reuseAddr: a.socket.reuseAddr, reusePort: a.socket.reusePort, v6Only: a.socket.v6Only })));
      expect(plan!.starts, 'whether dovecot starts').toBe(o.attempts.every((a) => a.outcome.ok === true));
      // After a failed listener the master still tries every other one (all are in the trace), then exits:
      // onFailure 'exit-after-all'.
      if (!plan!.starts) {
        expect(onFailure, "plan's onFailure").toBe('exit-after-all');
        expect(o.running, 'dovecot exited').toBe(false);
      }
      if (sc.unit) {
        // The refusal comes from the unit bindcheck read, not from the config.
        expect(predicted.every((p) => p.derivation.some((d) => d.includes('CapabilityBoundingSet') && d.includes('/etc/systemd/system/dovecot.service')))).toBe(true);
      }
      expect(report.findings.filter((f) => f.code.startsWith('BC0')), 'no input findings on a config dovecot accepts').toEqual([]);
    }, 30_000);

    it('the recogniser maps dovecot\'s own failure lines to the failed sockets', async () => {
      const o = await observe(sc);
      const events = o.logLines
        .map((l, i) => recogniseRaw(l, { file: 'syslog', line: i + 1 }, [dovecotRecogniser])?.event)
        .filter((e) => e !== undefined);
      const failed = o.attempts.filter((a) => a.outcome.ok === false);
      const serviceLines = events.filter((e) => e.kind === 'bind-error');
      expect(serviceLines.map((e) => ({ family: e.family, address: e.address, port: e.port, errno: e.errno }))).toEqual(
        failed.map((a) => ({ family: a.family, address: a.address, port: a.port, errno: (a.outcome as { errno: string }).errno })),
      );
      for (const e of serviceLines) expect(e.listenerName).toBe('imap-login');
      expect(events.some((e) => e.kind === 'gave-up')).toBe(failed.length > 0);
    }, 30_000);

    if (sc.doveconfAccepts) {
      it('doveconf -n accepts this config although dovecot cannot start with it', async () => {
        const o = await observe(sc);
        const out = execFileSync(DOVECONF_BINARY, ['-n', '-c', join(o.root, 'etc', 'dovecot', 'dovecot.conf')], { encoding: 'utf8', stdio: 'pipe' });
        expect(out).toContain('ssl = no');
        expect(o.attempts.some((a) => a.outcome.ok === false), 'the real dovecot fails').toBe(true);
      }, 30_000);
    }
  });
});

function summarize(o: Observation): string {
  const lines = [`[dovecot oracle] ${o.scenario.id} (${o.wait.elapsedMs} ms, exit ${o.wait.commandExit ?? 'none: running'})`];
  for (const a of o.attempts) {
    lines.push(`  ${attemptLine(a)}`);
  }
  for (const l of o.logLines) lines.push(`  log: ${l}`);
  for (const r of o.ss.rows) lines.push(`  ss: ${r.raw}`);
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
        config: o.scenario.debian ? "Debian 12's installed /etc/dovecot" : ['ssl = no', ...o.scenario.lines],
        holders: o.scenario.holders ?? [],
        note: 'strace.txt and syslog.txt are unedited outputs of the real `dovecot -F` (Debian 12, 2.3.19.1) in a private namespace.',
        exitStatus: o.wait.commandExit ?? null,
        keptRunning: o.running,
        sockets: recordedSockets(o.attempts),
      },
      null,
      2,
    ) + '\n',
  );
}

/**
 * Socket-activated sshd (Debian's and Ubuntu's ssh.socket) against the real sshd: with a socket unit for ssh.service
 * started at boot, systemd creates the listening sockets and passes them to sshd (LISTEN_FDS); Debian's sshd then
 * binds nothing from sshd_config. The harness plays systemd's part with exactly the sockets bindcheck's socket-units
 * reader predicts for the root's ssh.socket (systemd's own binding is proven in socket-units.test.ts), runs the real
 * `sshd -D` on them in a private namespace under strace, and compares: sshd makes no bind() of its own, listens on
 * the inherited sockets only, and bindcheck's sshd plan has no sockets and flags the ignored Port/ListenAddress lines
 * (BC406). A control run without the socket unit shows sshd binding those very lines.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scan } from '../../src/index.js';
import { sshdReader } from '../../src/readers/sshd/index.js';
import { socketUnitsReader } from '../../src/readers/socket-units/index.js';
import { checkOracleEnv } from './harness/env.js';
import { startInNamespace } from './harness/namespace.js';
import { attemptLine, describeOutcome } from './harness/oracle.js';
import { boundNetSockets, socketsFromTrace, type NetSocketAttempt } from './harness/strace.js';
import { HOST_KEY, makeRoot, SSH_KEYGEN, SSHD_BINARY, sshdStartDone } from './daemons/sshd.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const LISTEN_FDS = join(HERE, 'harness', 'listen-fds.py');

const SSH_SOCKET = ['[Unit]', 'Description=OpenBSD Secure Shell server socket', '', '[Socket]', 'ListenStream=2200', 'Accept=no', '', '[Install]', 'WantedBy=sockets.target'];
const SSH_SERVICE = ['[Unit]', 'Description=OpenBSD Secure Shell server', '', '[Service]', 'ExecStart=/usr/sbin/sshd -D', 'Type=notify'];

const env = checkOracleEnv([SSHD_BINARY, SSH_KEYGEN, '/usr/bin/python3']);
if (!env.ok && !env.required) console.warn(`[sshd socket activation] skipped: ${env.reasons.join('; ')} (install with .ci/install-sshd.sh)`);

describe.runIf(env.ok || env.required)('socket-activated sshd: the real sshd vs bindcheck', () => {
  const tmpBase = mkdtempSync(join(tmpdir(), 'bindcheck-it-sshd-sa-'));
  beforeAll(() => {
    if (!env.ok) throw new Error(`CI requires the sshd oracle, but: ${env.reasons.join('; ')}`);
  });
  afterAll(() => rmSync(tmpBase, { recursive: true, force: true }));

  async function run(id: string, activated: boolean) {
    const root = join(tmpBase, id, 'root');
    const workDir = join(tmpBase, id, 'work');
    mkdirSync(workDir, { recursive: true });
    makeRoot(root, { lines: ['Port 2222', 'ListenAddress 127.0.0.1'], files: { 'lib/systemd/system/ssh.socket': SSH_SOCKET, 'lib/systemd/system/ssh.service': SSH_SERVICE } });
    if (activated) {
      const wants = join(root, 'etc/systemd/system/sockets.target.wants');
      mkdirSync(wants, { recursive: true });
      symlinkSync('/lib/systemd/system/ssh.socket', join(wants, 'ssh.socket'));
    }
    const report = await scan({ root, live: false, readers: [sshdReader, socketUnitsReader] });
    const unitSockets = report.daemons.find((d) => d.daemon === 'systemd-socket')?.sockets ?? [];
    const handed = unitSockets.map((s) => ({ proto: s.proto, family: s.family, address: s.address, port: s.port, reuseAddr: s.reuseAddr, reusePort: s.reusePort, v6Only: s.v6Only }));
    const command = activated ? ['/usr/bin/python3', LISTEN_FDS, JSON.stringify(handed), SSHD_BINARY, '-D', '-h', HOST_KEY] : [SSHD_BINARY, '-D', '-h', HOST_KEY];
    const ns = await startInNamespace({ workDir, command, strace: true, bindMounts: [{ source: join(root, 'etc', 'ssh'), target: '/etc/ssh' }], tmpfs: ['/run'], mkdirs: ['/run/sshd'] });
    try {
      const wait = await ns.waitFor(sshdStartDone, { timeoutMs: 15_000, quietMs: 500 });
      const ss = await ns.ss();
      const snap = ns.snapshot();
      const attempts: NetSocketAttempt[] = boundNetSockets(socketsFromTrace(snap.trace));
      console.log(`[sshd socket activation] ${id}: ${wait.commandExit === undefined ? 'running' : `exit ${wait.commandExit}`}\n  ${attempts.map(attemptLine).join('\n  ')}\n  ${snap.logLines.join('\n  ')}`);
      return { report, handed, attempts, ss, logLines: snap.logLines, running: snap.commandExit === undefined, timedOut: wait.timedOut };
    } finally {
      await ns.stop();
    }
  }

  it('with ssh.socket enabled sshd binds nothing itself and listens only on the sockets systemd hands it (BC406)', async () => {
    const o = await run('activated', true);
    expect(o.timedOut, 'sshd did not finish starting in time').toBe(false);
    expect(o.running).toBe(true);
    expect(o.handed.map((s) => `${s.proto}/${s.family} ${s.address}:${s.port}`), 'what bindcheck says ssh.socket creates').toEqual(['tcp/inet6 :::2200']);
    // Every bind() in the trace is the stand-in systemd's, before exec: sshd added none.
    expect(o.attempts.map((a) => `${a.proto}/${a.family} ${a.address}:${a.port} ${describeOutcome(a)}`)).toEqual(['tcp/inet6 :::2200 ok']);
    const sshdRows = o.ss.rows.filter((r) => r.process.includes('"sshd"'));
    expect(sshdRows.map((r) => r.port)).toEqual([2200]);
    expect(o.ss.rows.some((r) => r.port === 2222), 'nothing listens on sshd_config\'s Port').toBe(false);
    const plan = o.report.daemons.find((d) => d.daemon === 'sshd');
    expect(plan?.sockets, "bindcheck: sshd's own sockets").toEqual([]);
    expect(o.report.findings.filter((f) => f.code === 'BC406').map((f) => `${f.location.file}:${f.location.line}`)).toEqual(['/etc/ssh/sshd_config:3']);
  }, 40_000);

  it('without it (control) sshd binds its Port and ListenAddress lines, and bindcheck plans them', async () => {
    const o = await run('control', false);
    expect(o.timedOut).toBe(false);
    expect(o.handed).toEqual([]);
    const plan = o.report.daemons.find((d) => d.daemon === 'sshd');
    expect(plan?.sockets.map((s) => `${s.proto}/${s.family} ${s.address}:${s.port}`)).toEqual(o.attempts.map((a) => `${a.proto}/${a.family} ${a.address}:${a.port}`));
    expect(o.attempts.map((a) => `${a.address}:${a.port} ${describeOutcome(a)}`)).toEqual(['127.0.0.1:2222 ok']);
    expect(o.report.findings.filter((f) => f.code === 'BC406')).toEqual([]);
  }, 40_000);
});

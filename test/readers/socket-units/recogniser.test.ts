import { describe, expect, it } from 'vitest';
import { recogniseLine } from '../../../src/evidence/logs/recognise.js';

// Lines as Debian 12's systemd 252 wrote them in test/integration/socket-units.test.ts (journal MESSAGE= fields),
// here with a syslog header as a host's /var/log/syslog or `journalctl -o short` shows them.
describe('systemd socket-unit failure lines', () => {
  it('Failed to create listening socket: the endpoint, errno and unit', () => {
    const e = recogniseLine('Nov 27 07:31:52 host systemd[1]: held.socket: Failed to create listening socket (0.0.0.0:8084): Address already in use');
    expect(e).toMatchObject({ kind: 'bind-error', unit: 'held.socket', daemon: 'systemd-socket', family: 'inet', address: '0.0.0.0', port: 8084, errno: 'EADDRINUSE', program: 'systemd', pid: 1 });
    const v6 = recogniseLine('Nov 27 07:31:52 host systemd[1]: ssh.socket: Failed to create listening socket ([::]:22): Address already in use');
    expect(v6).toMatchObject({ family: 'inet6', address: '::', port: 22, unit: 'ssh.socket' });
  });

  it('an AF_UNIX path names no endpoint', () => {
    const e = recogniseLine('Nov 27 07:31:52 host systemd[1]: x.socket: Failed to create listening socket (/run/x.sock): Permission denied');
    expect(e).toMatchObject({ kind: 'bind-error', unit: 'x.socket', errno: 'EACCES' });
    expect(e?.port).toBeUndefined();
  });

  it('Failed to listen on sockets: the unit gives up', () => {
    expect(recogniseLine('Nov 27 07:31:52 host systemd[1]: held.socket: Failed to listen on sockets: Input/output error')).toMatchObject({ kind: 'gave-up', unit: 'held.socket' });
  });

  it('the job status line, with and without the unit name', () => {
    expect(recogniseLine('Nov 27 07:31:52 host systemd[1]: Failed to listen on held.socket - Held Test Socket.')).toMatchObject({ kind: 'unit-failed', unit: 'held.socket' });
    const old = recogniseLine('Nov 27 07:31:52 host systemd[1]: Failed to listen on OpenBSD Secure Shell server socket.');
    expect(old).toMatchObject({ kind: 'unit-failed' });
    expect(old?.unit).toBeUndefined();
  });

  it("the manager's receive line is a socket problem, not a second bind error", () => {
    expect(recogniseLine('Nov 27 07:31:52 host systemd[1]: held.socket: Failed to receive listening socket (0.0.0.0:8084): Input/output error')).toMatchObject({ kind: 'socket-problem', unit: 'held.socket', port: 8084 });
  });

  it('look-alikes stay as they were', () => {
    expect(recogniseLine("Nov 27 07:31:52 host systemd[1]: held.socket: Failed with result 'resources'.")).toMatchObject({ kind: 'unit-failed', unit: 'held.socket' });
    expect(recogniseLine('Nov 27 07:31:52 host systemd[1]: Listening on port.socket.')).toBeNull();
  });
});

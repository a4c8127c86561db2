import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recogniseLine, scanLogText } from '../../../src/evidence/logs/index.js';
import { parseSyslogHeader } from '../../../src/evidence/logs/syslog-line.js';

const SEED = fs.readFileSync('/work/shared/seeds/000_a84acadb5dd0a10a.txt', 'utf8').split('\n');
const seedLines = (re: RegExp): string[] => SEED.filter((l) => re.test(l));

describe('the seed', () => {
  it('recognises the messages line verbatim', () => {
    const [line] = seedLines(/^Aug 30 16:23:33 localhost sendmail/);
    const e = recogniseLine(line as string, { file: '/var/log/messages', line: 7 });
    expect(e).toMatchObject({
      kind: 'bind-failed', daemon: 'sendmail', listenerName: 'MTA', errno: 'EADDRINUSE', time: 'Aug 30 16:23:33',
      host: 'localhost', program: 'sendmail', pid: 11217, count: 1, source: { file: '/var/log/messages', line: 7 },
    });
    expect(e?.message).toBe('NOQUEUE: SYSERR(root): opendaemonsocket: daemon MTA: cannot bind: Address already in use');
  });

  it('collapses the systemctl status retry loop into a handful of events', () => {
    const lines = seedLines(/^Aug 30 14:5\d:\d\d gorp /);
    expect(lines).toHaveLength(10);
    const { events } = scanLogText(lines.join('\n') + '\n', 'systemctl-status');
    expect(events.map((e) => [e.kind, e.listenerName ?? e.unit, e.count, e.time, e.lastTime, e.source.line])).toEqual([
      ['socket-problem', 'Daemon1', 4, 'Aug 30 14:55:47', 'Aug 30 14:56:02', 1],
      ['bind-failed', 'Daemon1', 3, 'Aug 30 14:55:52', 'Aug 30 14:56:02', 2],
      ['unit-exited', 'sendmail.service', 1, 'Aug 30 14:56:07', undefined, 8],
      ['unit-failed', 'sendmail.service', 1, 'Aug 30 14:56:07', undefined, 9],
      ['unit-failed', 'sendmail.service', 1, 'Aug 30 14:56:07', undefined, 10],
    ]);
    expect(events[1]).toMatchObject({ errno: 'EADDRINUSE', host: 'gorp', pid: 24097 });
    expect(events[2]).toMatchObject({ exitStatus: 71, program: 'systemd', pid: 1 });
  });

  it('recognises a pasted line without timestamp or host', () => {
    const e = recogniseLine('sendmail[24097]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon Daemon1: cannot bind: Address already in use');
    expect(e).toMatchObject({ kind: 'bind-failed', listenerName: 'Daemon1', errno: 'EADDRINUSE', program: 'sendmail', pid: 24097 });
    expect(e?.time).toBeUndefined();
    expect(e?.host).toBeUndefined();
  });
});

interface Scenario {
  daemonPortOptions: { line: number; text: string }[];
  firstAttempt: { outcome: { ok: boolean; call?: string; errno?: string } }[];
}

/** sendmail's name for daemon line i: its Name=, else Daemon<i> (docs/daemons/sendmail-observed.md). */
function daemonName(text: string, i: number): string {
  return /Name=([^,\s]+)/.exec(text)?.[1] ?? `Daemon${i}`;
}

describe('recorded real sendmail syslog', () => {
  const dir = path.join(__dirname, '../../integration/recorded/sendmail');
  for (const name of fs.readdirSync(dir)) {
    it(name, () => {
      const scenario = JSON.parse(fs.readFileSync(path.join(dir, name, 'scenario.json'), 'utf8')) as Scenario;
      const text = fs.readFileSync(path.join(dir, name, 'syslog.txt'));
      const { events } = scanLogText(text, 'syslog.txt');
      const failures = events.filter((e) => e.kind === 'bind-failed' || e.kind === 'listen-failed');
      const lines = scenario.daemonPortOptions.length > 0 ? scenario.daemonPortOptions : [{ line: 0, text: '' }];
      const expected = scenario.firstAttempt.flatMap((a, i) =>
        a.outcome.ok ? [] : [{ listenerName: daemonName(lines[i]?.text ?? '', i), kind: `${a.outcome.call}-failed`, errno: a.outcome.errno }],
      );
      expect(failures.map((e) => ({ listenerName: e.listenerName, kind: e.kind, errno: e.errno }))).toEqual(expected);
      for (const f of failures) {
        expect(events).toContainEqual(expect.objectContaining({ kind: 'socket-problem', listenerName: f.listenerName, pid: f.pid }));
      }
      const textLines = text.toString('utf8').split('\n');
      for (const e of events) expect(textLines[e.source.line - 1]).toContain(e.message);
    });
  }
});

describe('sendmail forms', () => {
  const sm = (msg: string) => recogniseLine(`<18>Nov 27 04:31:05 sendmail[69]: ${msg}`);
  it.each([
    ['NOQUEUE: SYSERR(root): opendaemonsocket: daemon MTA: cannot listen: Address already in use', 'listen-failed', 'MTA', 'EADDRINUSE'],
    ['NOQUEUE: SYSERR(root): opendaemonsocket: daemon MTA: cannot bind: Cannot assign requested address', 'bind-failed', 'MTA', 'EADDRNOTAVAIL'],
    ['NOQUEUE: SYSERR(root): opendaemonsocket: daemon MSA: cannot bind: Permission denied', 'bind-failed', 'MSA', 'EACCES'],
    ["NOQUEUE: SYSERR(root): opendaemonsocket: daemon MTA: can't create server SMTP socket: Address family not supported by protocol", 'socket-problem', 'MTA', 'EAFNOSUPPORT'],
    ['daemon MTA-v6: problem creating SMTP socket', 'socket-problem', 'MTA-v6', undefined],
    ['NOQUEUE: SYSERR(root): opendaemonsocket: daemon MTA: server SMTP socket wedged: exiting', 'gave-up', 'MTA', undefined],
    ['NOQUEUE: SYSERR(root): opendaemonsocket: daemon MTA2: optional socket disabled', 'listener-disabled', 'MTA2', undefined],
    ['rejecting connections on daemon MTA: load average: 327', 'refusing-connections', 'MTA', undefined],
  ])('%s', (msg, kind, listenerName, errno) => {
    const e = sm(msg);
    expect(e).toMatchObject({ kind, listenerName, daemon: 'sendmail', pid: 69, time: 'Nov 27 04:31:05' });
    expect(e?.errno).toBe(errno);
  });
  it('ignores sendmail lines about other things', () => {
    expect(sm('starting daemon (8.17.1.9): SMTP')).toBeNull();
    expect(sm('gethostbyaddr(192.0.2.10) failed: 2')).toBeNull();
  });
});

describe('systemd forms', () => {
  it.each([
    ['Aug 30 14:56:07 gorp systemd[1]: nginx.service: Main process exited, code=exited, status=1/FAILURE', 'unit-exited', 'nginx.service', 1],
    ['Aug 30 14:56:07 gorp systemd[1]: Unit sendmail.service entered failed state.', 'unit-failed', 'sendmail.service', undefined],
    ["Aug 30 14:56:07 gorp systemd[1]: app@3.service: Failed with result 'exit-code'.", 'unit-failed', 'app@3.service', undefined],
    ['Aug 30 14:56:07 gorp systemd[1]: web.service: Main process exited, code=killed, status=9/KILL', 'unit-exited', 'web.service', undefined],
  ])('%s', (line, kind, unit, exitStatus) => {
    const e = recogniseLine(line);
    expect(e).toMatchObject({ kind, unit, program: 'systemd', pid: 1 });
    expect(e?.exitStatus).toBe(exitStatus);
  });
});

describe('generic forms', () => {
  it.each([
    ['Error: listen EADDRINUSE: address already in use 127.0.0.1:3000', 'bind-error', 'EADDRINUSE', '127.0.0.1', 3000],
    ['Error: listen EADDRINUSE: address already in use :::3000', 'bind-error', 'EADDRINUSE', '::', 3000],
    ['Error: listen EADDRNOTAVAIL: address not available 10.9.9.9:3000', 'bind-error', 'EADDRNOTAVAIL', '10.9.9.9', 3000],
    ['Error: listen EACCES: permission denied 0.0.0.0:80', 'bind-error', 'EACCES', '0.0.0.0', 80],
    ['OSError: [Errno 98] Address already in use', 'bind-error', 'EADDRINUSE', undefined, undefined],
    ['listen tcp 127.0.0.1:8080: bind: address already in use', 'bind-failed', 'EADDRINUSE', '127.0.0.1', 8080],
    ['listen tcp [::1]:80: bind: permission denied', 'bind-failed', 'EACCES', '::1', 80],
    ['listen tcp :8080: bind: address already in use', 'bind-failed', 'EADDRINUSE', undefined, 8080],
    ['java.net.BindException: Address already in use', 'bind-error', 'EADDRINUSE', undefined, undefined],
    ['java.net.BindException: Address already in use (Bind failed)', 'bind-failed', 'EADDRINUSE', undefined, undefined],
    ['2026/01/02 10:00:00 [emerg] 77#77: bind() to [::]:80 failed (98: Address already in use)', 'bind-failed', 'EADDRINUSE', '::', 80],
    ['2026/01/02 10:00:00 [emerg] 77#77: bind() to 0.0.0.0:443 failed (13: Permission denied)', 'bind-failed', 'EACCES', '0.0.0.0', 443],
    ['error: Bind to port 22 on 0.0.0.0 failed: Address already in use.', 'bind-failed', 'EADDRINUSE', '0.0.0.0', 22],
    ['bind failed: errno 99', 'bind-failed', 'EADDRNOTAVAIL', undefined, undefined],
    ['Web server failed to start. Port 8080 was already in use.', 'bind-error', 'EADDRINUSE', undefined, 8080],
  ])('%s', (msg, kind, errno, address, port) => {
    const e = recogniseLine(msg);
    expect(e).toMatchObject({ kind, errno, count: 1 });
    expect(e?.address).toBe(address);
    expect(e?.port).toBe(port);
  });

  it('keeps a generic program name as daemon and the family of an IPv6 address', () => {
    const e = recogniseLine('2026-11-27T04:31:05.123456+00:00 web1 node[4242]: Error: listen EADDRINUSE: address already in use ::1:3000');
    expect(e).toMatchObject({ time: '2026-11-27T04:31:05.123456+00:00', host: 'web1', program: 'node', pid: 4242, daemon: 'node', address: '::1', family: 'inet6', port: 3000 });
  });

  it.each([
    'sshd[1]: error: open /etc/ssh/key: Permission denied',
    'dbus-daemon[5]: Name already in use',
    'kernel: audit: errno 5 something',
    'postfix/smtpd[9]: connect from unknown[192.0.2.7]',
  ])('stays quiet on %s', (line) => {
    expect(recogniseLine(line)).toBeNull();
  });
});

describe('syslog headers', () => {
  it.each([
    ['<18>Nov 27 04:31:05 sendmail[69]: msg', { time: 'Nov 27 04:31:05', program: 'sendmail', pid: 69, message: 'msg' }],
    ['Aug  3 04:31:05 host cron: msg', { time: 'Aug  3 04:31:05', host: 'host', program: 'cron', message: 'msg' }],
    ['<34>1 2026-11-27T04:31:05.003Z gorp sendmail 69 - [x@1 a="]"] msg', { time: '2026-11-27T04:31:05.003Z', host: 'gorp', program: 'sendmail', pid: 69, message: 'msg' }],
    ['<34>1 2026-11-27T04:31:05Z gorp app - ID47 - msg', { time: '2026-11-27T04:31:05Z', host: 'gorp', program: 'app', message: 'msg' }],
    ['2026-11-27T04:31:05.123456+00:00 host postfix/smtpd[9]: msg', { time: '2026-11-27T04:31:05.123456+00:00', host: 'host', program: 'postfix/smtpd', pid: 9, message: 'msg' }],
  ])('%s', (line, expected) => {
    expect(parseSyslogHeader(line)).toEqual(expected);
  });
});

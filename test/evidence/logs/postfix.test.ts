import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { postfixRecogniser } from '../../../src/evidence/logs/recognisers/postfix.js';
import { parseSyslogHeader } from '../../../src/evidence/logs/syslog-line.js';

const RECORDED = path.join(path.dirname(new URL(import.meta.url).pathname), '../../integration/recorded/postfix');
/** The real lines postfix 3.7.11's master logged in test/integration/postfix.test.ts (unedited). */
const line = (scenario: string, needle: string) => {
  const l = fs.readFileSync(path.join(RECORDED, scenario, 'syslog.txt'), 'utf8').split('\n').find((x) => x.includes(needle));
  if (!l) throw new Error(`no "${needle}" in ${scenario}/syslog.txt`);
  return l;
};
const recognise = (l: string) => {
  const h = parseSyslogHeader(l);
  expect(postfixRecogniser.needles.some((n) => h.message.includes(n))).toBe(true);
  return postfixRecogniser.recognise(h);
};

describe('postfixRecogniser on real postfix lines', () => {
  it('bind … Address already in use (a port held by another process)', () => {
    expect(recognise(line('holder-no-reuseport', 'fatal: bind'))).toEqual({
      kind: 'bind-failed', form: 'postfix.bind', daemon: 'postfix', proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 25, errno: 'EADDRINUSE',
    });
    expect(recognise(line('holder-specific', 'fatal: bind'))).toMatchObject({ address: '127.0.0.1', port: 25, errno: 'EADDRINUSE' });
  });

  it('bind … Cannot assign requested address (host:port service on an address that is not local)', () => {
    expect(recognise(line('not-local-service', 'fatal: bind'))).toMatchObject({ kind: 'bind-failed', address: '192.0.2.99', port: 25, errno: 'EADDRNOTAVAIL' });
  });

  it('inet_interfaces with an address no interface has: fatal before any bind', () => {
    const l = line('not-local-interfaces', 'postfix/master');
    expect(recognise(l)).toMatchObject({ kind: 'bind-failed', form: 'postfix.no-local-interface', address: '192.0.2.99', errno: 'EADDRNOTAVAIL' });
  });

  it('IPv6 addresses as inet_listen prints them (no brackets), and a bare message', () => {
    expect(postfixRecogniser.recognise({ message: 'fatal: bind :: port 25: Address already in use' })).toMatchObject({ family: 'inet6', address: '::', port: 25 });
  });

  it('other lines of the real runs are not bind failures', () => {
    for (const l of [line('debian-default', 'daemon started'), line('duplicate-service', 'duplicate master.cf entry')]) {
      expect(postfixRecogniser.recognise(parseSyslogHeader(l))).toBeNull();
    }
    expect(postfixRecogniser.recognise({ program: 'sshd', message: 'fatal: bind 0.0.0.0 port 22: Address already in use' })).toBeNull();
  });
});

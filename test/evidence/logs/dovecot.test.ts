import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../../src/evidence/logs/recognise.js';
import { dovecotRecogniser } from '../../../src/evidence/logs/recognisers/dovecot.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, '..', '..', 'integration', 'recorded', 'dovecot');

const rec = (line: string) => recogniseRaw(line, { file: 'syslog', line: 1 }, [dovecotRecogniser])?.event ?? null;
const recorded = (scenario: string) => readFileSync(join(RECORDED, scenario, 'syslog.txt'), 'utf8').split('\n').filter(Boolean);

describe('dovecot recogniser on the real daemon\'s recorded lines', () => {
  it('listen(*, 143) failed: EADDRINUSE → 0.0.0.0:143 of imap-login', () => {
    const [line] = recorded('held-no-reuseport');
    expect(line).toMatch(/service\(imap-login\): listen\(\*, 143\) failed: Address already in use/);
    expect(rec(line as string)).toMatchObject({
      kind: 'bind-error',
      daemon: 'dovecot',
      program: 'dovecot',
      listenerName: 'imap-login',
      proto: 'tcp',
      family: 'inet',
      address: '0.0.0.0',
      port: 143,
      errno: 'EADDRINUSE',
    });
  });

  it('listen(::, 143) → the IPv6 any address', () => {
    const lines = recorded('two-listeners-one-port').map(rec);
    expect(lines.map((e) => e && `${e.kind} ${e.family} ${e.address} ${e.port} ${e.errno ?? ''}`)).toEqual([
      'bind-error inet 0.0.0.0 143 EADDRINUSE',
      'bind-error inet6 :: 143 EADDRINUSE',
      'gave-up undefined undefined undefined ',
    ]);
    expect(lines[2]?.exitStatus).toBe(89);
  });

  it('net.c bind() line and the service line for a non-local address', () => {
    const events = recorded('not-local').map(rec);
    expect(events.map((e) => e && `${e.kind} ${e.address}:${e.port} ${e.errno ?? ''}`)).toEqual([
      'bind-failed 192.0.2.99:143 EADDRNOTAVAIL',
      'bind-error 192.0.2.99:143 EADDRNOTAVAIL',
      'gave-up undefined:undefined ',
    ]);
  });

  it('a specific address is logged as written', () => {
    const e = rec(recorded('specific-plus-wildcard')[0] as string);
    expect(e).toMatchObject({ kind: 'bind-error', address: '127.0.0.1', port: 143, errno: 'EADDRINUSE', listenerName: 'imap-login' });
  });

  it('ignores every line of a successful start', () => {
    for (const s of readdirSync(RECORDED)) {
      const lines = recorded(s);
      if (lines.some((l) => l.includes('Fatal'))) continue;
      for (const l of lines) expect(rec(l), l).toBeNull();
    }
  });

  it('takes a bare bind() line only from dovecot', () => {
    expect(rec('Nov 27 05:23:44 otherd[5]: bind(10.0.0.1, 80) failed: Address already in use')).toBeNull();
    expect(rec('dovecot: master: Error: bind(10.0.0.1, 80) failed: Address already in use')).toMatchObject({ kind: 'bind-failed', port: 80 });
  });
});

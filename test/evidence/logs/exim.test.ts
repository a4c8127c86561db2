import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../../src/evidence/logs/recognise.js';
import { eximRecogniser } from '../../../src/evidence/logs/recognisers/exim.js';

const REC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'integration', 'recorded', 'exim');
const lines = (scenario: string, file: string) => readFileSync(join(REC, scenario, file), 'utf8').split('\n').filter(Boolean);
const rec = (line: string) => recogniseRaw(line, { file: '/var/log/exim4/mainlog', line: 1 }, [eximRecogniser])?.event ?? null;

describe('eximRecogniser on the real exim 4.96 lines (test/integration/recorded/exim)', () => {
  it('retry lines, then the give-up line (mainlog)', () => {
    const got = lines('retry-then-abandon', 'mainlog.txt').map(rec).filter((e) => e !== null);
    expect(got.map((e) => [e.kind, e.address, e.port, e.errno])).toEqual([
      ['bind-failed', '127.0.0.1', 25, 'EADDRINUSE'],
      ['bind-failed', '127.0.0.1', 25, 'EADDRINUSE'],
      ['gave-up', '127.0.0.1', 25, 'EADDRINUSE'],
    ]);
    expect(got[2]!.exitStatus).toBe(1);
  });

  it('EADDRNOTAVAIL from a non-local address (paniclog)', () => {
    const e = rec(lines('not-local', 'paniclog.txt')[0]!);
    expect(e).toMatchObject({ kind: 'gave-up', daemon: 'exim', proto: 'tcp', family: 'inet', address: '192.0.2.99', port: 25, errno: 'EADDRNOTAVAIL' });
  });

  it('"::" as exim writes it (not "(any IPv6)": it was not its wildcard)', () => {
    const e = rec(lines('v4-then-v6-text', 'paniclog.txt')[0]!);
    expect(e).toMatchObject({ kind: 'gave-up', family: 'inet6', address: '::', port: 25, errno: 'EADDRINUSE' });
  });

  it('stderr carries the same line', () => {
    expect(rec(lines('holder-no-reuse', 'stderr.txt')[0]!)).toMatchObject({ kind: 'gave-up', address: '127.0.0.1', port: 25 });
  });

  it('the daemon-started and certificate lines are not failures', () => {
    for (const l of lines('holder-v4-wildcard-ignored', 'mainlog.txt')) expect(rec(l)).toBeNull();
  });

  it('wildcard texts and listen failures (daemon.c templates)', () => {
    expect(rec('2026-11-27 05:22:24 socket bind() to port 25 for address (any IPv4) failed: Address already in use: waiting 30s before trying again (9 more tries)')).toMatchObject({
      kind: 'bind-failed',
      address: '0.0.0.0',
      family: 'inet',
      port: 25,
      errno: 'EADDRINUSE',
    });
    expect(rec('listen() failed on interface (any IPv6): Address already in use')).toMatchObject({ kind: 'listen-failed', address: '::', errno: 'EADDRINUSE' });
    const raw = (l: string) => recogniseRaw(l, { file: '/var/log/exim4/paniclog', line: 1 }, [eximRecogniser]);
    expect(raw('2026-11-27 05:22:24 Malformed IP address "300.1.1.1" in local_interfaces')).toMatchObject({ event: { kind: 'socket-problem' }, form: 'exim.malformed-address' });
    expect(raw('TCP port "nope" not found')?.form).toBe('exim.port-not-found');
  });

  it('every message form contains a needle', () => {
    for (const m of ['socket bind() to port 1 for address x failed: y: daemon abandoned', 'listen() failed on interface x: y', 'IPv6 socket creation failed: x', 'invalid SMTP port: x']) {
      expect(eximRecogniser.needles.some((n) => m.includes(n))).toBe(true);
    }
  });
});

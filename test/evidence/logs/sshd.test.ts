import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../../src/evidence/logs/recognise.js';
import { sshdRecogniser } from '../../../src/evidence/logs/recognisers/sshd.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, '..', '..', 'integration', 'recorded', 'sshd');

const rec = (line: string) => recogniseRaw(line, { file: 'syslog', line: 1 }, [sshdRecogniser])?.event ?? null;
const recorded = (scenario: string) => readFileSync(join(RECORDED, scenario, 'syslog.txt'), 'utf8').split('\n').filter(Boolean);

describe("sshd recogniser on the real daemon's recorded lines", () => {
  it('error: Bind to port 22 on 0.0.0.0 failed: Address already in use. → bind-failed, sshd carries on', () => {
    const events = recorded('held-v4').map(rec);
    expect(events[0]).toMatchObject({ kind: 'bind-failed', daemon: 'sshd', program: 'sshd', proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 22, errno: 'EADDRINUSE' });
    expect(events.slice(1)).toEqual([null]);
  });

  it('fatal: Cannot bind any address. → gave-up with status 255', () => {
    const events = recorded('held-all').map(rec);
    expect(events.map((e) => e?.kind)).toEqual(['bind-failed', 'gave-up']);
    expect(events[1]?.exitStatus).toBe(255);
  });

  it('a non-local address: EADDRNOTAVAIL', () => {
    const e = rec(recorded('not-local')[0] as string);
    expect(e).toMatchObject({ kind: 'bind-failed', address: '192.0.2.99', port: 22, errno: 'EADDRNOTAVAIL' });
  });

  it('stderr form (sshd -e) without the level and an IPv6 address', () => {
    expect(rec('Bind to port 2222 on :: failed: Address already in use.')).toMatchObject({ family: 'inet6', address: '::', port: 2222, errno: 'EADDRINUSE' });
    expect(rec('sshd[9]: fatal: listen on [::1]:22: Address already in use')).toMatchObject({ kind: 'listen-failed', address: '::1', port: 22 });
  });

  it('ignores every line of a successful start', () => {
    for (const s of readdirSync(RECORDED)) {
      const lines = recorded(s);
      if (lines.some((l) => /fatal|error/.test(l))) continue;
      for (const l of lines) expect(rec(l), l).toBeNull();
    }
  });
});

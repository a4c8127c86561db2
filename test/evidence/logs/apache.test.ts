import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../../src/evidence/logs/recognise.js';
import { apacheRecogniser } from '../../../src/evidence/logs/recognisers/apache.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Lines the real Debian 12 apache2 wrote (stderr and error.log) in test/integration/apache.test.ts's scenarios. */
const RECORDED = join(HERE, '..', '..', 'integration', 'recorded', 'apache', 'stderr-and-error-log.txt');

describe('apache log recogniser', () => {
  const lines = readFileSync(RECORDED, 'utf8').split('\n').filter(Boolean);
  const events = lines.map((l, i) => recogniseRaw(l, { file: 'apache.log', line: i + 1 }, [apacheRecogniser])?.event);

  it('recognises every make_sock bind failure with endpoint and errno', () => {
    const binds = events.filter((e) => e?.kind === 'bind-failed');
    expect(binds.map((e) => `${e?.family} ${e?.address}:${e?.port} ${e?.errno}`)).toEqual([
      'inet 127.0.0.1:80 EADDRINUSE',
      'inet 192.0.2.99:80 EADDRNOTAVAIL',
      'inet6 :::80 EADDRINUSE',
      'inet 0.0.0.0:80 EADDRINUSE',
    ]);
  });

  it('recognises the give-up lines (stderr and error.log forms)', () => {
    expect(events.filter((e) => e?.kind === 'gave-up').length).toBe(4);
    expect(events.every((e) => e === undefined || e.daemon === 'apache')).toBe(true);
  });

  it('leaves unrelated lines alone (AH00069 is a setsockopt warning, not a bind failure)', () => {
    expect(events[5]).toBeUndefined();
    expect(recogniseRaw('AH00558: apache2: Could not reliably determine the server\'s fully qualified domain name', { file: 'x', line: 1 }, [apacheRecogniser])).toBeNull();
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../../src/evidence/logs/recognise.js';
import { resolvedRecogniser } from '../../../src/evidence/logs/recognisers/resolved.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, '..', '..', 'integration', 'recorded', 'resolved');

const rec = (line: string) => recogniseRaw(line, { file: 'syslog', line: 1 }, [resolvedRecogniser])?.event ?? null;
const recorded = (scenario: string) => readFileSync(join(RECORDED, scenario, 'syslog.txt'), 'utf8').split('\n').filter(Boolean);
const events = (scenario: string) => recorded(scenario).map(rec).filter((e) => e !== null);

describe("systemd-resolved recogniser on the real daemon's recorded lines", () => {
  it('the main stub: "Another process is already listening on TCP socket 127.0.0.53:53." → listener-disabled', () => {
    const e = events('held-tcp-any');
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ kind: 'listener-disabled', daemon: 'systemd-resolved', program: 'systemd-resolved', proto: 'tcp', family: 'inet', address: '127.0.0.53', port: 53, errno: 'EADDRINUSE' });
  });

  it('an extra listener: "…on UDP socket 127.0.0.1:5300: Address already in use"', () => {
    expect(events('held-extra')).toMatchObject([{ kind: 'listener-disabled', proto: 'udp', address: '127.0.0.1', port: 5300, errno: 'EADDRINUSE' }]);
  });

  it('LLMNR turned off: port 5355, EADDRINUSE (the "appears to be another LLMNR responder" warning is not a failure)', () => {
    expect(events('held-llmnr-tcp')).toMatchObject([{ kind: 'listener-disabled', port: 5355, errno: 'EADDRINUSE' }]);
    expect(events('held-llmnr-udp-reuseaddr')).toEqual([]);
  });

  it('the journal and rsyslog forms of the two-sentence message, an IPv6 extra, a port-less extra, EPERM', () => {
    expect(rec('systemd-resolved[9]: Another process is already listening on UDP socket 127.0.0.53:53.\\nTurning off local DNS stub support.')).toMatchObject({ proto: 'udp', address: '127.0.0.53', port: 53 });
    expect(rec('Nov 27 07:26:35 host systemd-resolved[40]: Another process is already listening on TCP socket 127.0.0.54:53.#012Turning off local DNS stub support.')).toMatchObject({ proto: 'tcp', address: '127.0.0.54', port: 53 });
    expect(rec('systemd-resolved[9]: Another process is already listening on TCP socket [::1]:5353: Address already in use')).toMatchObject({ family: 'inet6', address: '::1', port: 5353 });
    expect(rec('systemd-resolved[9]: Failed to listen on UDP socket 127.0.0.2: Cannot assign requested address')).toMatchObject({ address: '127.0.0.2', port: 53, errno: 'EADDRNOTAVAIL' });
    expect(rec('systemd-resolved[9]: Failed to listen on UDP socket 127.0.0.53:53: Operation not permitted.')).toMatchObject({ port: 53, errno: 'EPERM' });
  });

  it('ignores every line of a start without failures', () => {
    for (const s of readdirSync(RECORDED)) {
      if (s.startsWith('held-')) continue;
      for (const l of recorded(s)) expect(rec(l), l).toBeNull();
    }
  });
});

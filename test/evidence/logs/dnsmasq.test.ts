import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../../src/evidence/logs/recognise.js';
import { dnsmasqRecogniser } from '../../../src/evidence/logs/recognisers/dnsmasq.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, '..', '..', 'integration', 'recorded', 'dnsmasq');

const rec = (line: string) => recogniseRaw(line, { file: 'syslog', line: 1 }, [dnsmasqRecogniser])?.event ?? null;
const all = (line: string) => recogniseRaw(line, { file: 'syslog', line: 1 })?.event ?? null;
const recorded = (scenario: string) => readFileSync(join(RECORDED, scenario, 'syslog.txt'), 'utf8').split('\n').filter(Boolean);

describe("dnsmasq recogniser on the real daemon's recorded lines", () => {
  it('wildcard mode: "failed to create listening socket for port 53: Address already in use" → bind-failed on port 53, then gave-up', () => {
    const events = recorded('resolved-stub-wildcard').map(rec);
    expect(events[0]).toMatchObject({ kind: 'bind-failed', daemon: 'dnsmasq', program: 'dnsmasq', port: 53, errno: 'EADDRINUSE' });
    expect(events[0]?.address).toBeUndefined();
    expect(events[1]).toMatchObject({ kind: 'gave-up', daemon: 'dnsmasq' });
  });

  it('bind-interfaces mode names the address, not the port', () => {
    const e = rec(recorded('not-local-bind-interfaces')[0] as string);
    expect(e).toMatchObject({ kind: 'bind-failed', family: 'inet', address: '192.0.2.99', errno: 'EADDRNOTAVAIL' });
    expect(e?.port).toBeUndefined();
    expect(rec(recorded('listen-address-bind-interfaces-held')[0] as string)).toMatchObject({ address: '127.0.0.1', errno: 'EADDRINUSE' });
  });

  it('the DHCP socket: UDP 0.0.0.0', () => {
    expect(rec(recorded('dhcp-held')[0] as string)).toMatchObject({ kind: 'bind-failed', proto: 'udp', family: 'inet', address: '0.0.0.0', errno: 'EADDRINUSE' });
  });

  it('registered ahead of the generic recogniser, and an IPv6 address in stderr form', () => {
    expect(all(recorded('resolved-stub-wildcard')[0] as string)?.daemon).toBe('dnsmasq');
    expect(rec('dnsmasq: failed to create listening socket for ::1: Address already in use')).toMatchObject({ family: 'inet6', address: '::1' });
    expect(rec('other[1]: FAILED to start up')).toBeNull();
  });

  it('ignores every line of a start that went well', () => {
    for (const s of readdirSync(RECORDED)) {
      const lines = recorded(s);
      if (lines.some((l) => l.includes('FAILED to start up'))) continue;
      for (const l of lines) expect(rec(l), l).toBeNull();
    }
  });
});

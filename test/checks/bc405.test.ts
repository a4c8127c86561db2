import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLocalAddress } from '../../src/checks/bc405-server-answers-nobody.js';
import { dnsmasqReader } from '../../src/readers/dnsmasq/index.js';
import { scanInventory } from '../../src/run.js';

describe('BC405 server-answers-nobody', () => {
  const base = mkdtempSync(join(tmpdir(), 'bindcheck-bc405-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  const codes = (conf: string, extraLocalAddresses: string[] = []) => {
    const root = join(base, String(n++));
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'dnsmasq.conf'), conf);
    return scanInventory({ root, live: false, readers: [dnsmasqReader], extraLocalAddresses }).findings.map((f) => `${f.code} ${f.location.line}`);
  };

  it('fires on the last listen-address line when none is local, in wildcard mode only', () => {
    expect(codes('listen-address=192.0.2.99\nlisten-address=2001:db8::9\n')).toEqual(['BC405 2']);
    // bind-interfaces: the bind itself fails (BC202), nothing to add.
    expect(codes('listen-address=192.0.2.99\nbind-interfaces\n')).toEqual(['BC202 1']);
  });

  it('stays quiet when an address is local, when interface= adds lo, or without any filter', () => {
    expect(codes('listen-address=192.0.2.99\nlisten-address=127.0.0.53\n')).toEqual([]);
    expect(codes('listen-address=192.0.2.99\n', ['192.0.2.99'])).toEqual([]);
    expect(codes('listen-address=192.0.2.99\ninterface=eth0\n')).toEqual([]);
    expect(codes('')).toEqual([]);
    expect(codes('port=0\nlisten-address=192.0.2.99\n')).toEqual([]);
  });

  it('isLocalAddress: 127/8 and ::1 always, host facts as CIDR or single addresses', () => {
    expect(isLocalAddress('127.9.9.9', [])).toBe(true);
    expect(isLocalAddress('::1', [])).toBe(true);
    expect(isLocalAddress('10.1.2.3', ['10.0.0.0/8'])).toBe(true);
    expect(isLocalAddress('2001:db8::1', ['2001:db8:0::1'])).toBe(true);
    expect(isLocalAddress('192.0.2.1', ['10.0.0.0/8', '2001:db8::/32'])).toBe(false);
    expect(isLocalAddress('not-an-address', ['10.0.0.0/8'])).toBe(false);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
});

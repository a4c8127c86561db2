import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dnsmasqReader } from '../../src/readers/dnsmasq/index.js';
import { resolvedReader } from '../../src/readers/resolved/index.js';
import { scanInventory } from '../../src/run.js';

// The classic port-53 clash, from the config alone: dnsmasq on the wildcard and systemd-resolved's stub. Whichever
// starts second loses, but the two lose differently: dnsmasq exits (status 2), resolved turns its stub off and keeps
// running (both measured on the real daemons: test/integration/dnsmasq.test.ts, resolved.test.ts). A pair whose
// second daemon keeps running without sockets it has alone is still a BC103.

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function root(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bindcheck-bc103-partial-'));
  roots.push(dir);
  for (const [p, t] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), t);
  }
  return dir;
}

describe('BC103 when the second daemon runs on without some sockets', () => {
  it('dnsmasq (wildcard :53) and resolved (stub 127.0.0.53:53): both orders, one exits, one runs without its stub', () => {
    const r = scanInventory({
      root: root({ 'etc/dnsmasq.conf': '# defaults: every address, port 53\n', 'etc/systemd/resolved.conf': '[Resolve]\n' }),
      live: false,
      readers: [dnsmasqReader, resolvedReader],
    });
    const pcs = r.analysis.pairConflicts.map((pc) => `${r.inventory.daemons[pc.second]?.daemon} after ${r.inventory.daemons[pc.first]?.daemon}${pc.partial ? ' (partial)' : ''}`);
    expect(pcs.sort()).toEqual(['dnsmasq after systemd-resolved', 'systemd-resolved after dnsmasq (partial)']);
    const found = r.findings.filter((f) => f.code === 'BC103');
    expect(found).toHaveLength(1);
    // One of the two exits: an error, not a warning.
    expect(found[0]?.severity).toBe('error');
    expect(found[0]?.message).toMatch(/dnsmasq fails if it starts after systemd-resolved/);
    expect(found[0]?.message).toMatch(/systemd-resolved runs without [^;]*127\.0\.0\.53:53[^;]* if it starts after dnsmasq/);
  });

  it('with bind-interfaces dnsmasq leaves 127.0.0.53 alone: no pair conflict', () => {
    const r = scanInventory({
      root: root({ 'etc/dnsmasq.conf': 'bind-interfaces\nlisten-address=127.0.0.1\n', 'etc/systemd/resolved.conf': '[Resolve]\n' }),
      live: false,
      readers: [dnsmasqReader, resolvedReader],
    });
    expect(r.analysis.pairConflicts).toEqual([]);
    expect(r.findings.filter((f) => f.code === 'BC103')).toEqual([]);
  });

  it('DNSStubListener=no: nothing to collide with', () => {
    const r = scanInventory({
      root: root({ 'etc/dnsmasq.conf': '\n', 'etc/systemd/resolved.conf': '[Resolve]\nDNSStubListener=no\nLLMNR=no\n' }),
      live: false,
      readers: [dnsmasqReader, resolvedReader],
    });
    expect(r.findings.filter((f) => f.code === 'BC103')).toEqual([]);
  });
});

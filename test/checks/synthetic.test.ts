import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analysis/analyze.js';
import { runChecks } from '../../src/checks/registry.js';
import type { Inventory } from '../../src/model/inventory.js';
import type { HostFacts, LiveSocket } from '../../src/model/live.js';
import type { DaemonPlan, PlannedSocket } from '../../src/model/planned.js';
import { scanInventory } from '../../src/run.js';
import { join } from 'node:path';

// Checks whose trigger no sendmail config can produce (sendmail always binds as root, and only one
// daemon reader exists so far) are exercised on hand-built plans; the verdicts still come from the kernel model.

const facts: HostFacts = {
  localAddresses: { value: ['127.0.0.0/8', '::1'], origin: 'assumed', source: '/proc/net/fib_trie' },
  bindV6Only: { value: false, origin: 'assumed', source: '/proc/sys/net/ipv6/bindv6only' },
  unprivilegedPortStart: { value: 1024, origin: 'assumed', source: '/proc/sys/net/ipv4/ip_unprivileged_port_start' },
  ipNonlocalBind: { value: false, origin: 'assumed', source: '/proc/sys/net/ipv4/ip_nonlocal_bind' },
  ipv6NonlocalBind: { value: false, origin: 'assumed', source: '/proc/sys/net/ipv6/ip_nonlocal_bind' },
  ipv6: { value: true, origin: 'assumed', source: '/proc/net/if_inet6' },
};

function sock(daemon: string, address: string, port: number, over: Partial<PlannedSocket> = {}): PlannedSocket {
  return {
    daemon,
    name: `${daemon}-${address}`,
    proto: 'tcp',
    family: address.includes(':') ? 'inet6' : 'inet',
    address,
    port,
    reuseAddr: true,
    reusePort: false,
    uid: 0,
    listens: true,
    source: { file: `/etc/${daemon}.conf`, line: 1 },
    derivation: [],
    ...over,
  };
}

function plan(daemon: string, sockets: PlannedSocket[], over: Partial<DaemonPlan> = {}): DaemonPlan {
  return {
    daemon,
    config: `/etc/${daemon}.conf`,
    files: [`/etc/${daemon}.conf`],
    sockets,
    startup: 'bind-listen-each',
    units: [`${daemon}.service`],
    processNames: [daemon],
    onFailure: 'exit',
    ...over,
  };
}

function inventory(daemons: DaemonPlan[], liveSockets: LiveSocket[] = []): Inventory {
  return { root: '/x', live: false, daemons, units: [], liveSockets, hostFacts: facts, sources: new Map(), inputFindings: [], unseen: [] };
}

function codes(inv: Inventory): string[] {
  return runChecks({ inventory: inv, analysis: analyze(inv) }).map((f) => `${f.code}:${f.daemon}`);
}

function live(address: string, port: number, comm: string, state: LiveSocket['state'] = 'LISTEN'): LiveSocket {
  return {
    proto: 'tcp',
    family: address.includes(':') ? 'inet6' : 'inet',
    address,
    port,
    remoteAddress: address.includes(':') ? '::' : '0.0.0.0',
    remotePort: 0,
    state,
    uid: 0,
    inode: 4242,
    owners: [{ pid: 77, comm, cmdline: comm, uid: 0, unit: `${comm}.service` }],
    ownersKnown: true,
    source: { file: '/proc/net/tcp', line: 2 },
  };
}

describe('BC103 daemons-share-port', () => {
  it('fires when two daemons each start alone but not together, naming both orders', () => {
    const inv = inventory([plan('alpha', [sock('alpha', '0.0.0.0', 80)]), plan('beta', [sock('beta', '127.0.0.1', 80)])]);
    const found = runChecks({ inventory: inv, analysis: analyze(inv) });
    expect(found.map((f) => f.code)).toEqual(['BC103']);
    expect(found[0]?.message).toMatch(/whichever of the two starts second fails/);
  });

  it('stays quiet when the daemons use different ports; sharing through SO_REUSEPORT is BC401 instead', () => {
    expect(codes(inventory([plan('alpha', [sock('alpha', '0.0.0.0', 80)]), plan('beta', [sock('beta', '0.0.0.0', 81)])]))).toEqual([]);
    const rp = { reusePort: true };
    expect(
      codes(inventory([plan('alpha', [sock('alpha', '0.0.0.0', 80, rp)]), plan('beta', [sock('beta', '0.0.0.0', 80, rp)])])),
    ).toEqual(['BC401:beta']);
  });
});

describe('BC401 reuseport-shared-listener', () => {
  it('fires for two SO_REUSEPORT listeners on the same address, not for different addresses or uids', () => {
    const rp = { reusePort: true };
    expect(codes(inventory([plan('alpha', [sock('alpha', '127.0.0.1', 25, rp), sock('alpha', '127.0.0.1', 25, { ...rp, name: 'second' })])]))).toEqual(['BC401:alpha']);
    expect(codes(inventory([plan('alpha', [sock('alpha', '0.0.0.0', 25, rp), sock('alpha', '127.0.0.1', 25, rp)])]))).toEqual([]);
    // Different uids cannot share a reuseport group: the second bind fails instead (BC103).
    expect(codes(inventory([plan('alpha', [sock('alpha', '127.0.0.1', 25, rp)]), plan('beta', [sock('beta', '127.0.0.1', 2525, { ...rp, uid: 1000 })])]))).toEqual([]);
  });
});

describe('BC402 listener-silently-skipped', () => {
  it('fires (instead of BC201) when an optional socket cannot be created, and the daemon still starts', () => {
    const inv = inventory([plan('alpha', [sock('alpha', '::', 25, { v6Only: true }), sock('alpha', '0.0.0.0', 25, { optional: true })])], [live('0.0.0.0', 25, 'other')]);
    const found = runChecks({ inventory: inv, analysis: analyze(inv) });
    // And, since its [::] is V6ONLY, IPv4 clients are not served by it at all (exim's case): BC403.
    expect(found.map((f) => `${f.code} ${f.severity}`)).toEqual(['BC402 warning', 'BC403 info']);
    expect(analyze(inv).predictions[0]?.starts).toBe(true);
  });
});

describe('a fallback socket (httpd: 0.0.0.0 only when the dual-stack [::] fails)', () => {
  const apacheLike = () => plan('web', [sock('web', '::', 80, { v6Only: false }), sock('web', '0.0.0.0', 80, { fallbackFor: 0 })]);

  it('is not created when [::] is, and nothing is reported', () => {
    const inv = inventory([apacheLike()]);
    const a = analyze(inv);
    expect(a.predictions[0]?.outcomes.map((o) => (o.ok ? 'ok' : o.call === 'none' ? `none${o.notNeeded ? ' (not needed)' : ''}` : o.errno))).toEqual(['ok', 'none (not needed)']);
    expect(a.predictions[0]?.starts).toBe(true);
    expect(codes(inv)).toEqual([]);
  });

  it('stands in when [::]:80 is held by a V6ONLY socket: the daemon runs IPv4-only (BC402, not BC201)', () => {
    const holder = live('::', 80, 'other');
    const inv = inventory([apacheLike()], [holder]);
    const a = analyze(inv, new Map([[holder, { v6Only: true, reuseAddr: true }]]));
    expect(a.predictions[0]?.outcomes.map((o) => (o.ok ? 'ok' : o.call === 'none' ? 'none' : o.errno))).toEqual(['EADDRINUSE', 'ok']);
    expect(a.predictions[0]?.starts).toBe(true);
    const found = runChecks({ inventory: inv, analysis: a });
    expect(found.map((f) => `${f.code} ${f.severity}`)).toEqual(['BC402 warning']);
    expect(found[0]?.evidence.map((e) => e.label).join('\n')).toContain('creates tcp/0.0.0.0:80 instead');
  });

  it('fails too when 0.0.0.0:80 is held: the daemon does not start and both failures are errors', () => {
    const inv = inventory([apacheLike()], [live('0.0.0.0', 80, 'other')]);
    const a = analyze(inv);
    expect(a.predictions[0]?.outcomes.map((o) => (o.ok ? 'ok' : o.call === 'none' ? 'none' : o.errno))).toEqual(['EADDRINUSE', 'EADDRINUSE']);
    expect(a.predictions[0]?.starts).toBe(false);
    expect(codes(inv)).toEqual(['BC201:web', 'BC201:web']);
  });
});

describe('BC201 port-held-by-other-process', () => {
  it('fires for a port another process listens on, with the holder in the evidence', () => {
    const inv = inventory([plan('alpha', [sock('alpha', '127.0.0.1', 25)])], [live('0.0.0.0', 25, 'exim4')]);
    const found = runChecks({ inventory: inv, analysis: analyze(inv) });
    expect(found.map((f) => f.code)).toEqual(['BC201']);
    expect(found[0]?.message).toMatch(/pid 77 \(exim4, exim4.service\)/);
    expect(found[0]?.evidence.some((e) => e.location.file === '/proc/net/tcp')).toBe(true);
  });

  it('does not count the daemon\'s own running sockets', () => {
    const inv = inventory([plan('alpha', [sock('alpha', '127.0.0.1', 25)])], [live('127.0.0.1', 25, 'alpha')]);
    expect(codes(inv)).toEqual([]);
  });

  it('says the verdict is uncertain when it depends on an option /proc cannot show', () => {
    // A non-listening TCP holder blocks only if SO_REUSEADDR is off on either side: unknown for the holder.
    const inv = inventory([plan('alpha', [sock('alpha', '127.0.0.1', 25, { listens: false })])], [
      { ...live('127.0.0.1', 25, 'other'), state: 'TIME_WAIT', owners: [], ownersKnown: true },
    ]);
    const found = runChecks({ inventory: inv, analysis: analyze(inv) });
    expect(found.map((f) => [f.code, f.severity])).toEqual([['BC201', 'warning']]);
    expect(found[0]?.message).toMatch(/may not be able to bind/);
  });
});

describe('BC203 privileged-port', () => {
  it('fires for an unprivileged uid on a port below ip_unprivileged_port_start', () => {
    expect(codes(inventory([plan('alpha', [sock('alpha', '127.0.0.1', 80, { uid: 1000 })])]))).toEqual(['BC203:alpha']);
  });
  it('stays quiet at or above the sysctl, or as root', () => {
    expect(codes(inventory([plan('alpha', [sock('alpha', '127.0.0.1', 1024, { uid: 1000 })])]))).toEqual([]);
    expect(codes(inventory([plan('alpha', [sock('alpha', '127.0.0.1', 80)])]))).toEqual([]);
  });
});

describe('scan with caller-known live sockets', () => {
  it('predicts EADDRINUSE at bind for the seed fixture next to a listening holder', () => {
    const r = scanInventory({
      root: join(import.meta.dirname, 'fixtures', 'bc202-ok-loopback-alias'),
      live: false,
      extraLiveSockets: [{ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 25, state: 'LISTEN', reuseAddr: true }],
    });
    expect(r.analysis.predictions[0]?.outcomes[0]).toMatchObject({ ok: false, call: 'bind', errno: 'EADDRINUSE' });
    expect(r.findings.map((f) => f.code)).toEqual(['BC201']);
  });
});

describe('which mailer is running', () => {
  it('names MTA processes listening on a mail port from the live table', async () => {
    const { runningMailers } = await import('../../src/readers/mailers.js');
    const sockets = [live('0.0.0.0', 25, 'master'), live('127.0.0.1', 587, 'sendmail-mta'), live('0.0.0.0', 80, 'nginx')];
    expect(runningMailers(sockets).map((r) => `${r.daemon} ${r.endpoint}`)).toEqual(['postfix 0.0.0.0:25', 'sendmail 127.0.0.1:587']);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { socketsCommand } from '../../src/commands/sockets.js';
import { readHostFacts } from '../../src/live/host-facts.js';
import { hexToIPv4, hexToIPv6, parseProcNet } from '../../src/live/proc-net.js';
import { statusName, systemdUnit } from '../../src/live/process-info.js';
import { readLiveSockets } from '../../src/live/read-live-sockets.js';
import { escapeTerminal } from '../../src/reporters/sockets-table.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const basic = path.join(fixtures, 'basic');
const le = os.endianness() === 'LE';

describe('address decoding', () => {
  it('byte-swaps each 32-bit word of host-order hex', () => {
    expect(hexToIPv4('0100007F', true)).toBe('127.0.0.1');
    expect(hexToIPv4('7F000001', false)).toBe('127.0.0.1');
    expect(hexToIPv6('B80D0120000000000000000001000000', true)).toBe('2001:db8::1');
    expect(hexToIPv6('0000000000000000FFFF00000100007F', true)).toBe('::ffff:127.0.0.1');
    expect(hexToIPv6('00000000000000000000000000000000', true)).toBe('::');
    expect(hexToIPv6('000080FE000000000000000001000000', true)).toBe('fe80::1');
    // RFC 5952: the longest zero run is compressed, the first on a tie, a single zero group is not.
    expect(hexToIPv6('B80D0120000000000100000000000000', true)).toBe('2001:db8::1:0:0');
    expect(hexToIPv6('B80D0120010000000000000001000000', true)).toBe('2001:db8:0:1::1');
  });

  it('skips malformed rows and keeps line numbers', () => {
    const buf = Buffer.from('header\n   0: 0100007F:0277 00000000:0000 0A 0:0 00:0 0 0 0 42 1\ngarbage\n   1: 0100007F:0016 00000000:0000 0A 0:0 00:0 0 7 0 43 1\n');
    const rows = parseProcNet(buf, { proto: 'tcp', family: 'inet', littleEndian: true });
    expect(rows.map((r) => [r.port, r.inode, r.uid, r.line])).toEqual([
      [631, 42, 0, 2],
      [22, 43, 7, 4],
    ]);
  });
});

describe.runIf(le)('readLiveSockets on a captured /proc', () => {
  it('lists listening TCP and bound UDP with owners, units and sources', () => {
    const { sockets, unseen } = readLiveSockets(basic, {});
    expect(unseen).toEqual([]);
    const brief = sockets.map((s) => `${s.proto} ${s.state} ${s.address} ${s.port} ${s.inode} ${s.owners.map((o) => o.pid).join(',')}`);
    expect(brief).toEqual([
      'tcp LISTEN 127.0.0.1 631 1001 100',
      'tcp LISTEN :: 22 1002 100,200',
      'tcp LISTEN ::ffff:127.0.0.1 8080 1003 300',
      'tcp LISTEN 2001:db8::1 443 1004 ',
      'udp CLOSE 0.0.0.0 53 1005 300',
      'udp CLOSE fe80::1 546 1006 300',
    ]);
    const ssh = sockets[1]!;
    expect(ssh.source).toEqual({ file: '/proc/net/tcp6', line: 2 });
    expect(ssh.netns).toBe('net:[4026531840]');
    expect(ssh.ownersKnown).toBe(true);
    expect(ssh.owners[0]).toEqual({ pid: 100, comm: 'cupsd', cmdline: '/usr/sbin/cupsd -l', uid: 0, unit: 'cups.service', netns: 'net:[4026531840]' });
    expect(ssh.owners[1]).toMatchObject({ pid: 200, comm: 'sshd', unit: 'ssh.service' });
    const evil = sockets[4]!.owners[0]!;
    expect(evil).toMatchObject({ comm: 'evil\x1b[31m\n', uid: 33, unit: 'evil.scope', netns: 'net:[4026532999]' });
    expect(evil.cmdline).toBe('/opt/evil --flag \u202e');
    expect(sockets[4]!.source).toEqual({ file: '/proc/net/udp', line: 2 });
  });

  it('lists every state with --all semantics, TIME_WAIT without owners', () => {
    const { sockets } = readLiveSockets(basic, { states: 'all' });
    expect(sockets).toHaveLength(9);
    const tw = sockets.find((s) => s.state === 'TIME_WAIT')!;
    expect(tw).toMatchObject({ inode: 0, owners: [], ownersKnown: true, remoteAddress: '127.0.0.1', remotePort: 0xa2b4 });
    const est = sockets.find((s) => s.proto === 'tcp' && s.state === 'ESTABLISHED')!;
    expect(est).toMatchObject({ address: '10.0.2.2', port: 22, remoteAddress: '10.0.2.10', uid: 1000 });
    expect(sockets.find((s) => s.proto === 'udp' && s.state === 'ESTABLISHED')).toMatchObject({ remotePort: 53 });
  });

  it('can skip owners', () => {
    const { sockets } = readLiveSockets(basic, { owners: false });
    expect(sockets.every((s) => s.owners.length === 0 && !s.ownersKnown)).toBe(true);
    expect(sockets[0]!.uid).toBe(0);
  });

  it('returns nothing, with a note, when the root has no /proc', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-noproc-'));
    try {
      const r = readLiveSockets(empty, {});
      expect(r.sockets).toEqual([]);
      expect(r.unseen).toHaveLength(1);
      expect(r.unseen[0]!.why).toContain('does not exist');
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });

  it('notes missing tables instead of failing', () => {
    const r = readLiveSockets(path.join(fixtures, 'facts-absent'), {});
    expect(r.sockets).toHaveLength(1);
    expect(r.unseen.map((u) => u.what)).toEqual(['tcp6 sockets', 'udp sockets', 'udp6 sockets']);
  });
});

describe('process details', () => {
  it('finds the systemd unit in cgroup v1 and v2 forms', () => {
    expect(systemdUnit('0::/system.slice/nginx.service\n')).toBe('nginx.service');
    expect(systemdUnit('1:name=systemd:/system.slice/ssh.service\n0::/\n')).toBe('ssh.service');
    expect(systemdUnit('0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope\n')).toBe('x.scope');
    expect(systemdUnit('0::/system.slice/foo.socket\n')).toBe('foo.socket');
    expect(systemdUnit('0::/\n')).toBeUndefined();
    expect(systemdUnit('4:memory:/process_api/abc\n0::/\n')).toBeUndefined();
  });

  it('reads the unit as the line-by-line definition does, for any cgroup text (property)', () => {
    // The plain definition: split lines, `0::PATH` is v2, `N:name=systemd:PATH` is v1 (last line of each wins),
    // v2's innermost unit component first, then v1's.
    const reference = (cgroup: string): string | undefined => {
      let v2: string | undefined;
      let v1: string | undefined;
      for (const line of cgroup.split('\n')) {
        const first = line.indexOf(':');
        const second = line.indexOf(':', first + 1);
        if (first < 0 || second < 0) continue;
        if (line.startsWith('0::')) v2 = line.slice(second + 1);
        else if (line.slice(first + 1, second) === 'name=systemd') v1 = line.slice(second + 1);
      }
      for (const p of [v2, v1]) {
        const unit = p?.split('/').reverse().find((c) => /\.(service|socket|scope)$/.test(c));
        if (unit !== undefined) return unit;
      }
      return undefined;
    };
    const piece = fc.constantFrom('0', '1', ':', '::', '\n', '/', 'name=systemd', 'name=systemdx', 'x.service', 'a.scope', 'b.socket', '.service', 'memory', 'user@1000.service', '');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 24 }), (parts) => {
        const text = parts.join('');
        expect(systemdUnit(text)).toBe(reference(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('unescapes the status Name', () => {
    expect(statusName('Name:\ta\\nb\\\\c\\033\nUid:\t0')).toBe('a\nb\\c\x1b');
  });
});

describe.runIf(le)('host facts', () => {
  it('reads addresses and sysctls', () => {
    const f = readHostFacts(basic);
    expect(f.localAddresses).toEqual({
      value: ['127.0.0.0/8', '127.0.0.1', '10.0.2.2', '::1', 'fe80::1', '2001:db8::1'],
      origin: 'read',
      source: '/proc/net/fib_trie, /proc/net/if_inet6',
    });
    expect(f.bindV6Only).toEqual({ value: true, origin: 'read', source: '/proc/sys/net/ipv6/bindv6only' });
    expect(f.unprivilegedPortStart.value).toBe(80);
    expect(f.ipNonlocalBind).toMatchObject({ value: true, origin: 'read' });
    expect(f.ipv6NonlocalBind).toMatchObject({ value: false, origin: 'read' });
    expect(f.ipv6).toMatchObject({ value: true, origin: 'read' });
  });

  it('assumes Linux defaults when the root lacks them', () => {
    const f = readHostFacts(path.join(fixtures, 'facts-absent'));
    expect(f.localAddresses).toMatchObject({ value: ['127.0.0.0/8', '::1'], origin: 'assumed' });
    expect(f.bindV6Only).toMatchObject({ value: false, origin: 'assumed' });
    expect(f.unprivilegedPortStart).toMatchObject({ value: 1024, origin: 'assumed' });
    expect(f.ipNonlocalBind).toMatchObject({ value: false, origin: 'assumed' });
    expect(f.ipv6NonlocalBind).toMatchObject({ value: false, origin: 'assumed' });
    // /proc/net exists without if_inet6: this kernel has no IPv6.
    expect(f.ipv6).toMatchObject({ value: false, origin: 'read' });
  });
});

describe('terminal escaping', () => {
  it('never passes controls, ANSI or bidi overrides through', () => {
    expect(escapeTerminal('evil\x1b[31m\n')).toBe('evil\\x1b[31m\\x0a');
    expect(escapeTerminal('a\u202eb\u2066c\u200bd')).toBe('a\\u{202e}b\\u{2066}c\\u{200b}d');
    expect(escapeTerminal('x\\y\x9b\x7f')).toBe('x\\\\y\\x9b\\x7f');
    expect(escapeTerminal('nginx: worker process é')).toBe('nginx: worker process é');
  });
});

describe.runIf(le)('sockets command', () => {
  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await socketsCommand(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
    return { code, out, err };
  }

  it('renders an ss-like table with escaped process names', async () => {
    const r = await run(['--root', basic]);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Netid\s+State\s+Local Address:Port\s+Peer Address:Port\s+Process\s+Unit\s+Netns$/);
    expect(lines[2]).toMatch(/^tcp\s+LISTEN\s+\[::\]:22\s+\[::\]:\*\s+users:\(\("cupsd",pid=100,uid=0\),\("sshd",pid=200,uid=0\)\)\s+cups.service,ssh.service\s+net:\[4026531840\]$/);
    expect(lines[5]).toMatch(/^udp\s+UNCONN\s+0\.0\.0\.0:53\s+0\.0\.0\.0:\*\s+users:\(\("evil\\x1b\[31m\\x0a",pid=300,uid=33\)\)/);
    expect(r.out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
  });

  it('caps owners in the table but keeps the count', async () => {
    const r = await run(['--root', basic, '--max-owners', '1']);
    expect(r.out).toContain('users:(("cupsd",pid=100,uid=0),…+1 more)');
  });

  it('emits versioned JSON with exact owner counts', async () => {
    const r = await run(['--root', basic, '--json', '--all', '--max-owners', '1']);
    const doc = JSON.parse(r.out) as { schemaVersion: number; sockets: { port: number; owners: unknown[]; ownerCount: number }[]; unseen: unknown[] };
    expect(doc.schemaVersion).toBe(1);
    expect(doc.sockets).toHaveLength(9);
    const ssh = doc.sockets.find((s) => s.port === 22 && s.ownerCount === 2)!;
    expect(ssh.owners).toHaveLength(1);
    expect(doc.unseen).toEqual([]);
  });

  it('handles --help, --no-owners and bad arguments', async () => {
    expect((await run(['--help'])).out).toContain('Usage: bindcheck sockets');
    const bad = await run(['--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--bogus');
    expect((await run(['--max-owners', 'x'])).code).toBe(2);
    const no = await run(['--root', basic, '--no-owners']);
    expect(no.out).not.toContain('users:');
  });
});

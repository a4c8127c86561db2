import { describe, expect, it } from 'vitest';
import type { LiveSocket } from '../../src/model/live.js';
import { renderSocketsTable } from '../../src/reporters/sockets-table.js';

function sock(over: Partial<LiveSocket>): LiveSocket {
  return {
    proto: 'tcp',
    family: 'inet',
    address: '127.0.0.1',
    port: 80,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    state: 'LISTEN',
    uid: 0,
    inode: 7,
    owners: [],
    ownersKnown: true,
    source: { file: '/proc/net/tcp', line: 2 },
    ...over,
  };
}

describe('renderSocketsTable', () => {
  it('pads every column to its widest cell and ends lines without spaces', () => {
    const out = renderSocketsTable([
      sock({ owners: [{ pid: 1, comm: 'nginx', cmdline: '', uid: 0, unit: 'nginx.service' }], netns: 'net:[1]' }),
      sock({ proto: 'udp', family: 'inet6', address: '2001:db8::1', port: 53, remoteAddress: '::', state: 'CLOSE', inode: 9 }),
      sock({ address: '10.0.0.1', port: 65535, remoteAddress: '10.0.0.2', remotePort: 4242, state: 'ESTABLISHED', inode: 0, ownersKnown: true }),
    ]);
    expect(out.split('\n')).toEqual([
      'Netid State  Local Address:Port Peer Address:Port Process                       Unit          Netns',
      'tcp   LISTEN 127.0.0.1:80       0.0.0.0:*         users:(("nginx",pid=1,uid=0)) nginx.service net:[1]',
      'udp   UNCONN [2001:db8::1]:53   [::]:*',
      'tcp   ESTAB  10.0.0.1:65535     10.0.0.2:4242',
      '',
    ]);
  });

  it('shows owners that were not looked up as uid and inode, measured like any cell', () => {
    const out = renderSocketsTable([
      sock({ ownersKnown: false, uid: 1000, inode: 123456789012 }),
      sock({ ownersKnown: false, uid: 0, inode: 5, netns: 'net:[4026531840]' }),
    ]);
    expect(out.split('\n')).toEqual([
      'Netid State  Local Address:Port Peer Address:Port Process                       Unit Netns',
      'tcp   LISTEN 127.0.0.1:80       0.0.0.0:*         ? (uid=1000 ino=123456789012)',
      'tcp   LISTEN 127.0.0.1:80       0.0.0.0:*         ? (uid=0 ino=5)                    net:[4026531840]',
      '',
    ]);
  });

  it('writes non-ASCII process text as UTF-8 and escapes a hostile netns', () => {
    const out = renderSocketsTable([
      sock({ owners: [{ pid: 2, comm: 'démon名', cmdline: '', uid: 0 }], netns: 'net:[1]\x1b[2J' }),
    ]);
    expect(out).toContain('users:(("démon名",pid=2,uid=0))');
    expect(out).toContain('net:[1]\\x1b[2J');
    expect(out).not.toContain('\x1b');
  });
});

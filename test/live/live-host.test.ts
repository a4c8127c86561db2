import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLiveSockets } from '../../src/live/read-live-sockets.js';

/** `ss -Hltnuep` as the oracle: proto, port and inode of every listening TCP / bound UDP socket, and owner pids. */
function ssTable(): Map<string, number[]> {
  const out = execFileSync('ss', ['-Hltnuep'], { encoding: 'utf8' });
  const rows = new Map<string, number[]>();
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    const ino = /\bino:(\d+)/.exec(line);
    if (cols.length < 5 || !ino) continue;
    const local = cols[4] as string;
    const port = Number(local.slice(local.lastIndexOf(':') + 1));
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    rows.set(`${cols[0]} ${port} ${ino[1]}`, [...new Set(pids)].sort((a, b) => a - b));
  }
  return rows;
}

const haveSs = (() => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const isRoot = process.getuid?.() === 0;

describe.runIf(process.platform === 'linux')('readLiveSockets on the live host', () => {
  const server = net.createServer();
  const udp = dgram.createSocket('udp4');
  let tcpPort = 0;
  let udpPort = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tcpPort = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    udpPort = udp.address().port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => udp.close(() => resolve()));
  });

  it('finds this process as the owner of its own sockets', () => {
    const { sockets } = readLiveSockets('/', {});
    const tcp = sockets.find((s) => s.proto === 'tcp' && s.port === tcpPort && s.address === '127.0.0.1');
    const u = sockets.find((s) => s.proto === 'udp' && s.port === udpPort && s.address === '127.0.0.1');
    expect(tcp).toMatchObject({ state: 'LISTEN', family: 'inet', source: { file: '/proc/net/tcp' } });
    expect(u).toMatchObject({ state: 'CLOSE', family: 'inet', source: { file: '/proc/net/udp' } });
    for (const s of [tcp, u]) {
      const me = s!.owners.find((o) => o.pid === process.pid);
      expect(me).toBeDefined();
      expect(me!.uid).toBe(process.geteuid?.());
      expect(me!.cmdline).toContain('node');
      expect(me!.netns).toBe(s!.netns);
    }
  });

  it.runIf(haveSs && isRoot)('agrees with ss -ltnup on the whole listening table', () => {
    // Other processes may open or close sockets between the reads: compare against what ss saw both before and after.
    const before = ssTable();
    const { sockets } = readLiveSockets('/', {});
    const after = ssTable();
    const ours = new Map(sockets.map((s) => [`${s.proto} ${s.port} ${s.inode}`, s.owners.map((o) => o.pid)]));
    const stable = [...before.keys()].filter((k) => after.has(k));
    expect(stable.length).toBeGreaterThanOrEqual(2);
    for (const k of stable) {
      expect(ours.has(k), `bindcheck misses ${k}`).toBe(true);
      const ssPids = before.get(k)!;
      if (JSON.stringify(ssPids) === JSON.stringify(after.get(k))) expect(ours.get(k), `owners of ${k}`).toEqual(ssPids);
    }
    for (const k of ours.keys()) expect(before.has(k) || after.has(k), `bindcheck invents ${k}`).toBe(true);
  });
});

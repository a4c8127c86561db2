/**
 * The strace parser on recorded real output (no root needed) and on the shapes -f prints when calls interleave.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boundNetSockets, firstAttempt, parseStrace, retries, socketsFromTrace } from './strace.js';

const RECORDED = join(dirname(fileURLToPath(import.meta.url)), '..', 'recorded', 'sendmail');

describe('strace parser', () => {
  it('reads the recorded seed trace: two sockets, the second fails at listen()', () => {
    const text = readFileSync(join(RECORDED, 'seed', 'strace.txt'), 'utf8');
    const trace = parseStrace(text);
    expect(trace.exits.some((e) => e.code === 0)).toBe(true); // the foreground process
    const first = firstAttempt(boundNetSockets(socketsFromTrace(trace)));
    expect(first.map((a) => [a.family, a.address, a.port, a.outcome])).toEqual([
      ['inet', '0.0.0.0', 25, { ok: true }],
      ['inet', '127.0.0.1', 25, { ok: false, call: 'listen', errno: 'EADDRINUSE' }],
    ]);
    expect(first.every((a) => a.socket.reuseAddr && !a.socket.reusePort && a.socket.v6Only === undefined)).toBe(true);
    expect(first[0]!.socket.pid).toBe(first[1]!.socket.pid);
  });

  it('reads inet6 addresses', () => {
    const text = readFileSync(join(RECORDED, 'v6-v4-wildcards', 'strace.txt'), 'utf8');
    const first = firstAttempt(boundNetSockets(socketsFromTrace(parseStrace(text))));
    expect(first.map((a) => `${a.family} ${a.address} ${a.port}`)).toEqual(['inet6 :: 25', 'inet 0.0.0.0 25']);
  });

  it('joins <unfinished ...> / <... resumed>, [pid N] prefixes, splits retries from the first attempt', () => {
    const text = [
      '[pid 10] 12:00:00.000001 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP <unfinished ...>',
      '[pid 11] 12:00:00.000002 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3',
      '[pid 10] 12:00:00.000003 <... socket resumed>) = 4',
      '[pid 10] 12:00:00.000004 setsockopt(4, SOL_IPV6, IPV6_V6ONLY, [1], 4) = 0',
      '[pid 10] 12:00:00.000005 setsockopt(4, SOL_SOCKET, SO_REUSEPORT, [1], 4) = 0',
      '[pid 10] 12:00:00.000006 bind(4, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>',
      '[pid 11] 12:00:00.000007 bind(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EACCES (Permission denied)',
      '[pid 10] 12:00:00.000008 <... bind resumed>) = 0',
      '[pid 10] 12:00:00.000009 listen(4, 4096) = 0',
      '[pid 11] 12:00:00.000010 close(3) = 0',
      '[pid 11] 12:00:05.000000 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3',
      '[pid 11] 12:00:05.000001 bind(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EACCES (Permission denied)',
      '[pid 11] 12:00:05.000002 +++ exited with 1 +++',
    ].join('\n');
    const trace = parseStrace(text);
    expect(trace.exits).toEqual([expect.objectContaining({ pid: 11, code: 1 })]);
    const all = boundNetSockets(socketsFromTrace(trace));
    expect(all).toHaveLength(3);
    const first = firstAttempt(all);
    // Calls are ordered by completion: pid 11's socket() returned before pid 10's resumed one.
    expect(first.map((a) => [a.proto, a.family, a.address, a.port, a.socket.pid, a.outcome])).toEqual([
      ['udp', 'inet', '127.0.0.1', 53, 11, { ok: false, call: 'bind', errno: 'EACCES' }],
      ['tcp', 'inet6', '::1', 53, 10, { ok: true }],
    ]);
    expect(first[1]!.socket.v6Only).toBe(true);
    expect(first[1]!.socket.reusePort).toBe(true);
    expect(retries(all)).toHaveLength(1);
  });
});

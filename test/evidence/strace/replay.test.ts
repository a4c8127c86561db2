/**
 * Replay through the kernel model: the seed's own trace (from the blog post), the real sendmail traces recorded by
 * the integration harness (each must replay with zero disagreements and the failures scenario.json recorded), and
 * synthetic traces for fork inheritance, dup, IPv6 and unknown options.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyzeStraceText } from '../../../src/evidence/strace/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, '..', '..', 'integration', 'recorded', 'sendmail');
const SEED = readFileSync(join(HERE, 'fixtures', 'seed-blog.strace.txt'), 'utf8');

const bind4 = (fd: number, addr: string, port: number): string =>
  `bind(${fd}, {sa_family=AF_INET, sin_port=htons(${port}), sin_addr=inet_addr("${addr}")}, 16)`;
const bind6 = (fd: number, addr: string, port: number): string =>
  `bind(${fd}, {sa_family=AF_INET6, sin6_port=htons(${port}), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "${addr}", &sin6_addr), sin6_scope_id=0}, 28)`;

describe('the seed trace (strace -f -e trace=socket,bind, from the blog post)', () => {
  const a = analyzeStraceText(SEED, 'trace.txt');

  it('names fd 4 of pid 12216, bound to 0.0.0.0:25, as the holder of the failed bind(5, 127.0.0.1:25)', () => {
    expect(a.failures).toHaveLength(1);
    const f = a.failures[0]!;
    expect(f.call).toMatchObject({ call: 'bind', fd: 5, address: '127.0.0.1', port: 25, errno: 'EADDRINUSE', pid: 12216 });
    expect(f.call.source).toEqual({ file: 'trace.txt', line: 20 });
    expect(f.holder).toMatchObject({ pid: 12216, fd: 4, address: '0.0.0.0', port: 25 });
    expect(f.holderBind?.source).toEqual({ file: 'trace.txt', line: 12 });
    expect(f.reason).toMatch(/0\.0\.0\.0:25 \(wildcard\)\) covers fd 5 of pid 12216 \(127\.0\.0\.1:25\)/);
  });

  it('cannot decide either bind(5) without setsockopt/listen in the trace, and says so instead of disagreeing', () => {
    // The first bind(5, 127.0.0.1:25) succeeded: only possible with SO_REUSEADDR on both and fd 4 not yet listening.
    expect(a.disagreements).toEqual([]);
    expect(a.checked).toEqual({ calls: 3, agreed: 1, unknown: 2, notModelled: 0 });
    const v = a.failures[0]!.modelVerdict;
    expect(v.ok).toBe('unknown');
    if (v.ok === 'unknown') {
      expect(v.outcomes).toEqual(['EADDRINUSE', 'ok']);
      expect(v.dependsOn).toContain('whether fd 4 of pid 12216 was listening');
      expect(v.dependsOn).toContain('fd 5 of pid 12216 SO_REUSEADDR');
    }
    expect(a.notes.map((n) => n.message)).toContain(
      'the trace does not include setsockopt(), so SO_REUSEADDR, SO_REUSEPORT and IPV6_V6ONLY are unknown',
    );
  });

  it('tells the second socket 5 from the first (fd reuse after an untraced close)', () => {
    const fives = a.sockets.filter((s) => s.fd === 5);
    expect(fives).toHaveLength(2);
    expect(fives[0]!.calls.map((c) => c.ok)).toEqual([true]);
    expect(fives[1]!.calls.map((c) => c.ok)).toEqual([false]);
    expect(fives[0]!.closedAt?.line).toBe(19);
  });

  it('reports the exits: the foreground process (pid not shown) and pid 12217', () => {
    expect(a.exits).toEqual([
      { pid: 0, status: 0, source: { file: 'trace.txt', line: 8 } },
      { pid: 12217, status: 0, source: { file: 'trace.txt', line: 16 } },
    ]);
  });
});

describe('real sendmail traces (test/integration/recorded/sendmail/*/strace.txt)', () => {
  const dirs = readdirSync(RECORDED).filter((d) => existsSync(join(RECORDED, d, 'strace.txt')));
  it('there are recorded traces', () => expect(dirs.length).toBeGreaterThanOrEqual(5));
  for (const d of dirs) {
    it(`${d}: zero disagreements, and the failures are the ones scenario.json recorded`, () => {
      const scenario = JSON.parse(readFileSync(join(RECORDED, d, 'scenario.json'), 'utf8')) as {
        holders: { proto: string; address: string; port: number }[];
        firstAttempt: { pid: number; fd: number; address: string; port: number; outcome: { ok: boolean; call?: string; errno?: string } }[];
      };
      const a = analyzeStraceText(readFileSync(join(RECORDED, d, 'strace.txt'), 'utf8'), `${d}/strace.txt`);
      expect(a.disagreements).toEqual([]);
      expect(a.checked.unknown).toBe(0);
      const expected = scenario.firstAttempt
        .filter((x) => !x.outcome.ok)
        .map((x) => ({ pid: x.pid, fd: x.fd, call: x.outcome.call, errno: x.outcome.errno }));
      // The recorded runs stop after the first start attempt, so every failure in the trace is one of those.
      expect(a.failures.map((f) => ({ pid: f.socket.pid, fd: f.socket.fd, call: f.call.call, errno: f.call.errno }))).toEqual(expected);
      for (const f of a.failures) {
        if (f.call.errno !== 'EADDRINUSE') continue;
        if (scenario.holders.length > 0) {
          expect(f.heldOutside).toBe(true);
        } else {
          expect(f.holder).toBeDefined();
          expect(f.holderBind!.source.line).toBeLessThan(f.call.source.line);
          expect(f.reason).toMatch(/holder is listening/);
        }
      }
    });
  }

  it('seed: listen(5) fails because fd 4 (0.0.0.0:25) listens; both set SO_REUSEADDR', () => {
    const a = analyzeStraceText(readFileSync(join(RECORDED, 'seed', 'strace.txt'), 'utf8'), 'strace.txt');
    const f = a.failures[0]!;
    expect(f.call).toMatchObject({ call: 'listen', fd: 5, errno: 'EADDRINUSE' });
    expect(f.holder).toMatchObject({ pid: 31, fd: 4, address: '0.0.0.0', port: 25, reuseAddr: true });
    expect(f.holderListen?.source.line).toBeLessThan(f.call.source.line);
    expect(f.modelVerdict).toEqual({ ok: false, errno: 'EADDRINUSE' });
    expect(a.checked).toEqual({ calls: 4, agreed: 4, unknown: 0, notModelled: 0 });
  });
});

describe('synthetic traces', () => {
  it('a forked child binding the parent\'s socket binds the same socket (clone traced)', () => {
    const t = [
      '100 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
      '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101',
      '101 ' + bind4(3, '0.0.0.0', 8080) + ' = 0',
      '101 listen(3, 128) = 0',
      '101 close(3) = 0',
      '100 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 4',
      '100 ' + bind4(4, '127.0.0.1', 8080) + ' = -1 EADDRINUSE (Address already in use)',
    ].join('\n');
    const a = analyzeStraceText(t, 't');
    expect(a.sockets.filter((s) => s.fd === 3)).toHaveLength(1);
    expect(a.sockets[0]!.closedAt).toBeUndefined(); // the parent still has fd 3
    expect(a.failures[0]!.holder).toBe(a.sockets[0]);
    expect(a.failures[0]!.holderBind).toMatchObject({ pid: 101, source: { line: 3 } });
    expect(a.disagreements).toEqual([]);
  });

  it('closing the last descriptor frees the port; the model agrees the later bind succeeds', () => {
    const t = [
      '7 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3',
      '7 ' + bind4(3, '0.0.0.0', 8080) + ' = 0',
      '7 dup2(3, 9) = 9',
      '7 close(3) = 0',
      '7 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3',
      '7 ' + bind4(3, '0.0.0.0', 8080) + ' = -1 EADDRINUSE (Address already in use)',
      '7 close(9) = 0',
      '7 ' + bind4(3, '0.0.0.0', 8080) + ' = 0',
    ].join('\n');
    // As `bindcheck trace -- CMD` runs strace: setsockopt and listen are traced, so their absence means "not set".
    const a = analyzeStraceText(t, 't', { traced: ['socket', 'bind', 'listen', 'setsockopt', 'close', 'dup2'] });
    expect(a.failures).toHaveLength(1);
    expect(a.failures[0]!.holder).toBe(a.sockets[0]);
    expect(a.sockets[0]!.closedAt).toEqual({ file: 't', line: 7 });
    expect(a.disagreements).toEqual([]);
    expect(a.checked.agreed).toBe(3);
  });

  it('reports a disagreement with both locations when the trace contradicts the model', () => {
    const t = [
      '7 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3',
      '7 ' + bind4(3, '0.0.0.0', 8080) + ' = 0',
      '7 listen(3, 5) = 0',
      '7 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 4',
      '7 ' + bind4(4, '127.0.0.1', 8080) + ' = 0',
    ].join('\n');
    const a = analyzeStraceText(t, 't', { traced: ['socket', 'bind', 'listen', 'setsockopt'] });
    expect(a.disagreements).toHaveLength(1);
    const d = a.disagreements[0]!;
    expect(d.traced).toBe('ok');
    expect(d.modelVerdict).toEqual({ ok: false, errno: 'EADDRINUSE' });
    expect(d.locations).toEqual([{ file: 't', line: 5 }, { file: 't', line: 2 }]);
    expect(d.modelHolder).toBe(a.sockets[0]);
  });

  it('IPv6: a dual-stack [::]:53 (V6ONLY off) holds 0.0.0.0:53 for UDP; V6ONLY on lets it through', () => {
    const mk = (v6only: number, result: string): string =>
      [
        '[pid 5] socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 3',
        `[pid 5] setsockopt(3, SOL_IPV6, IPV6_V6ONLY, [${v6only}], 4) = 0`,
        '[pid 5] ' + bind6(3, '::', 53) + ' = 0',
        '[pid 5] socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 4',
        '[pid 5] ' + bind4(4, '0.0.0.0', 53) + ` = ${result}`,
      ].join('\n');
    const off = analyzeStraceText(mk(0, '-1 EADDRINUSE (Address already in use)'), 't');
    expect(off.disagreements).toEqual([]);
    expect(off.failures[0]!.holder).toMatchObject({ family: 'inet6', address: '::', v6Only: false, proto: 'udp' });
    const on = analyzeStraceText(mk(1, '0'), 't');
    expect(on.disagreements).toEqual([]);
    expect(on.failures).toEqual([]);
  });

  it('v4-mapped: [::ffff:127.0.0.1]:25 on an AF_INET6 socket collides with 127.0.0.1:25', () => {
    const t = [
      '1 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
      '1 ' + bind4(3, '127.0.0.1', 25) + ' = 0',
      '1 socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 4',
      '1 ' + bind6(4, '::ffff:127.0.0.1', 25) + ' = -1 EADDRINUSE (Address already in use)',
    ].join('\n');
    const a = analyzeStraceText(t, 't');
    expect(a.failures[0]!.call.address).toBe('::ffff:127.0.0.1');
    expect(a.failures[0]!.holder?.fd).toBe(3);
    expect(a.disagreements).toEqual([]);
  });

  it('an fd used but never created is a socket from before tracing started, not a crash', () => {
    const t = [
      '9 ' + bind4(7, '127.0.0.1', 6000) + ' = 0',
      '9 listen(7, 5) = 0',
      '9 listen(8<TCP:[5551]>, 5) = 0',
      '9 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
      '9 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0',
      '9 ' + bind4(3, '127.0.0.1', 6000) + ' = -1 EADDRINUSE (Address already in use)',
    ].join('\n');
    const a = analyzeStraceText(t, 't');
    expect(a.sockets[0]).toMatchObject({ fd: 7, origin: 'preexisting', unknownOptions: ['reuseAddr', 'reusePort'] });
    expect(a.failures[0]!.holder).toBe(a.sockets[0]);
    expect(a.disagreements).toEqual([]);
    expect(a.checked.notModelled).toBe(1); // listen(8): never bound in the trace
    expect(a.notes.some((n) => n.message.includes('fd 7 of pid 9 is used but not created') && n.source.line === 1)).toBe(true);
  });

  it('an address not local on the tracing host, and a holder outside the trace', () => {
    const t = [
      '1 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
      '1 ' + bind4(3, '192.0.2.1', 25) + ' = -1 EADDRNOTAVAIL (Cannot assign requested address)',
      '1 ' + bind4(3, '127.0.0.1', 25) + ' = -1 EADDRINUSE (Address already in use)',
    ].join('\n');
    const a = analyzeStraceText(t, 't');
    expect(a.failures.map((f) => [f.call.errno, f.heldOutside ?? false])).toEqual([
      ['EADDRNOTAVAIL', false],
      ['EADDRINUSE', true],
    ]);
    expect(a.failures[1]!.reason).toMatch(/outside the trace/);
    expect(a.disagreements).toEqual([]);
  });

  it('SO_BINDTODEVICE, IP_FREEBIND and SO_REUSEPORT are read', () => {
    const t = [
      '1 socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = 3',
      '1 setsockopt(3, SOL_SOCKET, SO_BINDTODEVICE, "eth0\\0", 5) = 0',
      '1 setsockopt(3, SOL_IP, IP_FREEBIND, [1], 4) = 0',
      '1 setsockopt(3, SOL_SOCKET, SO_REUSEPORT, [1], 4) = 0',
      '1 ' + bind4(3, '198.51.100.7', 67) + ' = 0',
    ].join('\n');
    const a = analyzeStraceText(t, 't');
    expect(a.sockets[0]).toMatchObject({ device: 'eth0', freeBind: true, reusePort: true, proto: 'udp' });
    expect(a.inferredLocalAddresses).toEqual([]); // freebind proves nothing about the address
    expect(a.disagreements).toEqual([]);
  });

  it('the same input gives the same output', () => {
    expect(JSON.stringify(analyzeStraceText(SEED, 'x'))).toBe(JSON.stringify(analyzeStraceText(SEED, 'x')));
  });
});

/** strace's line grammar: every syntax form bindcheck reads, and garbage that must never throw. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StraceParser, analyzeStraceText, parseSockAddr, parseStrace, rebuildSockets } from '../../../src/evidence/strace/index.js';
import type { StraceCall } from '../../../src/evidence/strace/index.js';

const calls = (text: string): StraceCall[] => parseStrace(text, 't').events.filter((e): e is StraceCall => e.kind === 'call');

describe('line prefixes and timestamps', () => {
  it.each([
    ['plain', 'bind(4, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}, 16) = 0', undefined, undefined],
    ['[pid N] -tt', '[pid  12216] 14:55:47.123456 bind(4, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}, 16) = 0', 12216, '14:55:47.123456'],
    ['-o pid-first -tt', '31    04:41:28.393692 bind(4, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}, 16) = 0', 31, '04:41:28.393692'],
    ['-ttt', '1693407347.123456 bind(4, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}, 16) = 0', undefined, '1693407347.123456'],
    ['pid-first -ttt', '31 1693407347.123456 bind(4, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}, 16) = 0', 31, '1693407347.123456'],
    ['-t', '[pid 7] 14:55:47 bind(4, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}, 16) = 0', 7, '14:55:47'],
  ])('%s', (_name, line, pid, time) => {
    const [c] = calls(line);
    expect(c).toMatchObject({ syscall: 'bind', pid, result: 0, argv: ['4', expect.stringContaining('AF_INET'), '16'] });
    expect(c!.time).toBe(time);
    expect(c!.source).toEqual({ file: 't', line: 1 });
  });

  it('results: errno with text, = ? <unavailable>, -T durations, -y fd results', () => {
    const [a, b, c, d] = calls(
      [
        'bind(5, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EADDRINUSE (Address already in use)',
        'listen(4, 10) = ? <unavailable>',
        'close(3) = 0 <0.000012>',
        'socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3<TCP:[98765]>',
      ].join('\n'),
    );
    expect(a).toMatchObject({ result: -1, errno: 'EADDRINUSE', errnoText: 'Address already in use' });
    expect(b!.result).toBeUndefined();
    expect(c!.result).toBe(0);
    expect(d).toMatchObject({ result: 3, resultTag: { kind: 'TCP', inode: 98765 } });
  });
});

describe('processes', () => {
  it('joins <unfinished ...> / <... resumed> across interleaved pids; the call sits where it completed', () => {
    const p = parseStrace(
      [
        '[pid 10] bind(4, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>',
        '[pid 11] socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3',
        '[pid 10] <... bind resumed>) = 0',
        '[pid 11] setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4 <unfinished ...>',
        '[pid 10] listen(4, 5) = 0',
        '[pid 11] <... setsockopt resumed>) = 0',
      ].join('\n'),
      't',
    );
    const cs = p.events.filter((e): e is StraceCall => e.kind === 'call');
    expect(cs.map((c) => [c.pid, c.syscall, c.source.line, c.resumedAt?.line])).toEqual([
      [11, 'socket', 2, undefined],
      [10, 'bind', 1, 3],
      [10, 'listen', 5, undefined],
      [11, 'setsockopt', 4, 6],
    ]);
    expect(cs[1]!.argv).toHaveLength(3);
    expect(cs[3]!.argv).toEqual(['3', 'SOL_SOCKET', 'SO_REUSEADDR', '[1]', '4']);
    expect(p.notes).toEqual([]);
  });

  it('unprefixed lines belong to the only live process; an unannounced [pid N] is the first process', () => {
    const p = parseStrace(
      [
        'socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
        'clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 501',
        'strace: Process 501 attached',
        '[pid   500] close(3) = 0',
        '[pid 501] bind(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
        '[pid   500] +++ exited with 0 +++',
        'listen(3, 5) = 0',
        '--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=1, si_uid=0} ---',
        '+++ killed by SIGTERM +++',
      ].join('\n'),
      't',
    );
    expect(p.events.map((e) => `${e.kind}:${'pid' in e ? e.pid : ''}`)).toEqual([
      'call:undefined',
      'call:undefined',
      'attach:501',
      'pid-learned:500',
      'call:500',
      'call:501',
      'exit:500',
      'call:501',
      'signal:501',
      'exit:501',
    ]);
    const r = rebuildSockets(p);
    expect(r.sockets).toHaveLength(1);
    expect(r.sockets[0]).toMatchObject({ pid: 500, fd: 3 });
    expect(r.sockets[0]!.listens[0]!.pid).toBe(501); // the child listens on the parent's socket
    expect(r.sockets[0]!.closedAt?.line).toBe(9); // when the child, the last holder, dies
    expect(r.exits.map((e) => [e.pid, e.status, e.signal])).toEqual([
      [500, 0, undefined],
      [501, undefined, 'SIGTERM'],
    ]);
  });

  it('exits: killed by a signal with a core dump, exit status 71', () => {
    const p = parseStrace('[pid 3] +++ killed by SIGSEGV (core dumped) +++\n[pid 4] +++ exited with 71 +++\n', 't');
    expect(p.events).toEqual([
      { kind: 'exit', pid: 3, signal: 'SIGSEGV', coreDumped: true, source: { file: 't', line: 1 } },
      { kind: 'exit', pid: 4, status: 71, source: { file: 't', line: 2 } },
    ]);
  });

  it('CLONE_FILES shares the fd table: a thread\'s close() closes the process\'s socket', () => {
    const a = analyzeStraceText(
      [
        '1 socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
        '1 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff00}, 88) = 2',
        '2 close(3) = 0',
        '1 bind(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = -1 EBADF (Bad file descriptor)',
      ].join('\n'),
      't',
    );
    expect(a.sockets[0]!.closedAt).toEqual({ file: 't', line: 3 });
  });

  it('dup/dup3/fcntl(F_DUPFD) keep the socket open under another fd; execve drops close-on-exec fds', () => {
    const r = rebuildSockets(
      parseStrace(
        [
          '1 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3',
          '1 dup(3) = 4',
          '1 dup3(3, 5, O_CLOEXEC) = 5',
          '1 fcntl(3, F_DUPFD_CLOEXEC, 10) = 10',
          '1 close(3) = 0',
          '1 close(4) = 0',
          '1 execve("/usr/sbin/d", ["d"], 0x7ffc /* 3 vars */) = 0',
          '1 bind(4, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = -1 EBADF (Bad file descriptor)',
        ].join('\n'),
        't',
      ),
    );
    expect(r.sockets[0]!.closedAt).toEqual({ file: 't', line: 7 });
    expect(r.sockets[0]!.closes.map((c) => c.fd)).toEqual([3, 4]);
  });
});

describe('socket addresses', () => {
  it.each([
    ['{sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("127.0.0.1")}', { family: 'inet', address: '127.0.0.1', port: 25 }],
    [
      '{sa_family=AF_INET6, sin6_port=htons(25), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}',
      { family: 'inet6', address: '::', port: 25, flowInfo: 0 },
    ],
    [
      '{sa_family=AF_INET6, sin6_port=htons(25), sin6_flowinfo=0, sin6_addr=inet_pton(AF_INET6, "::ffff:127.0.0.1"), sin6_scope_id=0}',
      { family: 'inet6', address: '::ffff:127.0.0.1', port: 25, flowInfo: 0 },
    ],
    [
      '{sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(7), inet_pton(AF_INET6, "fe80::1", &sin6_addr), sin6_scope_id=if_nametoindex("eth0")}',
      { family: 'inet6', address: 'fe80::1', port: 53, flowInfo: 7, scopeId: 'eth0' },
    ],
    ['{sa_family=AF_UNIX, sun_path="/run/x.sock"}', { family: 'unix', path: '"/run/x.sock"' }],
  ])('%s', (text, expected) => {
    expect(parseSockAddr(text)).toEqual(expected);
  });

  it('-y / -yy fds: bind(4<TCP:[1234]>, …) and 4<socket:[1234]> resolve to the socket, also across processes', () => {
    const a = analyzeStraceText(
      [
        '[pid 1] socket(AF_INET6, SOCK_STREAM, IPPROTO_IP) = 4<TCPv6:[1234]>',
        '[pid 1] setsockopt(4<TCPv6:[1234]>, SOL_IPV6, IPV6_V6ONLY, [1], 4) = 0',
        '[pid 2] bind(4<socket:[1234]>, {sa_family=AF_INET6, sin6_port=htons(25), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '[pid 2] listen(4<TCPv6:[[::]:25]>, 10) = 0',
        '[pid 1] socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 5<TCP:[1300]>',
        '[pid 1] bind(5<TCP:[1300]>, {sa_family=AF_INET, sin_port=htons(25), sin_addr=inet_addr("0.0.0.0")}, 16) = 0',
      ].join('\n'),
      't',
      { traced: ['socket', 'bind', 'listen', 'setsockopt'] },
    );
    expect(a.sockets).toHaveLength(2);
    expect(a.sockets[0]!.calls.map((c) => [c.call, c.pid])).toEqual([
      ['bind', 2],
      ['listen', 2],
    ]);
    expect(a.disagreements).toEqual([]);
  });
});

describe('robustness', () => {
  const SAMPLE = [
    '[pid 10] 12:00:00.000001 socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP <unfinished ...>',
    '[pid 11] 12:00:00.000002 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3',
    '[pid 10] 12:00:00.000003 <... socket resumed>) = 4',
    '[pid 10] 12:00:00.000004 setsockopt(4, SOL_IPV6, IPV6_V6ONLY, [1], 4) = 0',
    '[pid 10] 12:00:00.000006 bind(4, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
    '[pid 11] 12:00:00.000007 bind(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EACCES (Permission denied)',
    '[pid 10] 12:00:00.000009 listen(4, 4096) = 0',
    '--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=12217, si_status=0, si_utime=0, si_stime=0} ---',
    '[pid 11] 12:00:05.000002 +++ exited with 1 +++',
    'Process 12 attached',
  ];

  it('garbage and truncated lines are skipped, counted and noted with their line', () => {
    const p = parseStrace(['hello', 'bind(4, {sa_family=AF_INET, sin_po', '[pid 3] ', '\u001b[31mred', 'close(3) = 0'].join('\n'), 't');
    expect(p.skipped).toBe(4);
    expect(p.notes.map((n) => n.source.line)).toEqual([1, 2, 3, 4]);
    expect(p.events).toHaveLength(1);
  });

  it('feeding in arbitrary chunks gives what one parse gives', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 400 }), { maxLength: 8 }), (cuts) => {
        const text = SAMPLE.join('\n');
        const p = new StraceParser('t');
        const events = [];
        let at = 0;
        for (const c of [...cuts].sort((a, b) => a - b)) {
          events.push(...p.feed(text.slice(at, Math.max(at, c))));
          at = Math.max(at, c);
        }
        events.push(...p.feed(text.slice(at)), ...p.end());
        expect(events).toEqual(parseStrace(text, 't').events);
      }),
    );
  });

  it('random and mutated lines never throw; every note has a location inside the input; output is deterministic', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...SAMPLE), fc.nat(), fc.nat(), fc.string({ maxLength: 6 }))
      .map(([line, a, b, ins]) => {
        const i = a % (line.length + 1);
        const j = Math.min(line.length, i + (b % 12));
        return line.slice(0, i) + ins + line.slice(j);
      });
    const line = fc.oneof(mutated, fc.constantFrom(...SAMPLE), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), (lines) => {
        const text = lines.join('\n');
        const a = analyzeStraceText(text, 'f');
        const total = text.split('\n').length;
        for (const n of a.notes) {
          expect(n.source.file).toBe('f');
          expect(n.source.line).toBeGreaterThanOrEqual(0);
          expect(n.source.line).toBeLessThanOrEqual(total);
        }
        expect(JSON.stringify(analyzeStraceText(text, 'f'))).toBe(JSON.stringify(a));
      }),
      { numRuns: 300 },
    );
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readLogEvidence, scanLogText } from '../../../src/evidence/logs/index.js';
import { LineScanner } from '../../../src/evidence/logs/line-scanner.js';
import { createNeedleScanner, wasmAvailable } from '../../../src/evidence/logs/needle-scan.js';
import { allNeedles } from '../../../src/evidence/logs/recognise.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-logs-'));
fs.chmodSync(tmp, 0o755); // the unreadable-file test drops to an unprivileged uid, which must reach the rest
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function makeRoot(files: Record<string, string | Buffer>): string {
  const root = path.join(tmp, `root${n++}`);
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), content);
  }
  fs.mkdirSync(path.join(root, 'var/log'), { recursive: true });
  return root;
}

const BIND = (pid: number, t = '04:31:05') => `<18>Nov 27 ${t} sendmail[${pid}]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon MTA: cannot bind: Address already in use`;
const NO_JOURNAL = { noJournal: true } as const;

describe('syslog files under a root', () => {
  it('reads rotated and gzip-compressed files, oldest first, with file:line', async () => {
    const root = makeRoot({
      'var/log/maillog': `noise\n${BIND(3)}\n`,
      'var/log/maillog.1': `${BIND(2)}\n`,
      'var/log/maillog.2.gz': gzipSync(`a\nb\n${BIND(1)}\n`),
      'var/log/messages-20170830': `${BIND(0)}\n`,
      'var/log/unrelated.log': `${BIND(9)}\n`,
    });
    const r = await readLogEvidence(root, NO_JOURNAL);
    expect(r.events.map((e) => [e.pid, e.source.file, e.source.line])).toEqual([
      [0, '/var/log/messages-20170830', 1],
      [1, '/var/log/maillog.2.gz', 3],
      [2, '/var/log/maillog.1', 1],
      [3, '/var/log/maillog', 2],
    ]);
    expect(r.scanned.find((s) => s.file === '/var/log/maillog.2.gz')).toEqual({ file: '/var/log/maillog.2.gz', lines: 3, bytes: Buffer.byteLength(`a\nb\n${BIND(1)}\n`) });
    expect(r.unseen).toEqual([]);
  });

  it('never follows a symlink out of the root', async () => {
    const outside = path.join(tmp, `outside${n++}.log`);
    fs.writeFileSync(outside, `${BIND(66)}\n`);
    const root = makeRoot({});
    fs.symlinkSync(outside, path.join(root, 'var/log/messages'));
    fs.symlinkSync(`../../../../../../../..${outside}`, path.join(root, 'var/log/maillog'));
    const r = await readLogEvidence(root, NO_JOURNAL);
    expect(r.events).toEqual([]);
    expect(r.unseen.map((u) => u.what).sort()).toEqual(['/var/log/maillog', '/var/log/messages']);
  });

  it('a symlink inside the root is followed within it', async () => {
    const root = makeRoot({ 'srv/mail.log': `${BIND(5)}\n` });
    fs.symlinkSync('/srv/mail.log', path.join(root, 'var/log/mail.log'));
    const r = await readLogEvidence(root, NO_JOURNAL);
    expect(r.events.map((e) => e.pid)).toEqual([5]);
  });

  it('notes a FIFO, a directory and an unreadable file instead of crashing', async () => {
    const root = makeRoot({ 'var/log/syslog': `${BIND(7)}\n`, 'var/log/messages/x': 'dir' });
    fs.writeFileSync(path.join(root, 'var/log/daemon.log'), `${BIND(8)}\n`, { mode: 0o000 });
    fs.mkdirSync(path.join(root, 'var/log/mail.err.1'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [path.join(root, 'var/log/maillog')]);
    // root reads anything: drop the effective uid so the mode-000 file really is unreadable.
    const asRoot = process.geteuid?.() === 0;
    if (asRoot) process.seteuid?.(65534);
    let r;
    try {
      r = await readLogEvidence(root, NO_JOURNAL);
    } finally {
      if (asRoot) process.seteuid?.(0);
    }
    expect(r.events.map((e) => e.pid)).toEqual([7]);
    expect(r.unseen).toEqual(expect.arrayContaining([
      { what: '/var/log/messages', why: 'not a regular file' },
      { what: '/var/log/maillog', why: 'not a regular file' },
      { what: '/var/log/mail.err.1', why: 'not a regular file' },
      { what: '/var/log/daemon.log', why: 'permission denied' },
    ]));
  });

  it('a damaged gzip file is a note, lines before the damage still count', async () => {
    const gz = gzipSync(`${BIND(1)}\n`.repeat(2000));
    const root = makeRoot({ 'var/log/maillog.1.gz': gz.subarray(0, gz.length - 30) });
    const r = await readLogEvidence(root, NO_JOURNAL);
    expect(r.unseen).toHaveLength(1);
    expect(r.unseen[0]?.what).toBe('/var/log/maillog.1.gz');
  });

  it('reads extra files given by the user', async () => {
    const f = path.join(tmp, `user${n++}.log`);
    fs.writeFileSync(f, `x\n${BIND(4)}`);
    const r = await readLogEvidence(makeRoot({}), { ...NO_JOURNAL, files: [f] });
    expect(r.events.map((e) => [e.pid, e.source.file, e.source.line])).toEqual([[4, f, 2]]);
  });
});

describe('line handling', () => {
  const lines = ['junk', BIND(1, '04:31:05'), 'more junk ' + 'x'.repeat(100), BIND(1, '04:31:10'), 'Error: listen EADDRINUSE: address already in use :::3000', 'tail'];
  const text = lines.join('\n') + '\n';

  for (const js of [false, true]) {
    for (const blockSize of [48, 64, 97, 200, 1024]) {
      it(`lines split across blocks of ${blockSize} bytes (${js ? 'js' : 'wasm'})`, () => {
        const r = scanLogText(text, 'f', { scanner: { blockSize, maxLine: 40, js } });
        // Lines longer than 40 bytes are cut there; the needles of these lines lie beyond, so only check counts.
        expect(r.scanned[0]?.lines).toBe(lines.length);
        const full = scanLogText(text, 'f', { scanner: { js } });
        expect(full.events.map((e) => [e.kind, e.count, e.source.line, e.lastTime])).toEqual([
          ['bind-failed', 2, 2, 'Nov 27 04:31:10'],
          ['bind-error', 1, 5, undefined],
        ]);
      });
    }
  }

  it('recognises lines split across chunk boundaries at every offset', () => {
    for (let block = 160; block < 400; block += 7) {
      const r = scanLogText(text, 'f', { scanner: { blockSize: block } });
      expect(r.events.map((e) => [e.kind, e.count, e.source.line])).toEqual([['bind-failed', 2, 2], ['bind-error', 1, 5]]);
      expect(r.scanned[0]?.lines).toBe(6);
    }
  });

  it('a huge line is cut at maxLine, counted once, and the next line keeps its number', () => {
    const huge = BIND(3) + ' ' + 'y'.repeat(3 * 1024 * 1024);
    const r = scanLogText(`a\n${huge}\n${BIND(4)}\n`, 'f');
    expect(r.events.map((e) => [e.pid, e.source.line])).toEqual([[3, 2], [4, 3]]);
    expect(r.events[0]?.message.length).toBeLessThan(70_000);
    expect(r.scanned[0]?.lines).toBe(3);
    expect(r.unseen).toHaveLength(1);
  });

  it('NUL bytes and invalid UTF-8 do not stop recognition', () => {
    const buf = Buffer.concat([Buffer.from('\u0000\u0000\xff\xfe garbage\n', 'latin1'), Buffer.from(`${BIND(5)}\u0000\n`), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from(`caf\xe9 ${BIND(6)}\n`, 'latin1')]);
    const r = scanLogText(buf, 'f');
    // line 4 is latin1 with text before the header: no header, but sendmail's message is still recognised.
    expect(r.events.map((e) => [e.source.line, e.pid])).toEqual([[2, 5], [4, undefined]]);
    expect(r.scanned[0]?.lines).toBe(4);
    expect(scanLogText(Buffer.from(`<18>Nov 27 04:31:05 sendmail[6]: d\xe9mon: opendaemonsocket: daemon M\xfc: cannot bind: Address already in use\n`, 'latin1'), 'f').events[0]).toMatchObject({ listenerName: 'M\u00fc', errno: 'EADDRINUSE' });
  });

  it('random bytes never throw and every event points at a line of the input', () => {
    const pieces = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom(...[BIND(1), 'listen tcp :80: bind: address already in use', '\n', '\r\n', 'rrno 98', 'EADDR', '\u0000'].map((s) => Uint8Array.from(Buffer.from(s)))),
    );
    fc.assert(fc.property(fc.array(pieces, { maxLength: 40 }), fc.integer({ min: 40, max: 600 }), fc.boolean(), (parts, blockSize, js) => {
      const buf = Buffer.concat(parts.map((p) => Buffer.from(p)));
      const r = scanLogText(buf, 'f', { scanner: { blockSize, maxLine: 32, js } });
      const lineCount = buf.length === 0 ? 0 : buf.toString('latin1').split('\n').length - (buf[buf.length - 1] === 10 ? 1 : 0);
      expect(r.scanned[0]?.lines).toBe(lineCount);
      for (const e of r.events) {
        expect(e.source.line).toBeGreaterThanOrEqual(1);
        expect(e.source.line).toBeLessThanOrEqual(lineCount);
      }
    }), { numRuns: 300 });
  });

  it.runIf(wasmAvailable())('the SIMD scanner finds exactly what indexOf finds', () => {
    const needles = allNeedles().map((s) => Buffer.from(s));
    const w = createNeedleScanner(needles);
    const j = createNeedleScanner(needles, { js: true });
    const alphabet = [...needles.map((b) => Uint8Array.from(b)), ...['\n', 'al', 'rrn', 'ope', 'E', 'x'.repeat(30)].map((s) => Uint8Array.from(Buffer.from(s)))];
    fc.assert(fc.property(fc.array(fc.oneof(fc.constantFrom(...alphabet), fc.uint8Array({ maxLength: 40 })), { maxLength: 80 }), fc.integer({ min: 16, max: 64 }), (parts, maxLine) => {
      const buf = Buffer.concat(parts.map((p) => Buffer.from(p))).subarray(0, w.capacity);
      buf.copy(w.block);
      buf.copy(j.block);
      const a = w.scan(buf.length, maxLine);
      const b = j.scan(buf.length, maxLine);
      const list = (s: typeof w, k: number) => Array.from({ length: k }, (_, i) => ({ ...s.match(i, { pos: 0, needle: 0, nlBefore: 0 }) }));
      expect(list(w, a)).toEqual(list(j, b));
      expect([w.newlines, w.longLines]).toEqual([j.newlines, j.longLines]);
    }), { numRuns: 500 });
  });

  it('LineScanner counts bytes and lines of a stream fed in odd pieces', () => {
    const seen: number[] = [];
    const s = new LineScanner(allNeedles(), (_t, line) => seen.push(line), { blockSize: 64 });
    const data = Buffer.from(`${'z\n'.repeat(50)}${BIND(1)}\nend`);
    for (let i = 0; i < data.length; i += 13) s.push(data.subarray(i, i + 13));
    s.end();
    expect(seen).toEqual([51]);
    expect([s.lines, s.bytes]).toEqual([52, data.length]);
  });
});

describe('the journal', () => {
  function fakeJournalctl(entries: object[], opts: { status?: number } = {}): { dir: string; argsFile: string } {
    const dir = path.join(tmp, `bin${n++}`);
    fs.mkdirSync(dir);
    const data = path.join(dir, 'entries.jsonl');
    fs.writeFileSync(data, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const argsFile = path.join(dir, 'args');
    fs.writeFileSync(path.join(dir, 'journalctl'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\ncat '${data}'\n${opts.status ? `echo 'Failed to open journal' >&2\nexit ${opts.status}\n` : ''}`, { mode: 0o755 });
    return { dir, argsFile };
  }
  const entry = (message: string | number[], extra: object = {}) => ({
    __CURSOR: 's=abc;i=1', __REALTIME_TIMESTAMP: '1504105007000000', _HOSTNAME: 'gorp', MESSAGE: message, ...extra,
  });

  it('reads an image journal through journalctl --directory, MESSAGE as text or bytes', async () => {
    const root = makeRoot({ 'var/log/journal/0123/system.journal': 'x' });
    const { dir, argsFile } = fakeJournalctl([
      entry('starting daemon (8.17.1.9): SMTP', { SYSLOG_IDENTIFIER: 'sendmail', _PID: '24097' }),
      entry([...Buffer.from('\xffNOQUEUE: SYSERR(root): opendaemonsocket: daemon Daemon1: cannot bind: Address already in use', 'latin1')], { SYSLOG_IDENTIFIER: 'sendmail', _PID: '24097', _SYSTEMD_UNIT: 'sendmail.service' }),
      entry('sendmail.service: Main process exited, code=exited, status=71/n/a', { SYSLOG_IDENTIFIER: 'systemd', _PID: '1', UNIT: 'sendmail.service', _SYSTEMD_UNIT: 'init.scope' }),
      entry("Failed with result 'exit-code'.", { SYSLOG_IDENTIFIER: 'systemd', _PID: '1', UNIT: 'sendmail.service' }),
    ]);
    const r = await readLogEvidence(root, { path: dir, since: new Date('2017-08-30T00:00:00Z'), units: ['sendmail.service'] });
    expect(r.unseen).toEqual([]);
    expect(r.events).toEqual([
      expect.objectContaining({ kind: 'bind-failed', listenerName: 'Daemon1', errno: 'EADDRINUSE', pid: 24097, program: 'sendmail', host: 'gorp', unit: 'sendmail.service', time: '2017-08-30T14:56:47.000Z', source: { file: 'journal:s=abc;i=1', line: 2 } }),
      expect.objectContaining({ kind: 'unit-exited', exitStatus: 71, unit: 'sendmail.service', program: 'systemd' }),
      expect.objectContaining({ kind: 'unit-failed', unit: 'sendmail.service' }),
    ]);
    const args = fs.readFileSync(argsFile, 'utf8').trim().split('\n');
    expect(args).toEqual(['-o', 'json', '--no-pager', `--directory=${path.join(root, 'var/log/journal')}`, '--since=@1504051200', '-u', 'sendmail.service']);
    expect(r.scanned.find((s) => s.file === 'journal')?.lines).toBe(4);
  });

  it('reads the live journal without --directory', async () => {
    const { dir, argsFile } = fakeJournalctl([entry('Error: listen EADDRINUSE: address already in use :::3000', { SYSLOG_IDENTIFIER: 'node', _PID: '9', _SYSTEMD_UNIT: 'app.service' })]);
    const r = await readLogEvidence(makeRoot({}), { live: true, path: dir });
    expect(r.events).toEqual([expect.objectContaining({ kind: 'bind-error', port: 3000, address: '::', unit: 'app.service' })]);
    expect(fs.readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual(['-o', 'json', '--no-pager']);
  });

  it('says so when journalctl is missing or fails', async () => {
    const root = makeRoot({ 'var/log/journal/x': '' });
    expect((await readLogEvidence(root, { path: path.join(tmp, 'nowhere') })).unseen).toEqual([{ what: 'journal', why: 'journalctl not installed' }]);
    const { dir } = fakeJournalctl([], { status: 1 });
    expect((await readLogEvidence(root, { path: dir })).unseen).toEqual([{ what: 'journal', why: 'journalctl exited with status 1: Failed to open journal' }]);
    // An image without a journal directory needs no journalctl.
    expect((await readLogEvidence(makeRoot({}), { path: path.join(tmp, 'nowhere') })).unseen).toEqual([]);
  });
});

describe('maxEvents', () => {
  it('bounds distinct events and says how many were dropped', async () => {
    const text = Array.from({ length: 50 }, (_, i) => BIND(i)).join('\n');
    const r = scanLogText(text, 'f', { maxEvents: 10 });
    expect(r.events).toHaveLength(10);
    expect(r.unseen).toEqual([{ what: 'log events', why: '40 further distinct events were not kept' }]);
  });
});

describe('many rotated logs', () => {
  it('reads only the newest rotations of each log, says how many it left out, and stays fast', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readLogEvidence } = await import('../../../src/evidence/logs/index.js');
    const { MAX_ROTATED_PER_LOG } = await import('../../../src/evidence/logs/sources.js');
    const root = mkdtempSync(join(tmpdir(), 'bc-rotations-'));
    mkdirSync(join(root, 'var', 'log'), { recursive: true });
    const n = 9_999; // logrotate's numbered generations: up to 4 digits
    for (let i = 1; i <= n; i++) writeFileSync(join(root, 'var', 'log', `maillog.${i}`), i === 1 ? 'Aug 30 14:55:52 h sendmail[1]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon MTA: cannot bind: Address already in use\n' : 'x\n');
    const started = Date.now();
    const r = await readLogEvidence(root, { live: false, noJournal: true });
    expect(r.scanned).toHaveLength(MAX_ROTATED_PER_LOG);
    expect(r.events.map((e) => e.kind)).toEqual(['bind-failed']); // maillog.1 is the newest rotation: kept
    expect(r.unseen.map((u) => `${u.what}: ${u.why}`)).toContain(`${n - MAX_ROTATED_PER_LOG} older rotations of /var/log/maillog: only the newest ${MAX_ROTATED_PER_LOG} are read`);
    // Listing 20,000 names is the whole cost; a bound, not a timing assertion on the scan itself.
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);
});

describe("daemons' own log files", () => {
  it("reads Exim's paniclog under /var/log/exim4 (real lines of the real exim)", async () => {
    const { mkdtempSync, mkdirSync, copyFileSync, readdirSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const rec = join(import.meta.dirname, '..', '..', 'integration', 'recorded', 'exim');
    const scenario = readdirSync(rec).find((d) => /daemon abandoned/.test(readFileSync(join(rec, d, 'paniclog.txt'), 'utf8')));
    expect(scenario).toBeDefined();
    const root = mkdtempSync(join(tmpdir(), 'bc-eximlog-'));
    mkdirSync(join(root, 'var', 'log', 'exim4'), { recursive: true });
    copyFileSync(join(rec, scenario as string, 'paniclog.txt'), join(root, 'var', 'log', 'exim4', 'paniclog'));
    const r = await readLogEvidence(root, { live: false, noJournal: true });
    expect(r.scanned.map((s) => s.file)).toEqual(['/var/log/exim4/paniclog']);
    expect(r.events.some((e) => e.daemon === 'exim' && e.errno !== undefined && e.port !== undefined)).toBe(true);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EventCollapser } from '../../../src/evidence/logs/collapse.js';
import { readLogEvidence } from '../../../src/evidence/logs/index.js';
import type { LineScannerOptions } from '../../../src/evidence/logs/line-scanner.js';
import { inlineRunner, partCount, scanInParts, scanLargeFile, splitRanges } from '../../../src/evidence/logs/parallel.js';
import { allNeedles } from '../../../src/evidence/logs/recognise.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-logs-par-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;

const FAILURES = [
  (i: number) => `Nov 27 04:31:${String(i % 60).padStart(2, '0')} gorp sendmail[${24000 + (i % 3)}]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon Daemon1: cannot bind: Address already in use`,
  (i: number) => `2026-11-27T04:31:${String(i % 60).padStart(2, '0')}Z web1 nginx[${700 + (i % 2)}]: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)`,
  (i: number) => `Nov 27 04:32:${String(i % 60).padStart(2, '0')} gorp systemd[1]: app${i % 4}.service: Main process exited, code=exited, status=1/FAILURE`,
  () => `node[3000]: Error: listen EADDRINUSE: address already in use :::3000`,
  () => `sshd[12]: error: open /root/.ssh/authorized_keys: Permission denied`,
];
const NOISE = ['Nov 27 04:31:05 gorp CRON[1]: (root) CMD (run-parts /etc/cron.hourly)', 'x', '', 'Nov 27 04:31:06 gorp kernel: eth0 up'];

/** The reference: one scan of the whole file on this thread. */
async function single(file: string, scanner?: LineScannerOptions) {
  const r = await readLogEvidence('/nonexistent-root', { files: [file], noSyslog: true, noJournal: true, scanner, parallel: { threads: 1 } });
  return { events: r.events, lines: r.scanned[0]?.lines, bytes: r.scanned[0]?.bytes, unseen: r.unseen };
}

async function inParts(file: string, ranges: [number, number][], scanner?: LineScannerOptions) {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const collapser = new EventCollapser(10_000);
    const merged = await scanInParts({ fd, size, needles: allNeedles(), file, maxEvents: 10_000, scanner }, ranges, collapser, inlineRunner);
    return { events: collapser.events, merged };
  } finally {
    fs.closeSync(fd);
  }
}

/** Split points where it hurts: at, just before and just after line starts, newlines and needles. */
function interestingCuts(buf: Buffer): number[] {
  const cuts = new Set<number>();
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 10) for (const d of [-1, 0, 1, 2]) cuts.add(i + d);
  }
  for (const needle of allNeedles()) {
    for (let p = buf.indexOf(needle); p !== -1; p = buf.indexOf(needle, p + 1)) for (const d of [0, 1, 3]) cuts.add(p + d);
  }
  return [...cuts].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b);
}

const lineArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NOISE) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: FAILURES.length - 1 }), fc.nat(200)).map(([k, i]) => (FAILURES[k] as (i: number) => string)(i)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(300)).map(([k, len]) => `${(FAILURES[k] as (i: number) => string)(len)} ${'y'.repeat(len)}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => s.replace(/\n/g, ' ')) },
);

describe('parallel scan of a plain file in parts', () => {
  it('splits a file into ranges that cover it', () => {
    expect(splitRanges(10, 3)).toEqual([[0, 3], [3, 6], [6, 10]]);
    expect(splitRanges(0, 2)).toEqual([[0, 0], [0, 0]]);
  });

  it('uses threads only for large files on hosts with several cores', () => {
    expect(partCount(1 << 30, { threads: 1 }, true)).toBe(1);
    expect(partCount(1 << 30, { threads: 2 }, true)).toBe(2);
    expect(partCount(1 << 30, { threads: 16 }, true)).toBe(4);
    expect(partCount(1 << 20, { threads: 2 }, true)).toBe(1);
    expect(partCount(1 << 20, { threads: 2, minBytes: 0 }, true)).toBe(2);
    expect(partCount(1 << 30, { threads: 2 }, false)).toBe(1);
  });

  for (const [label, scanner] of [['default blocks', undefined], ['small blocks, long lines cut', { blockSize: 200, maxLine: 64 }]] as const) {
    it(`gives what one scan gives, for 1..4 parts split anywhere (${label})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(lineArb, { minLength: 0, maxLength: 60 }), fc.boolean(), fc.array(fc.nat(), { minLength: 0, maxLength: 3 }), async (lines, trailingNewline, cutSeeds) => {
          const text = lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : '');
          const file = path.join(tmp, `f${n++}.log`);
          fs.writeFileSync(file, text);
          const buf = Buffer.from(text);
          const ref = await single(file, scanner);
          const interesting = interestingCuts(buf);
          // cuts at interesting points (lines crossing the split, needles cut in two), else anywhere
          const cuts = cutSeeds.map((s) => (interesting.length > 0 && s % 2 === 0 ? (interesting[s % interesting.length] as number) : s % (buf.length + 1))).sort((a, b) => a - b);
          const points = [0, ...cuts, buf.length];
          const ranges = points.slice(1).map((e, i) => [points[i] as number, e] as [number, number]);
          for (const rs of [ranges, splitRanges(buf.length, cutSeeds.length + 1)]) {
            const got = await inParts(file, rs, scanner);
            expect(got.merged).not.toBeNull();
            expect(got.events).toEqual(ref.events);
            expect(got.merged?.lines).toBe(ref.lines);
            expect(got.merged?.bytes).toBe(ref.bytes);
            expect((got.merged?.truncated ?? 0) > 0).toBe(ref.unseen.length > 0);
          }
          fs.rmSync(file);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('failures right at every split point of a generated file, 1..4 parts', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) lines.push(i % 37 === 0 ? (FAILURES[i % FAILURES.length] as (i: number) => string)(i) : `${NOISE[0]} ${i}`);
    const text = lines.join('\n') + '\n';
    const file = path.join(tmp, `gen${n++}.log`);
    fs.writeFileSync(file, text);
    const ref = await single(file);
    expect(ref.events.length).toBeGreaterThan(5);
    for (let parts = 1; parts <= 4; parts++) {
      // shift the even split so that each split point falls at each byte of a failure line in turn
      const base = splitRanges(text.length, parts);
      const failAt = text.indexOf('opendaemonsocket', Math.floor(text.length / parts));
      for (let d = -130; d <= 20; d += 3) {
        const rs = base.map(([s, e], k) => [k === 0 ? s : Math.min(text.length, failAt + d + (k - 1) * 997), k === base.length - 1 ? e : Math.min(text.length, failAt + d + k * 997)] as [number, number]);
        if (parts === 1) rs[0] = [0, text.length];
        const got = await inParts(file, rs);
        expect(got.events).toEqual(ref.events);
        expect(got.merged?.lines).toBe(4000);
      }
    }
  });

  it('a part that could not keep all its distinct events makes the caller scan on one thread', async () => {
    const text = Array.from({ length: 50 }, (_, i) => `sendmail[${i}]: daemon D${i}: problem creating SMTP socket`).join('\n') + '\n';
    const file = path.join(tmp, `many${n++}.log`);
    fs.writeFileSync(file, text);
    const fd = fs.openSync(file, 'r');
    const collapser = new EventCollapser(10);
    const merged = await scanInParts({ fd, size: text.length, needles: allNeedles(), file, maxEvents: 10 }, splitRanges(text.length, 2), collapser, inlineRunner);
    fs.closeSync(fd);
    expect(merged).toBeNull();
    expect(collapser.events).toEqual([]);
  });

  it('scanLargeFile reports the file like the single scan, and leaves gzip files alone', async () => {
    const text = FAILURES.map((f, i) => f(i)).join('\n') + '\nlast line without newline';
    const file = path.join(tmp, `big${n++}.log`);
    fs.writeFileSync(file, text);
    const ref = await single(file);
    const collapser = new EventCollapser();
    const r = await scanLargeFile({ file, hostPath: file, gzip: false }, { needles: allNeedles(), maxEvents: 10_000 }, collapser, { threads: 3, minBytes: 0 }, inlineRunner);
    expect(r?.scanned).toEqual({ file, lines: ref.lines, bytes: ref.bytes });
    expect(collapser.events).toEqual(ref.events);
    expect(await scanLargeFile({ file, hostPath: file, gzip: true }, { needles: allNeedles(), maxEvents: 10 }, new EventCollapser(), { threads: 3, minBytes: 0 }, inlineRunner)).toBeNull();
  });

  const distParallel = path.resolve(__dirname, '../../../dist/evidence/logs/parallel.js');
  it.runIf(fs.existsSync(distParallel) && fs.existsSync(path.resolve(__dirname, '../../../dist/evidence/logs/scan-worker.js')))('worker threads from dist/ give what one scan gives', async () => {
    const dist = (await import(distParallel)) as typeof import('../../../src/evidence/logs/parallel.js');
    const distCollapse = (await import(path.resolve(__dirname, '../../../dist/evidence/logs/collapse.js'))) as typeof import('../../../src/evidence/logs/collapse.js');
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(i % 101 === 0 ? (FAILURES[i % FAILURES.length] as (i: number) => string)(i) : `${NOISE[i % 2]} ${i}`);
    const file = path.join(tmp, `w${n++}.log`);
    fs.writeFileSync(file, lines.join('\n'));
    const ref = await single(file);
    for (const threads of [2, 3, 4]) {
      const collapser = new distCollapse.EventCollapser();
      const r = await dist.scanLargeFile({ file, hostPath: file, gzip: false }, { needles: allNeedles(), maxEvents: 10_000 }, collapser, { threads, minBytes: 0 });
      expect(r?.scanned.lines).toBe(ref.lines);
      expect(collapser.events).toEqual(ref.events);
    }
  });
});

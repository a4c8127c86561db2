import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countLongLines, createNeedleScanner, wasmAvailable, type NeedleScanner } from '../../../src/evidence/logs/needle-scan.js';
import { allNeedles } from '../../../src/evidence/logs/recognise.js';

/** Lines of more than maxLine bytes ended by a newline in buf, the obvious way. */
function naiveLongLines(buf: Buffer, maxLine: number): number {
  let count = 0;
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] !== 10) continue;
    if (i - start > maxLine) count++;
    start = i + 1;
  }
  return count;
}

describe('the SIMD prefilter', () => {
  it('countLongLines counts what a line-by-line walk counts', () => {
    const piece = fc.oneof(fc.constant('\n'), fc.string({ maxLength: 5 }).map((s) => s.replace(/\n/g, '')), fc.nat(90).map((k) => 'z'.repeat(k)));
    fc.assert(fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 1, max: 70 }), (parts, maxLine) => {
      const buf = Buffer.from(parts.join(''));
      // in a larger block whose bytes past len must be ignored
      const block = Buffer.concat([buf, Buffer.from('q'.repeat(100) + '\n')]);
      expect(countLongLines(block, buf.length, maxLine)).toBe(naiveLongLines(buf, maxLine));
    }), { numRuns: 1000 });
  });

  const shapes = [
    { positions: 3, unroll: 1 },
    { positions: 3, unroll: 2 },
    { positions: 4, unroll: 1 },
    { positions: 4, unroll: 2 },
  ];
  for (const shape of shapes) {
    it.runIf(wasmAvailable())(`every loop shape (${shape.positions} positions, ${shape.unroll} vectors) finds what indexOf finds`, () => {
      // 3-byte needles exercise the positions a needle does not have
      const needles = [...allNeedles(), 'xyz', 'ab\u00e9'].map((s) => Buffer.from(s));
      const w = createNeedleScanner(needles, { shape });
      const j = createNeedleScanner(needles, { js: true });
      const alphabet = [...needles.map((b) => Uint8Array.from(b)), ...['\n', 'al', 'rrn', 'xy', 'E', 'x'.repeat(30)].map((s) => Uint8Array.from(Buffer.from(s)))];
      fc.assert(fc.property(fc.array(fc.oneof(fc.constantFrom(...alphabet), fc.uint8Array({ maxLength: 40 })), { maxLength: 80 }), fc.integer({ min: 1, max: 64 }), (parts, maxLine) => {
        const buf = Buffer.concat(parts.map((p) => Buffer.from(p))).subarray(0, w.capacity);
        buf.copy(w.block);
        buf.copy(j.block);
        // stale bytes after len must not count
        w.block.fill(10, buf.length, buf.length + 40);
        const a = w.scan(buf.length, maxLine);
        const b = j.scan(buf.length, maxLine);
        const list = (s: NeedleScanner, k: number) => Array.from({ length: k }, (_, i) => ({ ...s.match(i, { pos: 0, needle: 0, nlBefore: 0 }) }));
        expect(list(w, a)).toEqual(list(j, b));
        expect([w.newlines, w.longLines]).toEqual([j.newlines, j.longLines]);
      }), { numRuns: 400 });
    });
  }

  it.runIf(wasmAvailable())('a full block of newlines and needles at its very end', () => {
    const needles = allNeedles().map((s) => Buffer.from(s));
    const w = createNeedleScanner(needles);
    const j = createNeedleScanner(needles, { js: true });
    for (const len of [w.capacity, w.capacity - 1, w.capacity - 17, 31, 32, 33]) {
      const buf = Buffer.alloc(len, 'a');
      for (let i = 7; i < len; i += 101) buf[i] = 10;
      Buffer.from('rrno').copy(buf, len - 4);
      buf.copy(w.block);
      buf.copy(j.block);
      expect(w.scan(len, 50)).toBe(j.scan(len, 50));
      expect(w.match(w.scan(len, 50) - 1, { pos: 0, needle: 0, nlBefore: 0 })).toEqual(j.match(j.scan(len, 50) - 1, { pos: 0, needle: 0, nlBefore: 0 }));
      expect([w.newlines, w.longLines]).toEqual([j.newlines, j.longLines]);
    }
  });
});

/**
 * The hot loop of the log scan: find every occurrence of a few literal needles in a block of complete lines, and
 * count the block's newlines, in one pass.
 *
 * Why WebAssembly: a log scan must keep up with `grep -c` on a 1 GB file. In JavaScript, one `Buffer.indexOf` pass per
 * needle (about a dozen needles) plus finding every newline costs ten passes over the data; V8's regex alternation is
 * no faster. A SIMD loop does all needles and the newline count in one pass over each 16-byte block, in the spirit of
 * Hyperscan's "Teddy": each needle's first three bytes select a bucket bit through two 16-entry nibble tables per byte
 * position (`i8x16.swizzle`), the three positions are ANDed, and only surviving positions are compared byte by byte.
 * The module is assembled here from opcodes (no build step, no dependency); when the runtime lacks WebAssembly SIMD,
 * {@link JsNeedleScanner} does the same with `Buffer.indexOf`.
 */

/** A match of needle `needle` at byte `pos` of the block; `nlBefore` newlines precede it in the block. */
export interface NeedleMatch {
  pos: number;
  needle: number;
  nlBefore: number;
}

export interface NeedleScanner {
  /** Bytes that can be scanned at once; `block` must be filled by the caller up to `len`. */
  readonly capacity: number;
  /** A buffer of `capacity` bytes to read the data into (inside WebAssembly memory for the fast scanner). */
  readonly block: Buffer;
  /**
   * Scan `block[0..len)`. Returns the number of matches (read them with {@link match}); `newlines` and
   * `longLines` (lines of more than `maxLine` bytes ended inside the block; maxLine ≥ 16) are set.
   */
  scan(len: number, maxLine: number): number;
  match(i: number, out: NeedleMatch): NeedleMatch;
  newlines: number;
  longLines: number;
}

// Memory layout of the WebAssembly module (bytes).
const SCRATCH = 0; // one v128
const TABLES = 64; // 6 × 16 bytes: lo/hi nibble tables for byte positions 0, 1, 2
const NEEDLE_TABLE = 256; // 12 bytes per needle: byte offset, length, bucket bit
const NEEDLE_BYTES = 1024;
const NEEDLE_BYTES_END = 8192;
const IN = 65536;
const CAPACITY = 256 * 1024;
const PAD = 64;
const OUT = IN + CAPACITY + PAD;
const RECORD = 12;
const MAX_NEEDLES = (NEEDLE_BYTES - NEEDLE_TABLE) / 12;
const PAGES = Math.ceil((OUT + (CAPACITY + PAD) * RECORD) / 65536);

/** Split needles into at most 8 buckets by their first three bytes. */
function buckets(needles: Buffer[]): number[] {
  return needles.map((_, i) => i % 8);
}

export function validateNeedles(needles: Buffer[]): void {
  if (needles.length === 0 || needles.length > MAX_NEEDLES) throw new Error(`between 1 and ${MAX_NEEDLES} needles`);
  for (const n of needles) {
    if (n.length < 3) throw new Error(`needle "${n.toString('latin1')}" is shorter than 3 bytes`);
    if (n.includes(10)) throw new Error('a needle cannot contain a newline');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A tiny WebAssembly assembler: just the opcodes the scan loop needs.

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY = 0x40;
const op = {
  block: [0x02, EMPTY],
  loop: [0x03, EMPTY],
  if: [0x04, EMPTY],
  end: [0x0b],
  br: (l: number) => [0x0c, ...uleb(l)],
  brIf: (l: number) => [0x0d, ...uleb(l)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32Load: (off: number) => [0x28, 2, ...uleb(off)],
  i32Load8: (off: number) => [0x2d, 0, ...uleb(off)],
  i32Store: (off: number) => [0x36, 2, ...uleb(off)],
  c: (n: number) => [0x41, ...sleb(n)],
  eqz: [0x45],
  eq: [0x46],
  ne: [0x47],
  ltS: [0x48],
  geS: [0x4e],
  gtS: [0x4a],
  leS: [0x4c],
  clz: [0x67],
  ctz: [0x68],
  popcnt: [0x69],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  and: [0x71],
  xor: [0x73],
  shl: [0x74],
  shrU: [0x76],
  vLoad: (off: number) => [0xfd, 0x00, 0, ...uleb(off)],
  vStore: (off: number) => [0xfd, 0x0b, 0, ...uleb(off)],
  swizzle: [0xfd, 0x0e],
  splat8: [0xfd, 0x0f],
  eq8: [0xfd, 0x23],
  vAnd: [0xfd, 0x4e],
  anyTrue: [0xfd, 0x53],
  bitmask8: [0xfd, 0x64],
  shrU8: [0xfd, 0x6d],
};

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function str(s: string): number[] {
  return vec([...Buffer.from(s)].map((b) => [b]));
}

/** scan(len, maxLine, nNeedles) → number of matches; newlines at 16, long lines at 20. */
function scanFunction(): number[] {
  // params: 0 len, 1 maxLine, 2 nNeedles
  const len = 0, maxLine = 1, nNeedles = 2;
  // i32 locals
  const i = 3, nl = 4, nm = 5, m = 6, cm = 7, j = 8, p = 9, n = 10, k = 11, b = 12, prevNl = 13, trunc = 14, valid = 15,
    ln = 16, off = 17;
  // v128 locals
  const lo0 = 18, hi0 = 19, lo1 = 20, hi1 = 21, lo2 = 22, hi2 = 23, c = 24, v0 = 25, low = 26, nlv = 27;
  const locals = [
    [...uleb(15), I32], // 3..17
    [...uleb(10), V128], // 18..27
  ];

  /** t = swizzle(lo, v & 0x0f) & swizzle(hi, v >> 4) for the v128 on the stack, stored in v0 first. */
  const nibbleLookup = (loT: number, hiT: number): number[] => [
    ...op.set(v0),
    ...op.get(loT), ...op.get(v0), ...op.get(low), ...op.vAnd, ...op.swizzle,
    ...op.get(hiT), ...op.get(v0), ...op.c(4), ...op.shrU8, ...op.swizzle,
    ...op.vAnd,
  ];

  const body: number[] = [
    ...op.c(TABLES + 0), ...op.vLoad(0), ...op.set(lo0),
    ...op.c(TABLES + 16), ...op.vLoad(0), ...op.set(hi0),
    ...op.c(TABLES + 32), ...op.vLoad(0), ...op.set(lo1),
    ...op.c(TABLES + 48), ...op.vLoad(0), ...op.set(hi1),
    ...op.c(TABLES + 64), ...op.vLoad(0), ...op.set(lo2),
    ...op.c(TABLES + 80), ...op.vLoad(0), ...op.set(hi2),
    ...op.c(0x0f), ...op.splat8, ...op.set(low),
    ...op.c(10), ...op.splat8, ...op.set(nlv),
    ...op.c(-1), ...op.set(prevNl),

    ...op.block, // depth: exit of main loop
    ...op.loop,
    // if (i >= len) break
    ...op.get(i), ...op.get(len), ...op.geS, ...op.brIf(1),
    // valid = len - i < 16 ? (1 << (len - i)) - 1 : 0xffff
    ...op.c(0xffff), ...op.set(valid),
    ...op.get(len), ...op.get(i), ...op.sub, ...op.c(16), ...op.ltS,
    ...op.if,
    ...op.c(1), ...op.get(len), ...op.get(i), ...op.sub, ...op.shl, ...op.c(1), ...op.sub, ...op.set(valid),
    ...op.end,
    // m = bitmask(block == '\n') & valid
    ...op.get(i), ...op.vLoad(IN), ...op.get(nlv), ...op.eq8, ...op.bitmask8, ...op.get(valid), ...op.and, ...op.set(m),
    // c = T0(block at i) & T1(block at i+1) & T2(block at i+2)
    ...op.get(i), ...op.vLoad(IN), ...nibbleLookup(lo0, hi0),
    ...op.get(i), ...op.vLoad(IN + 1), ...nibbleLookup(lo1, hi1), ...op.vAnd,
    ...op.get(i), ...op.vLoad(IN + 2), ...nibbleLookup(lo2, hi2), ...op.vAnd,
    ...op.tee(c),
    ...op.anyTrue,
    ...op.if,
    // cm = ~bitmask(c == 0) & valid
    ...op.get(c), ...op.c(0), ...op.splat8, ...op.eq8, ...op.bitmask8, ...op.c(0xffff), ...op.xor, ...op.get(valid), ...op.and,
    ...op.set(cm),
    ...op.c(SCRATCH), ...op.get(c), ...op.vStore(0),
    ...op.block, // candidates done
    ...op.loop,
    ...op.get(cm), ...op.eqz, ...op.brIf(1),
    ...op.get(cm), ...op.ctz, ...op.set(j),
    ...op.get(cm), ...op.get(cm), ...op.c(1), ...op.sub, ...op.and, ...op.set(cm),
    ...op.get(j), ...op.i32Load8(SCRATCH), ...op.set(b),
    ...op.get(i), ...op.get(j), ...op.add, ...op.set(p),
    ...op.c(0), ...op.set(n),
    ...op.block, // needles done
    ...op.loop,
    ...op.get(n), ...op.get(nNeedles), ...op.geS, ...op.brIf(1),
    // if (bucket[n] & b) and p + len[n] <= len
    ...op.get(n), ...op.c(12), ...op.mul, ...op.i32Load(NEEDLE_TABLE + 8), ...op.get(b), ...op.and,
    ...op.if,
    ...op.get(n), ...op.c(12), ...op.mul, ...op.i32Load(NEEDLE_TABLE + 4), ...op.set(ln),
    ...op.get(n), ...op.c(12), ...op.mul, ...op.i32Load(NEEDLE_TABLE), ...op.set(off),
    ...op.get(p), ...op.get(ln), ...op.add, ...op.get(len), ...op.leS,
    ...op.if,
    ...op.c(0), ...op.set(k),
    ...op.block, // compare done (mismatch)
    ...op.loop,
    ...op.get(k), ...op.get(ln), ...op.geS,
    ...op.if,
    // record: pos, needle, nlBefore = nl + popcnt(m & ((1 << j) - 1))
    ...op.get(nm), ...op.c(RECORD), ...op.mul, ...op.get(p), ...op.i32Store(OUT),
    ...op.get(nm), ...op.c(RECORD), ...op.mul, ...op.get(n), ...op.i32Store(OUT + 4),
    ...op.get(nm), ...op.c(RECORD), ...op.mul,
    ...op.get(nl), ...op.get(m), ...op.c(1), ...op.get(j), ...op.shl, ...op.c(1), ...op.sub, ...op.and, ...op.popcnt, ...op.add,
    ...op.i32Store(OUT + 8),
    ...op.get(nm), ...op.c(1), ...op.add, ...op.set(nm),
    ...op.br(2), // leave the compare block
    ...op.end,
    ...op.get(p), ...op.get(k), ...op.add, ...op.i32Load8(IN),
    ...op.get(off), ...op.get(k), ...op.add, ...op.i32Load8(0),
    ...op.ne, ...op.brIf(1),
    ...op.get(k), ...op.c(1), ...op.add, ...op.set(k),
    ...op.br(0),
    ...op.end, // loop
    ...op.end, // block
    ...op.end, // if fits
    ...op.end, // if bucket
    ...op.get(n), ...op.c(1), ...op.add, ...op.set(n),
    ...op.br(0),
    ...op.end, // needle loop
    ...op.end, // needles done
    ...op.br(0),
    ...op.end, // candidate loop
    ...op.end, // candidates done
    ...op.end, // if anyTrue
    // newlines: a line longer than 16 bytes can only end at the block's first newline
    ...op.get(m),
    ...op.if,
    ...op.get(i), ...op.get(m), ...op.ctz, ...op.add, ...op.get(prevNl), ...op.sub, ...op.c(1), ...op.sub, ...op.get(maxLine), ...op.gtS,
    ...op.if,
    ...op.get(trunc), ...op.c(1), ...op.add, ...op.set(trunc),
    ...op.end,
    ...op.get(i), ...op.c(31), ...op.add, ...op.get(m), ...op.clz, ...op.sub, ...op.set(prevNl),
    ...op.get(nl), ...op.get(m), ...op.popcnt, ...op.add, ...op.set(nl),
    ...op.end,
    ...op.get(i), ...op.c(16), ...op.add, ...op.set(i),
    ...op.br(0),
    ...op.end, // main loop
    ...op.end, // main block
    ...op.c(16), ...op.get(nl), ...op.i32Store(0),
    ...op.c(20), ...op.get(trunc), ...op.i32Store(0),
    ...op.get(nm),
  ];
  const fn = [...vec(locals), ...body, ...op.end];
  return [...uleb(fn.length), ...fn];
}

function assemble(): Uint8Array<ArrayBuffer> {
  const type = section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])]]));
  const func = section(3, vec([[0]]));
  const mem = section(5, vec([[0x00, ...uleb(PAGES)]]));
  const exp = section(7, vec([
    [...str('scan'), 0x00, 0],
    [...str('mem'), 0x02, 0],
  ]));
  const code = section(10, vec([scanFunction()]));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...func, ...mem, ...exp, ...code]);
}

let compiled: WebAssembly.Module | null | undefined;

function wasmModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = assemble();
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** The SIMD scanner. */
export class WasmNeedleScanner implements NeedleScanner {
  readonly capacity = CAPACITY;
  readonly block: Buffer;
  newlines = 0;
  longLines = 0;
  private readonly scanFn: (len: number, maxLine: number, n: number) => number;
  private readonly out: Int32Array;
  private readonly results: Int32Array;
  private readonly count: number;

  constructor(module: WebAssembly.Module, needles: Buffer[]) {
    validateNeedles(needles);
    const instance = new WebAssembly.Instance(module, {});
    const memory = instance.exports.mem as WebAssembly.Memory;
    this.scanFn = instance.exports.scan as (len: number, maxLine: number, n: number) => number;
    const bytes = new Uint8Array(memory.buffer);
    const view = new DataView(memory.buffer);
    const bucketOf = buckets(needles);
    let at = NEEDLE_BYTES;
    needles.forEach((nd, idx) => {
      if (at + nd.length > NEEDLE_BYTES_END) throw new Error('needles too long');
      bytes.set(nd, at);
      const bit = 1 << (bucketOf[idx] as number);
      view.setInt32(NEEDLE_TABLE + idx * 12, at, true);
      view.setInt32(NEEDLE_TABLE + idx * 12 + 4, nd.length, true);
      view.setInt32(NEEDLE_TABLE + idx * 12 + 8, bit, true);
      at += nd.length;
      for (let pos = 0; pos < 3; pos++) {
        const byte = nd[pos] as number;
        bytes[TABLES + pos * 32 + (byte & 0x0f)]! |= bit;
        bytes[TABLES + pos * 32 + 16 + (byte >> 4)]! |= bit;
      }
    });
    this.count = needles.length;
    this.block = Buffer.from(memory.buffer, IN, CAPACITY);
    this.out = new Int32Array(memory.buffer, OUT, (CAPACITY + PAD) * 3);
    this.results = new Int32Array(memory.buffer, 16, 2);
  }

  scan(len: number, maxLine: number): number {
    // Bytes past len (the unfinished line kept for the next block) are loaded by the 16-byte loads but masked off,
    // and a needle is only compared when it ends within len.
    const n = this.scanFn(len, maxLine, this.count);
    this.newlines = this.results[0] as number;
    this.longLines = this.results[1] as number;
    return n;
  }

  match(i: number, out: NeedleMatch): NeedleMatch {
    out.pos = this.out[i * 3] as number;
    out.needle = this.out[i * 3 + 1] as number;
    out.nlBefore = this.out[i * 3 + 2] as number;
    return out;
  }
}

/** The same contract in plain JavaScript: `Buffer.indexOf` per needle, newlines counted with `indexOf(10)`. */
export class JsNeedleScanner implements NeedleScanner {
  readonly capacity: number;
  readonly block: Buffer;
  newlines = 0;
  longLines = 0;
  private matches: NeedleMatch[] = [];

  constructor(private readonly needles: Buffer[], capacity = CAPACITY) {
    validateNeedles(needles);
    this.capacity = capacity;
    this.block = Buffer.alloc(capacity);
  }

  scan(len: number, maxLine: number): number {
    const view = this.block.subarray(0, len);
    const found: { pos: number; needle: number }[] = [];
    this.needles.forEach((nd, needle) => {
      for (let p = view.indexOf(nd); p !== -1; p = view.indexOf(nd, p + 1)) found.push({ pos: p, needle });
    });
    found.sort((a, b) => a.pos - b.pos || a.needle - b.needle);
    let nl = 0;
    let long = 0;
    let prev = -1;
    let fi = 0;
    this.matches = [];
    for (let q = view.indexOf(10); ; q = view.indexOf(10, q + 1)) {
      const end = q === -1 ? len : q;
      while (fi < found.length && (found[fi] as { pos: number }).pos < end) {
        const f = found[fi++] as { pos: number; needle: number };
        this.matches.push({ pos: f.pos, needle: f.needle, nlBefore: nl });
      }
      if (q === -1) break;
      if (q - prev - 1 > maxLine) long++;
      prev = q;
      nl++;
    }
    this.newlines = nl;
    this.longLines = long;
    return this.matches.length;
  }

  match(i: number, out: NeedleMatch): NeedleMatch {
    const m = this.matches[i] as NeedleMatch;
    out.pos = m.pos;
    out.needle = m.needle;
    out.nlBefore = m.nlBefore;
    return out;
  }
}

/** The fastest scanner this runtime supports. `BINDCHECK_NO_WASM=1` forces the JavaScript one. */
export function createNeedleScanner(needles: Buffer[], opts: { js?: boolean } = {}): NeedleScanner {
  const mod = opts.js || process.env.BINDCHECK_NO_WASM === '1' ? null : wasmModule();
  return mod ? new WasmNeedleScanner(mod, needles) : new JsNeedleScanner(needles);
}

export function wasmAvailable(): boolean {
  return wasmModule() !== null;
}

/**
 * The hot loop of the log scan: find every occurrence of a few literal needles in a block of complete lines, and
 * count the block's newlines, in one pass.
 *
 * Why WebAssembly: a log scan must keep up with `grep -c` on a 1 GB file. In JavaScript, one `Buffer.indexOf` pass per
 * needle (about a dozen needles) plus finding every newline costs ten passes over the data; V8's regex alternation is
 * no faster. A SIMD loop does all needles and the newline count in one pass over each 16-byte block, in the spirit of
 * Hyperscan's "Teddy": four bytes of each needle (its rarest stretch, {@link windowOf}) select a bucket bit through two
 * 16-entry nibble tables per byte position (`i8x16.swizzle`), the four positions are ANDed, and only surviving
 * positions are checked against the needles of the buckets they hit, byte by byte.
 * The module is assembled here from opcodes (no build step, no dependency); when the runtime lacks WebAssembly SIMD,
 * {@link JsNeedleScanner} does the same with `Buffer.indexOf`.
 *
 * Measured on a 256 MiB syslog (CPU time, 11 needles): three positions let a candidate through in 7 % of 16-byte
 * vectors, four in 0.3 %, and the cheaper candidate path more than pays for the fourth lookup; the high nibble is
 * taken with `i16x8.shr_u` and a mask (V8 has no x64 instruction for `i8x16.shr_u`); the newline count is a popcount
 * of the newline bitmask, and long lines are counted outside the loop ({@link countLongLines}); the last, partial
 * vector is masked after the loop instead of in it: about 1.8× the former loop's throughput. With 31 needles (ten
 * recognisers), windows at each needle's rarest stretch instead of its start, buckets grouped by likeness
 * ({@link buckets}) and checking only the hit buckets' needles took a 256 MiB scan from 1.1 s of CPU to 0.13 s. Two
 * vectors per iteration were slower (register spills).
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
const SCRATCH = 0; // two v128: the candidate buckets of one iteration
const RESULTS = 32; // the newline count
const TABLES = 64; // 8 × 16 bytes: lo/hi nibble tables for byte positions 0..3
const BUCKET_START = 192; // 9 × i32: bucket q's needles are table entries [start[q], start[q + 1])
const NEEDLE_TABLE = 256; // 16 bytes per needle, grouped by bucket: byte offset, length, the needle's index, window
const NEEDLE_BYTES = 2048;
const NEEDLE_BYTES_END = 8192;
const IN = 65536;
const CAPACITY = 256 * 1024;
const PAD = 64;
const OUT = IN + CAPACITY + PAD;
const RECORD = 12;
const MAX_NEEDLES = (NEEDLE_BYTES - NEEDLE_TABLE) / 16;
const PAGES = Math.ceil((OUT + (CAPACITY + PAD) * RECORD) / 65536);

/** A rough frequency of a byte in log text: where to look for a needle's rarest stretch. */
function byteWeight(b: number): number {
  if (b === 0x20) return 15;
  const c = String.fromCharCode(b);
  if ('etaoinsr'.includes(c)) return 8;
  if ('hldcum'.includes(c) || (b >= 0x30 && b <= 0x39)) return 4;
  if ('fpgwybvk:./-='.includes(c)) return 2;
  if (b >= 0x41 && b <= 0x5a) return 0.8;
  if ('xjqz,[]()"<>\'_@'.includes(c)) return 0.6;
  return 0.3;
}

const WEIGHTS = Array.from({ length: 256 }, (_, b) => byteWeight(b));

/**
 * The offset of the stretch of `positions` bytes the prefilter looks for: the rarest by {@link byteWeight}, not the
 * needle's start ("service(" is found by "ice(": "serv" is on every systemd line naming a unit).
 */
export function windowOf(needle: Buffer, positions: number): number {
  let best = 0;
  let bestScore = Infinity;
  for (let o = 0; o + positions <= needle.length; o++) {
    let score = 1;
    for (let k = 0; k < positions; k++) score *= byteWeight(needle[o + k] as number);
    if (score < bestScore) {
      best = o;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Put needles into 8 buckets so that a bucket's nibble tables let few other strings through: greedily, each needle
 * goes where it adds the least to the bucket's admitted byte strings, weighted by {@link byteWeight} (per position,
 * every low nibble combines with every high one; a needle shorter than the positions admits anything there). Like
 * needles share a bucket; with thirty needles this cut the 16-byte vectors with candidates from 14 % to 5 %.
 */
export function buckets(needles: Buffer[], positions = DEFAULT_SHAPE.positions): number[] {
  const lo = Array.from({ length: 8 }, () => new Array<number>(positions).fill(0));
  const hi = Array.from({ length: 8 }, () => new Array<number>(positions).fill(0));
  const used = new Array<number>(8).fill(0);
  // per position, the weight of the bytes the tables admit (every low nibble with every high one)
  const mass = (l: number, h: number) => {
    let sum = 0;
    for (let x = 0; x < 256; x++) if ((l >> (x & 15)) & 1 && (h >> (x >> 4)) & 1) sum += WEIGHTS[x] as number;
    return sum;
  };
  const admitted = (l: number[], h: number[]) => l.reduce((acc, v, pos) => acc * mass(v, h[pos] as number), 1);
  const order = needles.map((_, i) => i).sort((a, b) => (needles[a] as Buffer).compare(needles[b] as Buffer));
  const out = new Array<number>(needles.length).fill(0);
  for (const idx of order) {
    const nd = needles[idx] as Buffer;
    const nl = (pos: number) => (pos < nd.length ? 1 << ((nd[pos] as number) & 15) : 0xffff);
    const nh = (pos: number) => (pos < nd.length ? 1 << ((nd[pos] as number) >> 4) : 0xffff);
    let best = 0;
    let bestCost = Infinity;
    for (let q = 0; q < 8; q++) {
      const l = lo[q] as number[];
      const h = hi[q] as number[];
      const before = used[q] === 0 ? 0 : admitted(l, h);
      const after = admitted(l.map((v, pos) => v | nl(pos)), h.map((v, pos) => v | nh(pos)));
      const cost = after - before;
      if (cost < bestCost || (cost === bestCost && (used[q] as number) < (used[best] as number))) {
        best = q;
        bestCost = cost;
      }
    }
    for (let pos = 0; pos < positions; pos++) {
      (lo[best] as number[])[pos]! |= nl(pos);
      (hi[best] as number[])[pos]! |= nh(pos);
    }
    used[best]!++;
    out[idx] = best;
  }
  return out;
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
  or: [0x72],
  xor: [0x73],
  shl: [0x74],
  shrU: [0x76],
  vLoad: (off: number) => [0xfd, 0x00, 0, ...uleb(off)],
  vStore: (off: number) => [0xfd, 0x0b, 0, ...uleb(off)],
  swizzle: [0xfd, 0x0e],
  splat8: [0xfd, 0x0f],
  eq8: [0xfd, 0x23],
  vAnd: [0xfd, 0x4e],
  vOr: [0xfd, 0x50],
  anyTrue: [0xfd, 0x53],
  bitmask8: [0xfd, 0x64],
  shrU8: [0xfd, 0x6d],
  shrU16: [0xfd, 0x8d, 0x01],
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

/** How the scan loop is generated: Teddy positions per needle (3 or 4) and 16-byte vectors per iteration (1 or 2). */
export interface ScanShape {
  positions: number;
  unroll: number;
}

export const DEFAULT_SHAPE: ScanShape = { positions: 4, unroll: 1 };

/** scan(len, maxLine, nNeedles) → number of matches; the newline count at RESULTS. */
function scanFunction(shape: ScanShape): number[] {
  const P = shape.positions;
  const U = shape.unroll;
  const W = 16 * U;
  // params: 0 len, 1 maxLine (long lines are counted in JavaScript), 2 nNeedles
  const len = 0, nNeedles = 2;
  // i32 locals
  const i = 3, nl = 4, nm = 5, m = 6, cm = 7, j = 8, p = 9, n = 10, k = 11, b = 12, ln = 13, off = 14, valid = 15, last = 16,
    q = 17, nEnd = 18;
  const I32_LOCALS = 16; // 3..18
  // v128 locals
  const low = 19, nlv = 20, v0 = 21;
  const cv = (u: number) => 22 + u; // per unrolled vector
  const lo = (pos: number) => 22 + U + pos * 2;
  const hi = (pos: number) => 23 + U + pos * 2;
  const locals = [
    [...uleb(I32_LOCALS), I32],
    [...uleb(3 + U + 2 * P), V128],
  ];

  /** t = swizzle(lo, v & 0x0f) & swizzle(hi, v >> 4) for the v128 on the stack, stored in v0 first. */
  const nibbleLookup = (loT: number, hiT: number): number[] => [
    ...op.set(v0),
    ...op.get(loT), ...op.get(v0), ...op.get(low), ...op.vAnd, ...op.swizzle,
    // i16x8.shr_u and a mask: i8x16.shr_u has no x64 instruction and costs more
    ...op.get(hiT), ...op.get(v0), ...op.c(4), ...op.shrU16, ...op.get(low), ...op.vAnd, ...op.swizzle,
    ...op.vAnd,
  ];
  /** The candidate vector of the 16 bytes at i + at: each byte's bucket bits that survive all P positions. */
  const teddy = (at: number): number[] => {
    const out: number[] = [];
    for (let pos = 0; pos < P; pos++) {
      out.push(...op.get(i), ...op.vLoad(IN + at + pos), ...nibbleLookup(lo(pos), hi(pos)));
      if (pos > 0) out.push(...op.vAnd);
    }
    return out;
  };
  /** A bitmask (one bit per byte) of the lanes of the v128 on the stack that are not zero. */
  const nonZero = [...op.c(0), ...op.splat8, ...op.eq8, ...op.bitmask8, ...op.c(0xffff), ...op.xor];

  /** One iteration over W bytes at i; `masked`: only the first len - i < W bytes count. */
  const chunk = (masked: boolean): number[] => {
    const out: number[] = [];
    if (masked) {
      out.push(...op.c(1), ...op.get(len), ...op.get(i), ...op.sub, ...op.shl, ...op.c(1), ...op.sub, ...op.set(valid));
    }
    // m = newline bitmask of the W bytes
    for (let u = 0; u < U; u++) {
      out.push(...op.get(i), ...op.vLoad(IN + 16 * u), ...op.get(nlv), ...op.eq8, ...op.bitmask8);
      if (u > 0) out.push(...op.c(16 * u), ...op.shl, ...op.or);
    }
    if (masked) out.push(...op.get(valid), ...op.and);
    out.push(...op.set(m));
    for (let u = 0; u < U; u++) out.push(...teddy(16 * u), ...op.set(cv(u)));
    out.push(...op.get(cv(0)));
    for (let u = 1; u < U; u++) out.push(...op.get(cv(u)), ...op.vOr);
    out.push(...op.anyTrue, ...op.if);
    // cm = bitmask of candidate positions; their bucket bytes go to SCRATCH
    for (let u = 0; u < U; u++) {
      out.push(...op.get(cv(u)), ...nonZero);
      if (u > 0) out.push(...op.c(16 * u), ...op.shl, ...op.or);
      out.push(...op.c(SCRATCH + 16 * u), ...op.get(cv(u)), ...op.vStore(0));
    }
    if (masked) out.push(...op.get(valid), ...op.and);
    out.push(...op.set(cm));
    out.push(
      ...op.block, // candidates done
      ...op.loop,
      ...op.get(cm), ...op.eqz, ...op.brIf(1),
      ...op.get(cm), ...op.ctz, ...op.set(j),
      ...op.get(cm), ...op.get(cm), ...op.c(1), ...op.sub, ...op.and, ...op.set(cm),
      ...op.get(j), ...op.i32Load8(SCRATCH), ...op.set(b),
      ...op.block, // buckets done
      ...op.loop,
      ...op.get(b), ...op.eqz, ...op.brIf(1),
      ...op.get(b), ...op.ctz, ...op.set(q),
      ...op.get(b), ...op.get(b), ...op.c(1), ...op.sub, ...op.and, ...op.set(b),
      ...op.get(q), ...op.c(4), ...op.mul, ...op.i32Load(BUCKET_START), ...op.set(n),
      ...op.get(q), ...op.c(4), ...op.mul, ...op.i32Load(BUCKET_START + 4), ...op.set(nEnd),
      ...op.block, // needles done
      ...op.loop,
      ...op.get(n), ...op.get(nEnd), ...op.geS, ...op.brIf(1),
      ...op.get(n), ...op.c(16), ...op.mul, ...op.i32Load(NEEDLE_TABLE + 4), ...op.set(ln),
      ...op.get(n), ...op.c(16), ...op.mul, ...op.i32Load(NEEDLE_TABLE), ...op.set(off),
      // the needle starts at s = p - window[n]; if s >= 0 and s + len[n] <= len
      ...op.get(i), ...op.get(j), ...op.add, ...op.get(n), ...op.c(16), ...op.mul, ...op.i32Load(NEEDLE_TABLE + 12), ...op.sub, ...op.tee(p),
      ...op.c(0), ...op.geS,
      ...op.get(p), ...op.get(ln), ...op.add, ...op.get(len), ...op.leS,
      ...op.and,
      ...op.if,
      ...op.c(0), ...op.set(k),
      ...op.block, // compare done (mismatch)
      ...op.loop,
      ...op.get(k), ...op.get(ln), ...op.geS,
      ...op.if,
      // record: pos, needle, nlBefore = nl + popcnt(m & ((1 << j) - 1))
      ...op.get(nm), ...op.c(RECORD), ...op.mul, ...op.get(p), ...op.i32Store(OUT),
      ...op.get(nm), ...op.c(RECORD), ...op.mul, ...op.get(n), ...op.c(16), ...op.mul, ...op.i32Load(NEEDLE_TABLE + 8), ...op.i32Store(OUT + 4),
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
      ...op.get(n), ...op.c(1), ...op.add, ...op.set(n),
      ...op.br(0),
      ...op.end, // needle loop
      ...op.end, // needles done
      ...op.br(0),
      ...op.end, // bucket loop
      ...op.end, // buckets done
      ...op.br(0),
      ...op.end, // candidate loop
      ...op.end, // candidates done
      ...op.end, // if anyTrue
      ...op.get(nl), ...op.get(m), ...op.popcnt, ...op.add, ...op.set(nl),
    );
    return out;
  };

  const body: number[] = [];
  for (let pos = 0; pos < P; pos++) {
    body.push(...op.c(TABLES + pos * 32), ...op.vLoad(0), ...op.set(lo(pos)));
    body.push(...op.c(TABLES + pos * 32 + 16), ...op.vLoad(0), ...op.set(hi(pos)));
  }
  body.push(
    ...op.c(0x0f), ...op.splat8, ...op.set(low),
    ...op.c(10), ...op.splat8, ...op.set(nlv),
    // whole chunks: i <= len - W
    ...op.get(len), ...op.c(W), ...op.sub, ...op.set(last),
    ...op.block,
    ...op.loop,
    ...op.get(i), ...op.get(last), ...op.gtS, ...op.brIf(1),
    ...chunk(false),
    ...op.get(i), ...op.c(W), ...op.add, ...op.set(i),
    ...op.br(0),
    ...op.end,
    ...op.end,
    // the last, partial chunk
    ...op.get(i), ...op.get(len), ...op.ltS,
    ...op.if,
    ...chunk(true),
    ...op.end,
    ...op.c(RESULTS), ...op.get(nl), ...op.i32Store(0),
    ...op.get(nm),
  );
  const fn = [...vec(locals), ...body, ...op.end];
  return [...uleb(fn.length), ...fn];
}

function assemble(shape: ScanShape): Uint8Array<ArrayBuffer> {
  const type = section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])]]));
  const func = section(3, vec([[0]]));
  const mem = section(5, vec([[0x00, ...uleb(PAGES)]]));
  const exp = section(7, vec([
    [...str('scan'), 0x00, 0],
    [...str('mem'), 0x02, 0],
  ]));
  const code = section(10, vec([scanFunction(shape)]));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...func, ...mem, ...exp, ...code]);
}

const compiled = new Map<string, WebAssembly.Module | null>();

function wasmModule(shape: ScanShape = DEFAULT_SHAPE): WebAssembly.Module | null {
  const key = `${shape.positions}/${shape.unroll}`;
  let mod = compiled.get(key);
  if (mod !== undefined) return mod;
  try {
    const bytes = assemble(shape);
    mod = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    mod = null;
  }
  compiled.set(key, mod);
  return mod;
}

const layouts = new Map<string, { windows: number[]; bucketOf: number[] }>();

/** Each needle's window and bucket (a few ms for thirty needles: kept, as every file scanned builds a scanner). */
function layout(needles: Buffer[], positions: number): { windows: number[]; bucketOf: number[] } {
  const key = `${positions}:${needles.map((n) => n.toString('hex')).join(',')}`;
  let got = layouts.get(key);
  if (!got) {
    const windows = needles.map((nd) => windowOf(nd, positions));
    const bucketOf = buckets(needles.map((nd, idx) => nd.subarray(windows[idx], (windows[idx] as number) + positions)), positions);
    got = { windows, bucketOf };
    if (layouts.size > 16) layouts.clear();
    layouts.set(key, got);
  }
  return got;
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

  constructor(module: WebAssembly.Module, needles: Buffer[], shape: ScanShape = DEFAULT_SHAPE) {
    validateNeedles(needles);
    const instance = new WebAssembly.Instance(module, {});
    const memory = instance.exports.mem as WebAssembly.Memory;
    this.scanFn = instance.exports.scan as (len: number, maxLine: number, n: number) => number;
    const bytes = new Uint8Array(memory.buffer);
    const view = new DataView(memory.buffer);
    const { windows, bucketOf } = layout(needles, shape.positions);
    // table entries grouped by bucket, in needle order within one
    const byBucket = needles.map((_, idx) => idx).sort((a, b) => (bucketOf[a] as number) - (bucketOf[b] as number) || a - b);
    for (let q = 0, e = 0; q <= 8; q++) {
      view.setInt32(BUCKET_START + q * 4, e, true);
      while (e < byBucket.length && bucketOf[byBucket[e] as number] === q) e++;
    }
    let at = NEEDLE_BYTES;
    byBucket.forEach((idx, entry) => {
      const nd = needles[idx] as Buffer;
      if (at + nd.length > NEEDLE_BYTES_END) throw new Error('needles too long');
      bytes.set(nd, at);
      const bit = 1 << (bucketOf[idx] as number);
      const w = windows[idx] as number;
      view.setInt32(NEEDLE_TABLE + entry * 16, at, true);
      view.setInt32(NEEDLE_TABLE + entry * 16 + 4, nd.length, true);
      view.setInt32(NEEDLE_TABLE + entry * 16 + 8, idx, true);
      view.setInt32(NEEDLE_TABLE + entry * 16 + 12, w, true);
      at += nd.length;
      for (let pos = 0; pos < shape.positions; pos++) {
        if (w + pos >= nd.length) {
          // A needle shorter than the prefilter's positions lets any byte through there.
          for (let t = 0; t < 32; t++) bytes[TABLES + pos * 32 + t]! |= bit;
          continue;
        }
        const byte = nd[w + pos] as number;
        bytes[TABLES + pos * 32 + (byte & 0x0f)]! |= bit;
        bytes[TABLES + pos * 32 + 16 + (byte >> 4)]! |= bit;
      }
    });
    this.count = needles.length;
    this.block = Buffer.from(memory.buffer, IN, CAPACITY);
    this.out = new Int32Array(memory.buffer, OUT, (CAPACITY + PAD) * 3);
    this.results = new Int32Array(memory.buffer, RESULTS, 1);
  }

  scan(len: number, maxLine: number): number {
    // Bytes past len (the unfinished line kept for the next block) are loaded by the 16-byte loads but masked off,
    // and a needle is only compared when it ends within len.
    const n = this.scanFn(len, maxLine, this.count);
    // Matches come out in the order of their windows, and by bucket at one position: restore (position, needle)
    // order. Insertion sort: a match is at most a window's offset out of place.
    const out = this.out;
    for (let r = 1; r < n; r++) {
      for (let t = r; t > 0; t--) {
        const a = t * 3;
        const z = a - 3;
        const d = (out[a] as number) - (out[z] as number) || (out[a + 1] as number) - (out[z + 1] as number);
        if (d >= 0) break;
        for (let f = 0; f < 3; f++) {
          const x = out[a + f] as number;
          out[a + f] = out[z + f] as number;
          out[z + f] = x;
        }
      }
    }
    this.newlines = this.results[0] as number;
    this.longLines = countLongLines(this.block, len, maxLine);
    return n;
  }

  match(i: number, out: NeedleMatch): NeedleMatch {
    out.pos = this.out[i * 3] as number;
    out.needle = this.out[i * 3 + 1] as number;
    out.nlBefore = this.out[i * 3 + 2] as number;
    return out;
  }
}

/**
 * Lines of more than `maxLine` bytes that end (with a newline) inside `block[0..len)`, the block starting at a line's
 * start. Kept out of the SIMD loop, which would otherwise track every newline's position: a line of more than maxLine
 * bytes covers a whole aligned stretch of s = ⌈maxLine / 2⌉ bytes, so only a stretch without a newline (one
 * `indexOf` per stretch, which stops at the first newline) leads to measuring the line around it.
 */
export function countLongLines(block: Buffer, len: number, maxLine: number): number {
  if (len <= maxLine) return 0;
  const s = Math.max(1, (maxLine + 1) >> 1);
  let count = 0;
  let lineEnd = -1; // the end of the last line measured
  for (let a = 0; a + s <= len; a += s) {
    if (a <= lineEnd) continue;
    const nl = block.indexOf(10, a);
    if (nl !== -1 && nl < a + s) continue;
    if (nl === -1 || nl >= len) break; // the line does not end in this block
    const start = a === 0 ? 0 : block.lastIndexOf(10, a - 1) + 1;
    if (nl - start > maxLine) count++;
    lineEnd = nl;
  }
  return count;
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
export function createNeedleScanner(needles: Buffer[], opts: { js?: boolean; shape?: ScanShape } = {}): NeedleScanner {
  const shape = opts.shape ?? DEFAULT_SHAPE;
  const mod = opts.js || process.env.BINDCHECK_NO_WASM === '1' ? null : wasmModule(shape);
  return mod ? new WasmNeedleScanner(mod, needles, shape) : new JsNeedleScanner(needles);
}

export function wasmAvailable(): boolean {
  return wasmModule() !== null;
}

// One bindcheck log scan of the file in argv[2], timed inside the process; prints JSON. Used by run.mjs so that
// each scan's peak memory is its own process's.
import * as fs from 'node:fs';
import { readLogEvidence } from '../../dist/evidence/logs/index.js';

const file = process.argv[2];
const t0 = process.hrtime.bigint();
// BENCH_LOG_THREADS=1 forces the single-threaded scan (default: as bindcheck decides, by the host's cores).
const threads = process.env.BENCH_LOG_THREADS ? Number(process.env.BENCH_LOG_THREADS) : undefined;
const r = await readLogEvidence('/nonexistent-root', { files: [file], noJournal: true, noSyslog: true, maxEvents: 100_000, ...(threads ? { parallel: { threads } } : {}) });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
const byKind = {};
for (const e of r.events) byKind[e.kind] = (byKind[e.kind] ?? 0) + e.count;
process.stdout.write(JSON.stringify({
  seconds,
  bytes: r.scanned[0]?.bytes ?? 0,
  lines: r.scanned[0]?.lines ?? 0,
  events: r.events.length,
  recognised: r.events.reduce((n, e) => n + e.count, 0),
  byKind,
  unseen: r.unseen,
  vmHwmKb: hwm ? Number(hwm[1]) : undefined,
}) + '\n');

#!/usr/bin/env node
// Benchmark: bindcheck's log scan against `grep -c 'Address already in use'` on the same generated syslog file.
//
//   npx tsc -p tsconfig.build.json && node bench/logs/run.mjs
//
// Environment: BENCH_LOG_MB (size of the generated file, default 1024), BENCH_LOG_SMALL_MB (the second size used to
// show memory is flat, default 256), BENCH_LOG_RUNS (timed runs per tool, default 3; the median is reported),
// BENCH_LOG_KEEP=1 keeps the temp dir, BENCH_LOG_THREADS=1 makes bindcheck scan on one thread (default: its own choice,
// by the host's cores: large files are scanned in parts on worker threads). Exports runLogBench() for bench/run.mjs; prints a summary when run directly.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const MB = 1024 * 1024;

/** Deterministic pseudo-random numbers (a 32-bit LCG), so every run generates the same file. */
function rng(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n; // an LCG's low bits cycle quickly; use the high ones
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HOSTS = ['gorp', 'web1', 'mail02', 'db-3', 'edge'];
const PATHS = ['/index.html', '/api/v1/users?id=42', '/static/app.3f9a.js', '/favicon.ico', '/login', '/healthz'];
const USERS = ['root', 'deploy', 'alice', 'backup', 'www-data'];

/** Ordinary lines (none of which is a bind failure; some hold decoy words the recognisers must reject). */
const NOISE = [
  (r, h) => `${h} CRON[${1000 + r(30000)}]: (${USERS[r(5)]}) CMD (run-parts /etc/cron.hourly)`,
  (r, h) => `${h} kernel: [${r(900000)}.${r(999999)}] eth0: renamed from veth${r(99999).toString(16)}`,
  (r, h) => `${h} sshd[${r(60000)}]: Accepted publickey for ${USERS[r(5)]} from 10.${r(255)}.${r(255)}.${r(255)} port ${1024 + r(60000)} ssh2: RSA SHA256:${r(1e9).toString(36)}${r(1e9).toString(36)}`,
  (r, h) => `${h} postfix/smtpd[${r(60000)}]: connect from unknown[192.0.2.${r(255)}]`,
  (r, h) => `${h} postfix/qmgr[${r(60000)}]: ${r(1e9).toString(16).toUpperCase()}: from=<${USERS[r(5)]}@example.org>, size=${r(90000)}, nrcpt=1 (queue active)`,
  (r, h) => `${h} nginx[${r(60000)}]: 10.1.${r(255)}.${r(255)} - - "GET ${PATHS[r(6)]} HTTP/1.1" ${[200, 304, 404, 500][r(4)]} ${r(90000)} "-" "Mozilla/5.0 (X11; Linux x86_64)"`,
  (r, h) => `${h} systemd[1]: Started Session ${r(9000)} of user ${USERS[r(5)]}.`,
  (r, h) => `${h} systemd[1]: logrotate.service: Deactivated successfully.`,
  (r, h) => `${h} sendmail[${r(60000)}]: ${r(1e9).toString(36)}: from=<${USERS[r(5)]}@localhost>, size=${r(9000)}, class=0, nrcpts=1, relay=${USERS[r(5)]}@localhost`,
  (r, h) => `${h} dockerd[${r(9000)}]: time="2026-11-27T04:31:05.${r(999999)}Z" level=info msg="ignoring event" module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"`,
  // decoys: words the prefilter lets through, which must not be recognised
  (r, h) => `${h} sshd[${r(60000)}]: error: open /home/${USERS[r(5)]}/.ssh/authorized_keys: Permission denied`,
  (r, h) => `${h} dbus-daemon[${r(900)}]: [system] Activation via systemd failed for unit 'x.service': Name already in use`,
  (r, h) => `${h} app[${r(60000)}]: request requested address lookup for ${USERS[r(5)]} (errno 2)`,
];

/** Bind failures of several daemons; each line is exactly one recognised event occurrence. */
const FAILURES = [
  (r, h) => `${h} sendmail[${24000 + r(50)}]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon Daemon1: cannot bind: Address already in use`,
  (r, h) => `${h} sendmail[${24000 + r(50)}]: daemon Daemon1: problem creating SMTP socket`,
  (r, h) => `${h} nginx[${700 + r(50)}]: 2026/11/27 04:31:05 [emerg] 77#77: bind() to 0.0.0.0:${[80, 443][r(2)]} failed (98: Address already in use)`,
  (r, h) => `${h} node[${3000 + r(50)}]: Error: listen EADDRINUSE: address already in use :::${3000 + r(3)}`,
  (r, h) => `${h} systemd[1]: app${r(20)}.service: Main process exited, code=exited, status=1/FAILURE`,
  (r, h) => `${h} systemd[1]: sendmail.service: Failed with result 'exit-code'.`,
  (r, h) => `${h} api[${5000 + r(50)}]: listen tcp 127.0.0.1:${8080 + r(3)}: bind: address already in use`,
];

/**
 * Write `mb` MiB of syslog to `file`: varied ordinary lines and one bind failure about every `every` lines.
 * Returns the number of failure lines written.
 */
export function generateSyslog(file, mb, every = 20_000) {
  const r = rng(42);
  // A pool of varied ordinary lines, drawn from with fresh timestamps: generating every line anew is 10× slower.
  const pool = Array.from({ length: 65_536 }, () => {
    // Decoys (the last three templates) appear about once in 300 lines, as often as such noise does in real logs.
    const decoy = r(100) === 0;
    const t = decoy ? NOISE.length - 1 - r(3) : r(NOISE.length - 3);
    return NOISE[t](r, HOSTS[r(5)]);
  });
  const fd = fs.openSync(file, 'w');
  const target = mb * MB;
  let written = 0;
  let failures = 0;
  let sec = 0;
  let ts;
  try {
    while (written < target) {
      const parts = [];
      let size = 0;
      while (size < 4 * MB && written + size < target) {
        if ((++sec & 31) === 1 || ts === undefined) ts = `${MONTHS[(sec >> 22) % 12]} ${String(1 + ((sec >> 16) % 28)).padStart(2, ' ')} ${String((sec >> 12) % 24).padStart(2, '0')}:${String((sec >> 6) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
        let line;
        if (r(every) === 0) {
          line = `${ts} ${FAILURES[r(FAILURES.length)](r, HOSTS[r(5)])}\n`;
          failures++;
        } else {
          line = `${ts} ${pool[r(pool.length)]}\n`;
        }
        parts.push(line);
        size += line.length;
      }
      const buf = Buffer.from(parts.join(''), 'latin1');
      fs.writeSync(fd, buf);
      written += buf.length;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { bytes: written, failures };
}

function timeV(cmd, args) {
  const haveTime = fs.existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const res = haveTime
    ? spawnSync('/usr/bin/time', ['-v', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 * MB })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * MB });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  let maxRssKb;
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr ?? '');
  if (m) maxRssKb = Number(m[1]);
  return { wall, stdout: res.stdout ?? '', stderr: res.stderr ?? '', status: res.status, maxRssKb };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function runGrep(file) {
  const r = timeV('grep', ['-c', 'Address already in use', file]);
  if (r.maxRssKb === undefined) {
    // No /usr/bin/time: the child's peak RSS from getrusage(RUSAGE_CHILDREN) (maximum over all children so far).
    r.maxRssKb = process.resourceUsage().maxRSS;
  }
  return { seconds: r.wall, count: Number(r.stdout.trim()), maxRssKb: r.maxRssKb };
}

function runBindcheck(file) {
  const r = timeV(process.execPath, [path.join(here, 'scan-once.mjs'), file]);
  if (r.status !== 0) throw new Error(`bindcheck scan failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  return { ...out, wall: r.wall, maxRssKb: r.maxRssKb ?? out.vmHwmKb };
}

export async function runLogBench(opts = {}) {
  const env = process.env;
  const mb = Number(opts.mb ?? env.BENCH_LOG_MB ?? 1024);
  const smallMb = Number(opts.smallMb ?? env.BENCH_LOG_SMALL_MB ?? 256);
  const runs = Number(opts.runs ?? env.BENCH_LOG_RUNS ?? 3);
  const log = opts.log ?? ((s) => console.log(s));
  if (!fs.existsSync(path.join(here, '../../dist/evidence/logs/index.js'))) {
    throw new Error('dist/ is missing: run `npx tsc -p tsconfig.build.json` first');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-logbench-'));
  try {
    const results = { sizes: [] };
    for (const size of [...new Set([smallMb, mb])].filter((s) => s > 0).sort((a, b) => a - b)) {
      const file = path.join(dir, `syslog-${size}`);
      const t0 = Date.now();
      const gen = generateSyslog(file, size);
      log(`generated ${size} MiB (${gen.failures} bind-failure lines) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache
      const grep = [];
      const bc = [];
      for (let i = 0; i < runs; i++) {
        grep.push(runGrep(file));
        bc.push(runBindcheck(file));
      }
      const grepS = median(grep.map((g) => g.seconds));
      const bcScanS = median(bc.map((b) => b.seconds));
      const bcWallS = median(bc.map((b) => b.wall));
      const mbs = (s) => gen.bytes / MB / s;
      const row = {
        mb: size,
        bytes: gen.bytes,
        failuresGenerated: gen.failures,
        grep: { seconds: grepS, mbPerS: mbs(grepS), count: grep[0].count, maxRssKb: Math.max(...grep.map((g) => g.maxRssKb ?? 0)) },
        bindcheck: {
          scanSeconds: bcScanS,
          wallSeconds: bcWallS,
          mbPerS: mbs(bcScanS),
          wallMbPerS: mbs(bcWallS),
          recognised: bc[0].recognised,
          events: bc[0].events,
          lines: bc[0].lines,
          byKind: bc[0].byKind,
          maxRssKb: Math.max(...bc.map((b) => b.maxRssKb ?? 0)),
          vmHwmKb: Math.max(...bc.map((b) => b.vmHwmKb ?? 0)),
        },
      };
      row.ratio = row.bindcheck.mbPerS / row.grep.mbPerS;
      row.wallRatio = row.bindcheck.wallMbPerS / row.grep.mbPerS;
      row.countMatches = row.bindcheck.recognised === gen.failures;
      results.sizes.push(row);
      log(
        `${String(size).padStart(5)} MiB  grep -c: ${row.grep.mbPerS.toFixed(0)} MB/s, ${row.grep.maxRssKb} KB peak` +
          ` | bindcheck: ${row.bindcheck.mbPerS.toFixed(0)} MB/s scan (${row.bindcheck.wallMbPerS.toFixed(0)} MB/s with node start-up), ${row.bindcheck.maxRssKb} KB peak` +
          ` | ratio ${row.ratio.toFixed(2)} (${row.wallRatio.toFixed(2)} incl. start-up)` +
          ` | recognised ${row.bindcheck.recognised}/${gen.failures} ${row.countMatches ? 'OK' : 'MISMATCH'} in ${row.bindcheck.events} events`,
      );
      fs.rmSync(file);
    }
    if (results.sizes.length > 1) {
      const [a, b] = [results.sizes[0], results.sizes[results.sizes.length - 1]];
      log(`memory: bindcheck ${a.bindcheck.maxRssKb} KB at ${a.mb} MiB vs ${b.bindcheck.maxRssKb} KB at ${b.mb} MiB; grep ${a.grep.maxRssKb} KB vs ${b.grep.maxRssKb} KB`);
    }
    return results;
  } finally {
    if (env.BENCH_LOG_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runLogBench().then(
    (r) => {
      if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(r, null, 2));
      if (r.sizes.some((s) => !s.countMatches)) process.exitCode = 1;
    },
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}

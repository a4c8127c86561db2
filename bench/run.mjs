#!/usr/bin/env node
// Benchmark: `bindcheck sockets` against ss, netstat and lsof on the same socket tables, in a private network
// namespace so the host's own sockets are untouched. Needs root (unshare -n, RLIMIT_NOFILE, many processes).
//
//   npm run bench                               sizes 1000,10000,100000 one-process-per-socket + prefork 10000x100
//   BENCH_SIZES=1000,10000 BENCH_PREFORK= npm run bench      a quick run (no prefork)
//
// Environment: BENCH_SIZES (listening sockets per spread run), BENCH_PREFORK (SOCKETSxWORKERS, empty = skip),
// BENCH_IDLE (idle processes holding no socket, default 1000), BENCH_MAX_PROCS (most socket-holding processes,
// default 20000: pid_max is 32768 here, so 100k sockets are held 5 per process), BENCH_REPS (timed runs per tool,
// median reported; default 3, 1 for tables over 20k sockets or with prefork), BENCH_TIMEOUT (seconds per run, 180).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const env = process.env;

if (env.BENCH_IN_NETNS !== '1') {
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (unshare -n, raising RLIMIT_NOFILE, ~20k processes)');
    process.exit(2);
  }
  const r = spawnSync('unshare', ['-n', '--', process.execPath, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...env, BENCH_IN_NETNS: '1' },
  });
  process.exit(r.status ?? 1);
}

const sizes = (env.BENCH_SIZES ?? '1000,10000,100000').split(',').filter(Boolean).map(Number);
const prefork = env.BENCH_PREFORK ?? '10000x100';
const idle = Number(env.BENCH_IDLE ?? 1000);
const maxProcs = Number(env.BENCH_MAX_PROCS ?? 20000);
const timeoutS = Number(env.BENCH_TIMEOUT ?? 180);
const cli = path.join(repo, 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('bench: dist/cli.js missing; run `npm run build` first');
  process.exit(2);
}

run(['ip', 'link', 'set', 'lo', 'up']);
const holderBin = path.join(os.tmpdir(), `bindcheck-bench-holder-${process.pid}`);
run(['gcc', '-O2', '-o', holderBin, path.join(here, 'live-scan', 'holder.c')]);

/** @type {import('node:child_process').ChildProcess | undefined} */
let holder;
function stopHolder() {
  if (holder?.pid !== undefined && holder.exitCode === null) {
    try {
      process.kill(holder.pid, 'SIGTERM'); // the holder SIGKILLs its children by pid; they also have PDEATHSIG
    } catch {}
  }
  holder = undefined;
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopHolder();
    fs.rmSync(holderBin, { force: true });
    process.exit(130);
  });
}
process.on('exit', () => {
  stopHolder();
  fs.rmSync(holderBin, { force: true });
});

const time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const tools = [
  { name: 'bindcheck', cmd: [process.execPath, cli, 'sockets'] },
  { name: 'bindcheck --json', cmd: [process.execPath, cli, 'sockets', '--json'] },
  { name: 'bindcheck --no-owners', cmd: [process.execPath, cli, 'sockets', '--no-owners'] },
  { name: 'ss -ltn', cmd: ['ss', '-ltn'] },
  { name: 'ss -ltnu', cmd: ['ss', '-ltnu'] },
  { name: 'ss -ltnup', cmd: ['ss', '-ltnup'] },
  { name: 'netstat -ltnup', cmd: ['netstat', '-ltnup'] },
  { name: 'lsof -iTCP LISTEN', cmd: ['lsof', '-nP', '-iTCP', '-sTCP:LISTEN'] },
].filter((t) => which(t.cmd[0]));

const scenarios = [];
for (const n of sizes) {
  const procs = Math.min(n, maxProcs);
  const per = Math.ceil(n / procs);
  scenarios.push({ label: `spread ${n}`, args: ['spread', n, per, idle], sockets: n, shape: `${Math.ceil(n / per)} processes × ${per} socket(s) + ${idle} idle`, owners: 1 });
}
if (prefork) {
  const [n, w] = prefork.split('x').map(Number);
  scenarios.push({ label: `prefork ${n}x${w}`, args: ['prefork', n, w, idle], sockets: n, shape: `1 parent + ${w} workers each holding all ${n} sockets (${(n * (w + 1)).toLocaleString('en')} fds) + ${idle} idle`, owners: w + 1 });
}

console.log(`bindcheck sockets benchmark — ${os.cpus().length} CPUs, node ${process.version}, kernel ${os.release()}, private netns`);
const results = [];
for (const sc of scenarios) {
  const t0 = Date.now();
  await startHolder(sc.args);
  console.log(`\n## ${sc.label}: ${sc.shape} (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  verify(sc);
  const reps = Number(env.BENCH_REPS ?? (sc.sockets > 20000 || sc.label.startsWith('prefork') ? 1 : 3));
  measure(tools[0]); // warm-up: the first walk over /proc/PID/fd instantiates dentries, whoever runs first pays
  const row = { label: sc.label, tools: {} };
  for (const t of tools) {
    const runs = [];
    for (let i = 0; i < reps; i++) runs.push(measure(t));
    runs.sort((a, b) => a.s - b.s);
    const med = runs[Math.floor(runs.length / 2)];
    row.tools[t.name] = med;
    console.log(`  ${t.name.padEnd(22)} ${med.timedOut ? `>${timeoutS}` : med.s.toFixed(3).padStart(8)} s   max RSS ${med.rssMB === undefined ? '?' : med.rssMB.toFixed(0).padStart(5) + ' MB'}`);
  }
  results.push(row);
  const h = holder;
  const gone = new Promise((r) => (h.exitCode !== null ? r() : h.once('exit', r)));
  stopHolder();
  await gone; // the holder reaps its children before exiting, so the next scenario's ports are free
}

console.log('\n## Seconds (median) and speed-up of `bindcheck sockets` (peer time / bindcheck time; >1 = bindcheck faster)');
const names = tools.map((t) => t.name);
console.log(['scenario'.padEnd(18), ...names.map((n) => n.padStart(Math.max(10, n.length)))].join(' '));
for (const r of results) {
  console.log([r.label.padEnd(18), ...names.map((n) => fmt(r.tools[n]).padStart(Math.max(10, n.length)))].join(' '));
}
console.log('');
for (const r of results) {
  const b = r.tools['bindcheck']?.s;
  const bn = r.tools['bindcheck --no-owners']?.s;
  const parts = [];
  for (const n of ['ss -ltnup', 'netstat -ltnup', 'lsof -iTCP LISTEN']) if (r.tools[n]) parts.push(`vs ${n}: ${(r.tools[n].s / b).toFixed(2)}×`);
  const peers = ['ss -ltnup', 'netstat -ltnup', 'lsof -iTCP LISTEN'].map((n) => r.tools[n]?.s).filter((x) => x !== undefined);
  if (peers.length) parts.push(`vs fastest owner-listing peer: ${(Math.min(...peers) / b).toFixed(2)}×`);
  if (r.tools['ss -ltn'] && bn) parts.push(`--no-owners / ss -ltn: ${(bn / r.tools['ss -ltn'].s).toFixed(2)}× slower`);
  if (r.tools['ss -ltn']) parts.push(`bindcheck / ss -ltn: ${(b / r.tools['ss -ltn'].s).toFixed(2)}× slower`);
  console.log(`${r.label.padEnd(18)} ${parts.join('  ')}`);
}

function fmt(m) {
  if (!m) return '-';
  return m.timedOut ? `>${timeoutS}` : m.s.toFixed(3);
}

function measure(t) {
  const rssFile = path.join(os.tmpdir(), `bindcheck-bench-rss-${process.pid}`);
  const cmd = time ? [time, '-f', '%M', '-o', rssFile, ...t.cmd] : t.cmd;
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], timeout: timeoutS * 1000, killSignal: 'SIGKILL' });
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  let rssMB;
  try {
    rssMB = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024;
    fs.rmSync(rssFile);
  } catch {}
  return { s, rssMB, timedOut: r.error !== undefined || r.signal === 'SIGKILL' };
}

/** The bench is only meaningful if bindcheck saw every socket with every owner: check before timing. */
function verify(sc) {
  const r = spawnSync(process.execPath, [cli, 'sockets', '--json', '--max-owners', '1'], { maxBuffer: 1 << 30, encoding: 'utf8' });
  const doc = JSON.parse(r.stdout);
  const ours = doc.sockets.filter((s) => s.proto === 'tcp' && s.state === 'LISTEN' && s.address.startsWith('127.0.0.') && s.port >= 2000);
  const wrong = ours.filter((s) => s.ownerCount !== sc.owners);
  const ok = ours.length === sc.sockets && wrong.length === 0;
  console.log(`  check: ${ours.length}/${sc.sockets} sockets, ${ours.length - wrong.length} with exactly ${sc.owners} owner(s) ${ok ? 'OK' : 'MISMATCH'}`);
  if (!ok) process.exitCode = 1;
}

function startHolder(args) {
  return new Promise((resolve, reject) => {
    const h = spawn(holderBin, args.map(String), { stdio: ['pipe', 'pipe', 'inherit'] });
    holder = h;
    let out = '';
    h.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    h.once('exit', (code) => reject(new Error(`holder exited with ${code} before it was ready`)));
  });
}

function run(cmd) {
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${cmd.join(' ')} failed`);
    process.exit(2);
  }
}

function which(bin) {
  return bin.startsWith('/') ? fs.existsSync(bin) : spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

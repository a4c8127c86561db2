#!/usr/bin/env node
// Benchmark: `bindcheck sockets` against ss, netstat and lsof on the same socket tables, in a private network
// namespace so the host's own sockets are untouched. Needs root (unshare -n, RLIMIT_NOFILE, many processes).
//
//   npm run bench                                        spread 1k,10k,100k + prefork 10k×100
//   BENCH_SIZES=1000,10000 BENCH_SHAPES=spread npm run bench     a quick run
//
// Environment: BENCH_SIZES (listening sockets per spread run; default 1000,10000,100000), BENCH_SHAPES (spread,
// prefork; default both), BENCH_PREFORK (SOCKETSxWORKERS list for prefork, default 10000x100; 1000x100 and
// 10000x10 are smaller), BENCH_IDLE (idle processes holding no socket, default 1000), BENCH_MAX_PROCS (most
// socket-holding processes, default 20000: pid_max is 32768 here, so 100k sockets are held 5 per process),
// BENCH_REPS (timed runs per tool, median reported; default 3, 1 above 20k sockets or with prefork),
// BENCH_TIMEOUT (seconds per run, default 180), BENCH_CLI (the CLI file to time; default dist/bindcheck.cjs, the bin).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const env = process.env;
/** What sudo's env_reset passes on (Debian: secure_path, HOME, TERM, the locale): the environment of every timed tool. */
// bindcheck's own BINDCHECK_* switches (BINDCHECK_NATIVE=0: time the JavaScript owner scan) are passed on too.
const toolEnv = Object.fromEntries(Object.keys(env).filter((k) => ['PATH', 'HOME', 'TERM', 'LANG', 'LC_ALL', 'LANGUAGE'].includes(k) || k.startsWith('BINDCHECK_')).map((k) => [k, env[k]]));

// BENCH_SUITES picks the benchmarks: live-scan (bench/live-scan, this file), logs (bench/logs), nginx-tree
// (bench/nginx-tree); default all.
const suites = new Set((env.BENCH_SUITES ?? 'live-scan,logs,nginx-tree').split(',').filter(Boolean));

async function runNginx() {
  const { runNginxBench } = await import('./nginx-tree/run.mjs');
  console.log('\n== bench/nginx-tree: bindcheck scan vs nginx -t on 10,000 server blocks (target: faster, less memory) ==');
  const r = await runNginxBench();
  console.log(`  ${r.tree.servers} server blocks in ${r.tree.files} files, ${r.tree.ports} ports`);
  console.log(`  bindcheck scan ${r.bindcheck.seconds.toFixed(3)} s, ${r.bindcheck.peakMB.toFixed(0)} MB | nginx -t ${r.nginxT.seconds.toFixed(3)} s, ${r.nginxT.peakMB.toFixed(0)} MB`);
  const pass = r.ratio > 1 && r.memoryRatio > 1;
  console.log(`  ratio (nginx -t / bindcheck): time ${r.ratio.toFixed(2)}x, memory ${r.memoryRatio.toFixed(2)}x -> ${pass ? 'PASS' : 'FAIL'}`);
  return 0;
}

async function runLogs() {
  const { runLogBench } = await import('./logs/run.mjs');
  console.log('\n== bench/logs: bindcheck log scan vs grep -c (target: at least 0.5x grep throughput, memory flat) ==');
  const r = await runLogBench();
  for (const row of r.sizes) {
    console.log(`  ${row.mb} MiB: ratio ${row.ratio.toFixed(2)} -> ${row.ratio >= 0.5 ? 'PASS' : 'FAIL'} (with node start-up ${row.wallRatio.toFixed(2)})`);
  }
  const [a, b] = [r.sizes[0], r.sizes[r.sizes.length - 1]];
  if (a && b && a !== b) {
    const flat = b.bindcheck.maxRssKb <= a.bindcheck.maxRssKb * 1.2;
    console.log(`  memory ${a.bindcheck.maxRssKb} KB at ${a.mb} MiB vs ${b.bindcheck.maxRssKb} KB at ${b.mb} MiB -> ${flat ? 'PASS (flat)' : 'FAIL (grows)'}`);
  }
  return r.sizes.every((s) => s.countMatches) ? 0 : 1;
}

if (env.BENCH_IN_NETNS !== '1') {
  if (!suites.has('live-scan')) {
    const logs = suites.has('logs') ? await runLogs() : 0;
    const nginx = suites.has('nginx-tree') ? await runNginx() : 0;
    process.exit(logs || nginx);
  }
  if (process.getuid?.() !== 0) {
    console.error('bench: needs root (unshare -n, raising RLIMIT_NOFILE, ~20k processes)');
    process.exit(2);
  }
  // Asynchronous, so a SIGINT/SIGTERM here reaches the child (which cleans up) and we wait for it.
  const child = spawn('unshare', ['-n', '--', process.execPath, fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...env, BENCH_IN_NETNS: '1' } });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.pid !== undefined && kill(child.pid, sig));
  child.on('exit', async (code, signal) => {
    const live = code ?? (signal ? 130 : 1);
    if (signal) process.exit(live);
    const logs = suites.has('logs') ? await runLogs() : 0;
    const nginx = suites.has('nginx-tree') ? await runNginx() : 0;
    process.exit(live || logs || nginx);
  });
} else {
  await main();
}

async function main() {
  const sizes = (env.BENCH_SIZES ?? '1000,10000,100000').split(',').filter(Boolean).map(Number);
  const shapes = new Set((env.BENCH_SHAPES ?? 'spread,prefork').split(',').filter(Boolean));
  const preforks = (env.BENCH_PREFORK ?? '10000x100').split(',').filter(Boolean);
  const idle = Number(env.BENCH_IDLE ?? 1000);
  const maxProcs = Number(env.BENCH_MAX_PROCS ?? 20000);
  const timeoutS = Number(env.BENCH_TIMEOUT ?? 180);
  const cli = path.resolve(env.BENCH_CLI ?? path.join(repo, 'dist', 'bindcheck.cjs'));
  if (!fs.existsSync(cli)) {
    console.error(`bench: ${cli} missing; run \`npm run build\` first`);
    process.exit(2);
  }

  /** Every process (pid) or process group (-pid) this bench started and has not seen exit: killed on any way out. */
  const live = new Set();
  const holderBin = path.join(os.tmpdir(), `bindcheck-bench-holder-${process.pid}`);
  const rssFile = path.join(os.tmpdir(), `bindcheck-bench-rss-${process.pid}`);
  let cleaned = false;
  function cleanup() {
    if (cleaned) return;
    cleaned = true;
    // The holder SIGKILLs its children by pid and reaps them; they also die with it (PR_SET_PDEATHSIG).
    for (const pid of live) kill(pid, 'SIGTERM');
    for (const pid of live) kill(pid, 'SIGKILL');
    fs.rmSync(holderBin, { force: true });
    fs.rmSync(rssFile, { force: true });
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`\nbench: ${sig}, stopping ${live.size} process(es)`);
      cleanup();
      process.exit(130);
    });
  }
  process.on('exit', cleanup);

  /** Run a command asynchronously with a bound on its time; resolves with its exit and output. */
  function runAsync(cmd, { timeout = timeoutS, stdout = 'ignore', stdin = 'ignore', env: childEnv = toolEnv } = {}) {
    return new Promise((resolve) => {
      const start = process.hrtime.bigint();
      // Its own process group, so a timeout or cleanup also reaches what /usr/bin/time started.
      const child = spawn(cmd[0], cmd.slice(1), { stdio: [stdin, stdout, 'pipe'], detached: true, env: childEnv });
      const group = child.pid === undefined ? undefined : -child.pid;
      if (group !== undefined) live.add(group);
      let out = '';
      let err = '';
      child.stdout?.setEncoding('utf8').on('data', (d) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        if (group !== undefined) kill(group, 'SIGKILL');
      }, timeout * 1000);
      child.on('error', (e) => {
        clearTimeout(timer);
        live.delete(group);
        resolve({ code: -1, out, err: String(e), s: 0, timedOut });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        live.delete(group);
        resolve({ code: code ?? -1, signal, out, err, s: Number(process.hrtime.bigint() - start) / 1e9, timedOut });
      });
    });
  }

  async function must(cmd) {
    const r = await runAsync(cmd, { timeout: 120 });
    if (r.code !== 0) {
      console.error(`bench: ${cmd.join(' ')} failed: ${r.err}`);
      process.exit(2);
    }
  }

  await must(['ip', 'link', 'set', 'lo', 'up']);
  await must(['gcc', '-O2', '-o', holderBin, path.join(here, 'live-scan', 'holder.c')]);

  const time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  // Every tool runs in the environment `sudo` gives a command (Debian's env_reset keeps PATH, HOME, TERM, the
  // locale): the README runs bindcheck through sudo, and the peers need no more. A shell's NODE_* variables are
  // not bindcheck's: NODE_EXTRA_CA_CERTS (set in some sandboxes and corporate shells) makes every node start
  // parse a CA bundle first, ~50 ms. When this shell has such variables, one more row shows bindcheck run with
  // them, for information; the targets use the reset environment, the same for every tool.
  const nodeVars = Object.keys(env).filter((k) => /^NODE_(OPTIONS|EXTRA_CA_CERTS|ICU_DATA|REPL_EXTERNAL_MODULE|V8_COVERAGE|COMPILE_CACHE)$/.test(k));
  // Which owner scan `bindcheck sockets` uses: the native module (native/build/procscan.node, built by npm ci when a
  // C compiler is there) or the JavaScript scan. BINDCHECK_NATIVE=0 in the environment forces the JavaScript one.
  const scanPathProbe = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(new URL('live/native-scan.js', 'file://' + path.dirname(cli) + '/').href)}); console.log(m.ownerScanPath())`], { encoding: 'utf8' });
  const scanPath = scanPathProbe.status === 0 ? scanPathProbe.stdout.trim() : 'unknown';
  const tools = [
    { name: 'bindcheck', cmd: [process.execPath, cli, 'sockets'] },
    { name: 'bindcheck --json', cmd: [process.execPath, cli, 'sockets', '--json'] },
    { name: 'bindcheck --no-owners', cmd: [process.execPath, cli, 'sockets', '--no-owners'] },
    // The JavaScript owner scan, which users without the native module (no compiler at install) get.
    ...(scanPath === 'native' ? [{ name: 'bindcheck (JS scan)', cmd: ['env', 'BINDCHECK_NATIVE=0', process.execPath, cli, 'sockets'] }] : []),
    ...(nodeVars.length ? [{ name: 'bindcheck (shell env)', cmd: [process.execPath, cli, 'sockets'], env: process.env }] : []),
    { name: 'ss -ltn', cmd: ['ss', '-ltn'] },
    { name: 'ss -ltnu', cmd: ['ss', '-ltnu'] },
    { name: 'ss -ltnup', cmd: ['ss', '-ltnup'] },
    { name: 'netstat -ltnup', cmd: ['netstat', '-ltnup'] },
    { name: 'lsof', cmd: ['lsof', '-nP', '-iTCP', '-sTCP:LISTEN'] },
  ].filter((t) => which(t.cmd[0]));
  const OWNER_PEERS = ['ss -ltnup', 'netstat -ltnup', 'lsof'];

  const scenarios = [];
  if (shapes.has('spread')) {
    for (const n of sizes) {
      const procs = Math.min(n, maxProcs);
      const per = Math.ceil(n / procs);
      const nprocs = Math.ceil(n / per);
      scenarios.push({ kind: 'spread', label: `spread ${n}`, args: ['spread', n, per, idle], sockets: n, fds: n, shape: `${nprocs} processes × ${per} socket(s) + ${idle} idle`, owners: 1 });
    }
  }
  if (shapes.has('prefork')) {
    for (const p of preforks) {
      const [n, w] = p.split('x').map(Number);
      scenarios.push({ kind: 'prefork', label: `prefork ${n}x${w}`, args: ['prefork', n, w, idle], sockets: n, fds: n * (w + 1), shape: `1 parent + ${w} workers each holding all ${n} sockets (${(n * (w + 1)).toLocaleString('en')} socket fds) + ${idle} idle`, owners: w + 1 });
    }
  }

  const load0 = os.loadavg();
  console.log(`bindcheck sockets benchmark — ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, kernel ${os.release()}, private netns`);
  console.log(`load average at start: ${load0.map((x) => x.toFixed(2)).join(' ')}${load0[0] > os.cpus().length / 2 ? '  (busy: other processes share this machine; numbers are noisier and slower than on a quiet one)' : ''}`);
  console.log(`cli: ${cli}; owner scan measured as \`bindcheck\`: ${scanPath}${scanPath === 'native' ? ' (native/build/procscan.node; "bindcheck (JS scan)" is the JavaScript one)' : ' (the native module is not built: see native/build.mjs)'}`);
  console.log(`environment of every tool: ${Object.keys(toolEnv).join(', ')} (as sudo's env_reset leaves it)${nodeVars.length ? `; "bindcheck (shell env)" adds this shell's ${nodeVars.join(', ')}` : ''}`);

  const results = [];
  for (const sc of scenarios) {
    const t0 = Date.now();
    let holder;
    try {
      holder = await startHolder(sc.args);
    } catch (e) {
      console.log(`\n## ${sc.label}: could not start the holder (${e.message}); skipped`);
      continue;
    }
    console.log(`\n## ${sc.label}: ${sc.shape} (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s, load ${os.loadavg()[0].toFixed(2)})`);
    const ok = await verify(sc);
    const reps = Number(env.BENCH_REPS ?? (sc.sockets > 20000 || sc.kind === 'prefork' ? 1 : 3));
    await measure(tools[0]); // warm-up: the first walk over /proc/PID/fd instantiates dentries, whoever runs first pays
    const row = { sc, ok, tools: {}, load: os.loadavg()[0] };
    for (const t of tools) {
      const runs = [];
      for (let i = 0; i < reps; i++) {
        const m = await measure(t);
        runs.push(m);
        if (m.timedOut) break; // one timeout says enough; do not spend reps × timeout on it
      }
      runs.sort((a, b) => a.s - b.s);
      const med = runs[Math.floor(runs.length / 2)];
      row.tools[t.name] = med;
      const all = runs.length > 1 ? `  (runs: ${runs.map((r) => r.s.toFixed(3)).join(', ')})` : '';
      console.log(`  ${t.name.padEnd(22)} ${fmt(med).padStart(8)} s   max RSS ${med.rssMB === undefined ? '    ?' : med.rssMB.toFixed(0).padStart(5)} MB${all}`);
    }
    results.push(row);
    await stopHolder(holder);
  }

  console.log(`\n## Seconds (median; load average at start ${load0[0].toFixed(2)}, at end ${os.loadavg()[0].toFixed(2)})`);
  const names = tools.map((t) => t.name);
  console.log(['scenario'.padEnd(18), ...names.map((n) => n.padStart(Math.max(9, n.length)))].join(' '));
  for (const r of results) console.log([r.sc.label.padEnd(18), ...names.map((n) => fmt(r.tools[n]).padStart(Math.max(9, n.length)))].join(' '));
  console.log(`\n## Max RSS (MB)`);
  for (const r of results) console.log([r.sc.label.padEnd(18), ...names.map((n) => (r.tools[n]?.rssMB?.toFixed(0) ?? '-').padStart(Math.max(9, n.length)))].join(' '));

  console.log('\n## Ratios (peer time / bindcheck time: >1 means bindcheck is faster) and targets');
  let pass = 0;
  let fail = 0;
  const verdict = (okay, text) => {
    okay ? pass++ : fail++;
    return `${okay ? 'PASS' : 'FAIL'} ${text}`;
  };
  for (const r of results) {
    const b = r.tools['bindcheck'];
    const lines = [];
    if (!r.ok) lines.push(verdict(false, 'correctness check (see above)'));
    for (const n of OWNER_PEERS) if (r.tools[n] && b) lines.push(`vs ${n}: ${ratio(r.tools[n], b)}×`);
    const peers = OWNER_PEERS.map((n) => r.tools[n]).filter((m) => m !== undefined);
    const fastest = peers.length ? peers.reduce((a, m) => (m.s < a.s ? m : a)) : undefined;
    if (r.sc.kind === 'spread' && r.tools['ss -ltnup'] && b) {
      lines.push(verdict(!b.timedOut && b.s < r.tools['ss -ltnup'].s, `faster than ss -ltnup (${fmt(b)} s vs ${fmt(r.tools['ss -ltnup'])} s)`));
    }
    if (r.sc.kind === 'spread' && r.sc.sockets >= 90000 && r.tools['ss -ltn'] && r.tools['bindcheck --no-owners']) {
      const nb = r.tools['bindcheck --no-owners'];
      const f = nb.s / r.tools['ss -ltn'].s;
      lines.push(verdict(!nb.timedOut && f <= 3, `--no-owners within 3× of ss -ltn (${f.toFixed(2)}×)`));
    }
    if (r.sc.kind === 'prefork' && fastest && b) {
      const f = fastest.s / b.s;
      lines.push(verdict(!b.timedOut && f >= 5, `≥5× faster than the fastest owner-listing peer (${f.toFixed(2)}×${fastest.timedOut ? ', peer timed out: a lower bound' : ''})`));
    }
    console.log(`${r.sc.label.padEnd(18)} ${lines.join('\n' + ' '.repeat(19))}`);
  }
  const bySize = results.filter((r) => r.sc.kind === 'spread' && r.tools['bindcheck'] && !r.tools['bindcheck'].timedOut).sort((a, b) => a.sc.sockets - b.sc.sockets);
  if (bySize.length >= 2) {
    const growth = bySize.map((r) => `${r.sc.sockets}: ${((r.tools['bindcheck'].s / r.sc.sockets) * 1e6).toFixed(1)} µs/socket`);
    console.log(`growth (spread, bindcheck): ${growth.join(', ')}`);
  }
  console.log(`\n${pass} target(s) pass, ${fail} fail`);

  function fmt(m) {
    if (!m) return '-';
    return m.timedOut ? `>${timeoutS}` : m.s.toFixed(3);
  }
  function ratio(peer, ours) {
    if (ours.timedOut) return '?';
    return (peer.timedOut ? '>' : '') + (peer.s / ours.s).toFixed(2);
  }

  async function measure(t) {
    const cmd = time ? [time, '-f', '%M', '-o', rssFile, ...t.cmd] : t.cmd;
    const r = await runAsync(cmd, t.env ? { env: t.env } : {});
    let rssMB;
    try {
      rssMB = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024;
      fs.rmSync(rssFile);
    } catch {}
    if (r.code !== 0 && !r.timedOut) console.log(`  ${t.name}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}: ${r.err.trim().split('\n').slice(-2).join(' | ')}`);
    return { s: r.s, rssMB: Number.isFinite(rssMB) ? rssMB : undefined, timedOut: r.timedOut };
  }

  /** The bench is only meaningful if bindcheck saw every socket with every owner: check before timing. */
  async function verify(sc) {
    const r = await runAsync([process.execPath, cli, 'sockets', '--json', '--max-owners', '1'], { stdout: 'pipe' });
    let doc;
    try {
      doc = JSON.parse(r.out);
    } catch {
      console.log(`  check: bindcheck --json failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}) MISMATCH`);
      process.exitCode = 1;
      return false;
    }
    const ours = doc.sockets.filter((s) => s.proto === 'tcp' && s.state === 'LISTEN' && s.address.startsWith('127.0.0.') && s.port >= 2000);
    const wrong = ours.filter((s) => s.ownerCount !== sc.owners);
    const ok = ours.length === sc.sockets && wrong.length === 0;
    console.log(`  check: ${ours.length}/${sc.sockets} sockets, ${ours.length - wrong.length} with exactly ${sc.owners} owner(s) ${ok ? 'OK' : 'MISMATCH'}`);
    if (!ok) process.exitCode = 1;
    return ok;
  }

  function startHolder(args) {
    return new Promise((resolve, reject) => {
      // stdin stays open as a pipe: the holder also stops when it closes (this bench died without cleanup).
      const h = spawn(holderBin, args.map(String), { stdio: ['pipe', 'pipe', 'inherit'] });
      live.add(h.pid);
      let out = '';
      const timer = setTimeout(() => {
        kill(h.pid, 'SIGTERM');
        reject(new Error('not ready within 300 s'));
      }, 300_000);
      h.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve(h);
        }
      });
      h.once('exit', (code) => {
        live.delete(h.pid);
        clearTimeout(timer);
        reject(new Error(`holder exited with ${code} before it was ready`));
      });
    });
  }

  /** SIGTERM the holder and wait (bounded) until it has reaped its children, so the next scenario's ports are free. */
  async function stopHolder(h) {
    if (h.exitCode !== null || h.signalCode !== null) return;
    const gone = new Promise((r) => h.once('exit', r));
    kill(h.pid, 'SIGTERM');
    const late = await Promise.race([gone.then(() => false), sleep(60_000).then(() => true)]);
    if (late) {
      kill(h.pid, 'SIGKILL');
      await Promise.race([gone, sleep(10_000)]);
    }
    live.delete(h.pid);
  }
}

function kill(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {}
}

function which(bin) {
  return bin.startsWith('/') ? fs.existsSync(bin) : spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms).unref());
}

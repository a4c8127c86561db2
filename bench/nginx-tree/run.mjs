#!/usr/bin/env node
// Benchmark: bindcheck's nginx reader against the real `nginx -t` on the same generated tree — 10,000 server
// blocks in 1,000 included files, with four listen forms (`listen PORT`, `listen *:PORT`, `listen 127.0.0.1:PORT`,
// `listen [::]:PORT`) over 200 ports, plus the usual directives and locations.
//
//   npx tsc -p tsconfig.build.json && node bench/nginx-tree/run.mjs
//
// bindcheck: `scanInventory({ root: TREE, live: false, readers: [nginxReader] })` from dist/ in a child process.
// nginx: `nginx -t -c TREE/etc/nginx/nginx.conf` inside `unshare -n` (nginx -t binds every listening socket).
// Both are run BENCH_NGINX_RUNS times (default 3); the median wall time and the peak RSS (getrusage of the
// child, via python3) are reported. BENCH_NGINX_DIST names another build dir. BENCH_NGINX_KEEP=1 keeps the tree. Exports runNginxBench() for bench/run.mjs.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const FILES = 1000;
const SERVERS_PER_FILE = 10;
const PORTS = 200;

/** Deterministic pseudo-random numbers (a 32-bit LCG). */
function rng(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
}

export function generateTree(dir) {
  const etc = path.join(dir, 'etc', 'nginx');
  fs.mkdirSync(path.join(etc, 'conf.d'), { recursive: true });
  fs.writeFileSync(
    path.join(etc, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      'error_log stderr;',
      'events { worker_connections 4096; }',
      'http {',
      '    access_log off;',
      '    types { text/html html; text/css css; application/javascript js; }',
      '    default_type application/octet-stream;',
      '    server_names_hash_max_size 65536;',
      '    server_names_hash_bucket_size 128;',
      '    include conf.d/*.conf;',
      '}',
      '',
    ].join('\n'),
  );
  const r = rng(42);
  for (let f = 0; f < FILES; f++) {
    const out = [`# generated site file ${f}`];
    for (let k = 0; k < SERVERS_PER_FILE; k++) {
      const n = f * SERVERS_PER_FILE + k;
      const port = 8000 + r(PORTS);
      const form = r(4);
      const listen = form === 0 ? `${port}` : form === 1 ? `*:${port}` : form === 2 ? `127.0.0.1:${port}` : `[::]:${port}`;
      out.push(
        'server {',
        `    listen ${listen}${r(10) === 0 ? ' http2' : ''};`,
        `    server_name site${n}.example.com www.site${n}.example.com;`,
        `    root /srv/www/site${n};`,
        '    index index.html;',
        '    location / {',
        '        try_files $uri $uri/ =404;',
        '    }',
        `    location /api/ { proxy_pass http://127.0.0.1:${9000 + (n % 50)}; proxy_set_header Host $host; }`,
        '    location ~* \\.(css|js)$ { expires 7d; add_header Cache-Control "public"; }',
        '}',
      );
    }
    fs.writeFileSync(path.join(etc, 'conf.d', `site-${String(f).padStart(4, '0')}.conf`), out.join('\n') + '\n');
  }
  return path.join(etc, 'nginx.conf');
}

const MEASURE = `
import resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
w = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stdout.write("%d %.6f %d\\n" % (p.returncode, w, ru.ru_maxrss))
sys.stderr.write(p.stderr.decode(errors="replace")[-2000:] + p.stdout.decode(errors="replace")[-2000:])
`;

function measure(argv) {
  const r = spawnSync('python3', ['-c', MEASURE, ...argv], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const [code, wall, kb] = (r.stdout || '').trim().split(' ');
  return { code: Number(code), seconds: Number(wall), peakMB: Number(kb) / 1024, output: r.stderr };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runNginxBench(env = process.env) {
  const runs = Number(env.BENCH_NGINX_RUNS ?? 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-nginx-tree-'));
  try {
    const conf = generateTree(dir);
    const dist = path.resolve(env.BENCH_NGINX_DIST ?? path.join(repo, 'dist'));
    if (!fs.existsSync(path.join(dist, 'readers', 'nginx', 'index.js'))) {
      throw new Error('dist/readers/nginx/index.js missing: run `npx tsc -p tsconfig.build.json` first');
    }
    // The reader alone (what `bindcheck scan` spends on nginx's config) and the whole scanInventory() (reader,
    // then the kernel model replaying every socket and the checks).
    const readerScript = path.join(dir, 'read-once.mjs');
    fs.writeFileSync(
      readerScript,
      [
        `import { RootFs } from ${JSON.stringify(pathToFileURL(path.join(dist, 'fs', 'root-fs.js')).href)};`,
        `import { readNginx } from ${JSON.stringify(pathToFileURL(path.join(dist, 'readers', 'nginx', 'index.js')).href)};`,
        `const r = readNginx(new RootFs(${JSON.stringify(dir)}));`,
        "console.log(`files=${r.plans[0]?.files.length} sockets=${r.plans[0]?.sockets.length} findings=${r.findings.length}`);",
      ].join('\n'),
    );
    const script = path.join(dir, 'scan-once.mjs');
    fs.writeFileSync(
      script,
      [
        `import { scanInventory } from ${JSON.stringify(pathToFileURL(path.join(dist, 'run.js')).href)};`,
        `import { nginxReader } from ${JSON.stringify(pathToFileURL(path.join(dist, 'readers', 'nginx', 'index.js')).href)};`,
        `const inv = scanInventory({ root: ${JSON.stringify(dir)}, live: false, readers: [nginxReader] });`,
        'const p = inv.inventory?.daemons?.[0] ?? inv.daemons?.[0];',
        "console.log(`files=${p?.files.length} sockets=${p?.sockets.length} findings=${(inv.inventory?.inputFindings ?? inv.inputFindings ?? []).length}`);",
      ].join('\n'),
    );
    const bc = [];
    const rd = [];
    const ng = [];
    let bcOut = '';
    let ngOut = '';
    for (let i = 0; i < runs; i++) {
      const d = measure([process.execPath, readerScript]);
      if (d.code !== 0) throw new Error(`bindcheck reader failed: ${d.output}`);
      rd.push(d);
      const b = measure([process.execPath, script]);
      if (b.code !== 0) throw new Error(`bindcheck failed: ${b.output}`);
      bcOut = b.output.trim();
      bc.push(b);
      const n = measure(['unshare', '-n', '--', 'sh', '-c', `ip link set lo up; ulimit -n 65536; exec nginx -t -q -c ${conf}`]);
      if (n.code !== 0) throw new Error(`nginx -t failed: ${n.output}`);
      ngOut = n.output.trim();
      ng.push(n);
    }
    const res = {
      tree: { files: FILES + 1, servers: FILES * SERVERS_PER_FILE, ports: PORTS },
      reader: { seconds: median(rd.map((x) => x.seconds)), peakMB: Math.max(...rd.map((x) => x.peakMB)) },
      bindcheck: { seconds: median(bc.map((x) => x.seconds)), peakMB: Math.max(...bc.map((x) => x.peakMB)), summary: bcOut },
      nginxT: { seconds: median(ng.map((x) => x.seconds)), peakMB: Math.max(...ng.map((x) => x.peakMB)), summary: ngOut.slice(0, 200) },
    };
    res.readerRatio = res.nginxT.seconds / res.reader.seconds;
    res.readerMemoryRatio = res.nginxT.peakMB / res.reader.peakMB;
    res.ratio = res.nginxT.seconds / res.bindcheck.seconds;
    res.memoryRatio = res.nginxT.peakMB / res.bindcheck.peakMB;
    return res;
  } finally {
    if (env.BENCH_NGINX_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`tree kept in ${dir}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runNginxBench();
  console.log(`nginx tree: ${r.tree.servers} server blocks in ${r.tree.files} files, ${r.tree.ports} ports`);
  console.log(`  bindcheck nginx reader:   ${r.reader.seconds.toFixed(3)} s, peak ${r.reader.peakMB.toFixed(0)} MB (nginx -t / reader: time ${r.readerRatio.toFixed(2)}x, memory ${r.readerMemoryRatio.toFixed(2)}x)`);
  console.log(`  bindcheck scanInventory:  ${r.bindcheck.seconds.toFixed(3)} s, peak ${r.bindcheck.peakMB.toFixed(0)} MB  [${r.bindcheck.summary}]`);
  console.log(`  nginx -t:                 ${r.nginxT.seconds.toFixed(3)} s, peak ${r.nginxT.peakMB.toFixed(0)} MB`);
  console.log(`  ratio (nginx -t / bindcheck): time ${r.ratio.toFixed(2)}x, memory ${r.memoryRatio.toFixed(2)}x`);
}

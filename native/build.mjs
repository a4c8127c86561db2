#!/usr/bin/env node
// Builds bindcheck's optional native /proc scanner (native/procscan.c → native/build/procscan.node) with the C
// compiler and Node's own Node-API headers (<node prefix>/include/node). Never fails: without a compiler or the
// headers (a fresh Debian 12 without build-essential) it says so and exits 0, and `bindcheck sockets` uses the
// JavaScript scan. Runs from `npm install`/`npm ci` (the package's install script) and can be run again by hand.
//   BINDCHECK_NATIVE_BUILD=0   skip the build      CC=...   the compiler (default cc)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'build', 'procscan.node');
const say = (msg) => console.log(`bindcheck native scanner: ${msg}`);

function main() {
  if (process.env.BINDCHECK_NATIVE_BUILD === '0') return say('skipped (BINDCHECK_NATIVE_BUILD=0); the JavaScript scan is used');
  if (process.platform !== 'linux') return say(`not built on ${process.platform} (it reads Linux /proc); the JavaScript scan is used`);
  const include = [path.resolve(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].find((d) =>
    fs.existsSync(path.join(d, 'node_api.h')),
  );
  if (!include) return say('not built: no node_api.h next to this node (include/node); the JavaScript scan is used');
  const cc = process.env.CC || 'cc';
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = path.join(path.dirname(out), `procscan.${process.pid}.tmp.node`);
  const args = ['-O2', '-Wall', '-std=gnu11', '-shared', '-fPIC', '-pthread', '-fvisibility=hidden', `-I${include}`, '-o', tmp, path.join(here, 'procscan.c')];
  const r = spawnSync(cc, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
    return say(`not built (${cc}: ${why}); the JavaScript scan is used`);
  }
  try {
    const mod = createRequire(import.meta.url)(tmp);
    if (typeof mod.scan !== 'function') throw new Error('no scan()');
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    return say(`built but does not load (${e.message}); the JavaScript scan is used`);
  }
  fs.renameSync(tmp, out);
  say(`built ${path.relative(process.cwd(), out) || out}`);
}

try {
  main();
} catch (e) {
  say(`not built (${e instanceof Error ? e.message : String(e)}); the JavaScript scan is used`);
}

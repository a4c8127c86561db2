import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BindResult, SimulatedNamespace } from '../../src/kernel/index.js';
import {
  ORACLE_LOCALS,
  type PairOrder,
  PortPlan,
  type Scenario,
  type SockConf,
  bindV6OnlyScenarios,
  connectionScenarios,
  deviceScenarios,
  pairConfs,
  pairScenario,
  quirkScenarios,
  randomScenarios,
  runModel,
  validityScenarios,
  verdict,
} from './scenarios.js';

/**
 * The kernel model against the running kernel: thousands of scenarios run once through test/kernel/oracle.py in a
 * throwaway network namespace (one `unshare -n` spawn), and once through SimulatedNamespace; every verdict must match.
 */

const ORACLE = join(dirname(fileURLToPath(import.meta.url)), 'oracle.py');
const RANDOM_SEED = 20240611;

function oracleUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root: `unshare -n` needs CAP_SYS_ADMIN';
  const probe = spawnSync('unshare', ['-n', 'python3', '-c', 'print(1)'], { encoding: 'utf8' });
  if (probe.error) return `cannot run unshare/python3: ${probe.error.message}`;
  if (probe.status !== 0) return `\`unshare -n python3\` failed: ${probe.stderr.trim()}`;
  return undefined;
}

const unavailable = oracleUnavailable();
if (unavailable) {
  if (process.env.CI) throw new Error(`kernel oracle cannot run under CI: ${unavailable}`);
  console.warn(`[kernel-oracle] SKIPPED: ${unavailable}`);
}

interface PairMeta {
  proto: 'tcp' | 'udp';
  order: PairOrder;
  a: SockConf;
  b: SockConf;
  port: number;
}

const ports = new PortPlan();
const scenarios: Scenario[] = [];
const pairMeta = new Map<number, PairMeta>();
const groups: Record<string, [number, number]> = {};

function addGroup(name: string, list: Scenario[]): void {
  const start = scenarios.length;
  scenarios.push(...list);
  groups[name] = [start, scenarios.length];
}

{
  const confs = pairConfs();
  const start = scenarios.length;
  for (const [proto, order] of [
    ['tcp', 'bind-bind-listenA-listenB'],
    ['tcp', 'bind-bind-listenB-listenA'],
    ['tcp', 'A-listens-then-B'],
    ['udp', 'udp'],
  ] as const) {
    for (const a of confs) {
      for (const b of confs) {
        const port = ports.reusable();
        pairMeta.set(scenarios.length, { proto, order, a, b, port });
        scenarios.push(pairScenario(proto, order, a, b, port));
      }
    }
  }
  groups['pairs (cartesian)'] = [start, scenarios.length];
  addGroup('validity, privilege, sysctls, error order', validityScenarios(ports));
  addGroup('bindv6only', bindV6OnlyScenarios(ports));
  addGroup('SO_BINDTODEVICE', deviceScenarios(ports));
  addGroup('ESTABLISHED and TIME_WAIT holders', connectionScenarios(ports));
  addGroup('fast-check sequences', randomScenarios(ports, 2000, RANDOM_SEED));
  addGroup('documented quirks (docs/kernel-model.md)', quirkScenarios(ports));
}

let kernel: string[][] = [];
let kernelRelease = '';

function compact(sc: Scenario): string {
  return sc.ops
    .map((o) => {
      switch (o.op) {
        case 'socket':
          return `s${o.s}=${o.proto}/${o.family}${o.reuseaddr ? '+RA' : ''}${o.reuseport ? '+RP' : ''}${o.v6only === null ? '' : o.v6only ? '+V6O' : '-V6O'}${o.device ? `@${o.device}` : ''}${o.freebind ? '+FB' : ''}${o.uid ? ` u${o.uid}` : ''}`;
        case 'bind':
          return `bind(s${o.s},${o.addr}:${o.port})`;
        case 'accept':
          return `accept(s${o.s}->s${o.child} via ${o.connect})`;
        default:
          return `${o.op}(s${o.s})`;
      }
    })
    .join('; ');
}

function mismatchTable(idx: number[], model: string[][]): string {
  const rows = idx.slice(0, 20).map((i) => {
    const sc = scenarios[i];
    if (!sc) return '';
    return `- ${sc.name}\n    ops:    ${compact(sc)}\n    kernel: ${(kernel[i] ?? []).join(' ')}\n    model:  ${(model[i] ?? []).join(' ')}`;
  });
  return `${idx.length} scenario(s) differ from the kernel (${kernelRelease}); first ${rows.length}:\n${rows.join('\n')}`;
}

const skipped = (r: string[] | undefined): boolean => !r || r.includes('NOACCEPT') || r.includes('NO_TIMEWAIT');

describe.skipIf(unavailable !== undefined)('kernel model vs the running kernel', () => {
  let model: string[][] = [];

  beforeAll(() => {
    const run = spawnSync('unshare', ['-n', 'python3', ORACLE, '--setup'], {
      input: JSON.stringify(scenarios.map(({ sysctl, ops }) => (sysctl ? { sysctl, ops } : { ops }))),
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    if (run.status !== 0) throw new Error(`oracle failed (${run.status}): ${run.stderr}`);
    const parsed = JSON.parse(run.stdout) as { env: { kernel: string }; results: string[][] };
    kernel = parsed.results;
    kernelRelease = parsed.env.kernel;
    model = scenarios.map((sc) => runModel(sc));
    console.info(`[kernel-oracle] ${scenarios.length} scenarios, ${scenarios.reduce((n, s) => n + s.ops.length, 0)} operations, kernel ${kernelRelease}`);
  }, 900_000);

  for (const name of Object.keys(groups)) {
    it(`matches every verdict: ${name}`, () => {
      const [from, to] = groups[name] ?? [0, 0];
      const diff: number[] = [];
      let compared = 0;
      for (let i = from; i < to; i++) {
        if (skipped(kernel[i])) continue;
        compared++;
        if (JSON.stringify(kernel[i]) !== JSON.stringify(model[i])) diff.push(i);
      }
      expect(compared).toBeGreaterThan((to - from) * 0.9);
      if (diff.length) expect.fail(mismatchTable(diff, model));
    });
  }

  it('reproduces the sendmail failure: bind 0.0.0.0:25 and 127.0.0.1:25 with SO_REUSEADDR, listen on the second fails', () => {
    const idx = [...pairMeta.entries()].find(
      ([, m]) => m.order === 'bind-bind-listenA-listenB' && m.a.addr === '0.0.0.0' && m.b.addr === '127.0.0.1' && m.a.reuseaddr && m.b.reuseaddr && !m.a.reuseport && !m.b.reuseport && m.a.uid === 0 && m.b.uid === 0,
    )?.[0];
    expect(idx).toBeDefined();
    expect(kernel[idx ?? 0]).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'EADDRINUSE']);
  });

  /**
   * adopt() with one unknown flag on the holder: the model must say 'unknown' exactly when the kernel gave
   * different verdicts for the two concrete values of that flag, and must match the kernel otherwise.
   */
  it('gives unknown verdicts exactly where the kernel verdict depends on the holder’s unseen flag', () => {
    const byKey = new Map<string, number>();
    const key = (m: PairMeta, a: SockConf): string => JSON.stringify([m.proto, m.order, a, m.b]);
    for (const [i, m] of pairMeta) byKey.set(key(m, m.a), i);
    const problems: string[] = [];
    let checked = 0;
    let unknowns = 0;
    for (const [i, m] of pairMeta) {
      if (m.order !== 'A-listens-then-B' && m.order !== 'udp') continue;
      const tail = m.order === 'udp' ? [3] : [4, 5];
      const holderOps = m.order === 'udp' ? [2] : [2, 3];
      for (const flag of ['reuseaddr', 'reuseport', 'v6only'] as const) {
        if (flag === 'v6only' && m.a.family !== 'inet6') continue;
        if (m.a[flag] === true) continue;
        const twin = byKey.get(key(m, { ...m.a, [flag]: true }));
        if (twin === undefined) continue;
        const k0 = kernel[i];
        const k1 = kernel[twin];
        if (!k0 || !k1 || holderOps.some((o) => k0[o] !== 'ok' || k1[o] !== 'ok')) continue;
        const ns = new SimulatedNamespace({ localAddresses: ORACLE_LOCALS });
        ns.adopt({
          proto: m.proto,
          family: m.a.family,
          address: m.a.addr,
          port: m.port,
          state: m.proto === 'tcp' ? 'listening' : 'bound',
          uid: m.a.uid,
          reuseAddr: flag === 'reuseaddr' ? 'unknown' : m.a.reuseaddr,
          reusePort: flag === 'reuseport' ? 'unknown' : m.a.reuseport,
          v6Only: flag === 'v6only' ? 'unknown' : m.a.v6only === true,
          label: 'holder',
        });
        const b = ns.socket({ proto: m.proto, family: m.b.family, reuseAddr: m.b.reuseaddr, reusePort: m.b.reuseport, ...(m.b.v6only === null ? {} : { v6Only: m.b.v6only }), uid: m.b.uid });
        const results: BindResult[] = [ns.bind(b, m.b.addr, m.port)];
        if (m.proto === 'tcp') results.push(ns.listen(b));
        checked++;
        tail.forEach((opIdx, n) => {
          const v0 = k0[opIdx];
          const v1 = k1[opIdx];
          const r = results[n];
          if (!r || v0 === undefined || v1 === undefined) return;
          const label = `${scenarios[i]?.name} [${flag} unknown, op ${opIdx}]`;
          if (v0 === v1) {
            if (verdict(r) !== v0) problems.push(`${label}: kernel ${v0} either way, model ${verdict(r)}`);
          } else {
            unknowns++;
            const bad = v0 === 'ok' ? v1 : v0;
            if (r.ok !== 'unknown' || r.errno !== bad) problems.push(`${label}: kernel ${v0}/${v1}, model ${verdict(r)}`);
            else if (r.ok === 'unknown' && !r.dependsOn.some((d) => d.startsWith('holder'))) problems.push(`${label}: dependsOn ${r.dependsOn.join(',')}`);
          }
        });
      }
    }
    console.info(`[kernel-oracle] unknown-flag check: ${checked} holder/flag cases, ${unknowns} kernel-dependent verdicts`);
    expect(checked).toBeGreaterThan(1000);
    expect(unknowns).toBeGreaterThan(100);
    if (problems.length) expect.fail(`${problems.length} problems, first 20:\n${problems.slice(0, 20).join('\n')}`);
  });
});

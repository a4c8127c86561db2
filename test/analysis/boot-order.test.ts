import { describe, expect, it } from 'vitest';
import { bootSet, orderingCycles, orderingEdges, orderingPath, pairOrder } from '../../src/analysis/boot-order.js';
import type { UnitDependency, UnitGraph, UnitNode } from '../../src/model/unit-graph.js';

/** A dependency written at `file:line` of the unit that has it. */
function dep(unit: string, file: string, line: number, key: string): UnitDependency {
  return { unit, source: { file, line }, text: `${key}=${unit}` };
}

interface Spec {
  after?: string[];
  before?: string[];
  wants?: string[];
  conflicts?: string[];
  aliases?: string[];
  state?: UnitNode['state'];
  type?: string;
  /** Dependencies systemd adds itself (socket → service). */
  implicitBefore?: string[];
}

/** A graph from a table: each unit's dependencies on line 1.. of /etc/systemd/system/<unit>. */
function graph(units: Record<string, Spec>, defaultTarget: string | null = 'multi-user.target'): UnitGraph {
  const out: UnitGraph = { units: [] };
  if (defaultTarget) out.defaultTarget = { id: defaultTarget, source: { file: '/lib/systemd/system/default.target', line: 0 } };
  for (const [id, s] of Object.entries(units)) {
    const file = `/etc/systemd/system/${id}`;
    let line = 1;
    const node: UnitNode = {
      id,
      aliases: s.aliases ?? [],
      state: s.state ?? 'loaded',
      fragment: { file, line: 0 },
      after: (s.after ?? []).map((u) => dep(u, file, line++, 'After')),
      before: [
        ...(s.before ?? []).map((u) => dep(u, file, line++, 'Before')),
        ...(s.implicitBefore ?? []).map((u) => ({ unit: u, source: { file, line: 0 }, text: `${id} activates ${u}`, implicit: true })),
      ],
      pulls: (s.wants ?? []).map((u) => dep(u, file, line++, 'Wants')),
      conflicts: (s.conflicts ?? []).map((u) => dep(u, file, line++, 'Conflicts')),
    };
    if (s.type !== undefined) node.serviceType = s.type;
    else if (id.endsWith('.service')) node.serviceType = 'forking';
    out.units.push(node);
  }
  return out;
}

const A = { daemon: 'alpha', units: ['a.service'] };
const B = { daemon: 'beta', units: ['b.service'] };
const bootBoth = { 'multi-user.target': { wants: ['a.service', 'b.service'] } };

describe('boot set', () => {
  it('is default.target and what it pulls in, transitively; masked and missing units get no start job', () => {
    const g = graph({
      'multi-user.target': { wants: ['a.service', 'm.service', 'gone.service'] },
      'a.service': { wants: ['helper.service'] },
      'helper.service': {},
      'm.service': { state: 'masked' },
      'idle.service': {},
    });
    expect([...(bootSet(g) ?? [])].sort()).toEqual(['a.service', 'helper.service', 'multi-user.target']);
  });

  it('is unknown without a default.target', () => {
    expect(bootSet(graph({ 'a.service': {} }, null))).toBeUndefined();
  });
});

describe('ordering closure', () => {
  it('After= and Before= are the same edge; the path is the shortest chain with each line', () => {
    const g = graph({ ...bootBoth, 'a.service': { before: ['b.service'] }, 'b.service': {} });
    expect(orderingPath(orderingEdges(g), 'a.service', 'b.service')).toEqual([
      { before: 'a.service', after: 'b.service', source: { file: '/etc/systemd/system/a.service', line: 1 }, text: 'Before=b.service' },
    ]);
    const h = graph({ ...bootBoth, 'a.service': {}, 'b.service': { after: ['a.service'] } });
    expect(orderingPath(orderingEdges(h), 'a.service', 'b.service')?.map((s) => s.text)).toEqual(['After=a.service']);
    expect(orderingPath(orderingEdges(h), 'b.service', 'a.service')).toBeUndefined();
  });

  it('is transitive through targets: A Before=network.target, network-online.target After=network.target, B After=network-online.target', () => {
    const g = graph({
      'multi-user.target': { wants: ['a.service', 'b.service', 'network.target', 'network-online.target'] },
      'a.service': { before: ['network.target'] },
      'network.target': {},
      'network-online.target': { after: ['network.target'] },
      'b.service': { after: ['network-online.target'] },
    });
    const o = pairOrder(g, A, B);
    expect(o.verdict).toBe('ordered');
    expect(o.first).toBe('a');
    expect(o.path?.map((s) => `${s.before} → ${s.after} (${s.text} at ${s.source.file}:${s.source.line})`)).toEqual([
      'a.service → network.target (Before=network.target at /etc/systemd/system/a.service:1)',
      'network.target → network-online.target (After=network.target at /etc/systemd/system/network-online.target:1)',
      'network-online.target → b.service (After=network-online.target at /etc/systemd/system/b.service:1)',
    ]);
  });

  it('a unit the boot does not start orders nothing (no start job to wait for)', () => {
    const units = {
      'a.service': { before: ['network.target'] },
      'network.target': {},
      'b.service': { after: ['network.target'] },
    };
    expect(pairOrder(graph({ 'multi-user.target': { wants: ['a.service', 'b.service'] }, ...units }), A, B).verdict).toBe('unordered');
    expect(pairOrder(graph({ 'multi-user.target': { wants: ['a.service', 'b.service', 'network.target'] }, ...units }), A, B).verdict).toBe('ordered');
  });

  it('a dependency on an alias name reaches the unit itself', () => {
    const g = graph({ ...bootBoth, 'a.service': { aliases: ['alias-of-a.service'] }, 'b.service': { after: ['alias-of-a.service'] } });
    const o = pairOrder(g, A, B);
    expect(o.verdict).toBe('ordered');
    expect(o.path?.[0]).toMatchObject({ before: 'a.service', after: 'b.service', text: 'After=alias-of-a.service' });
    // The daemon's unit may be named by its alias too.
    expect(pairOrder(g, { daemon: 'alpha', units: ['alias-of-a.service'] }, B).a.unit).toBe('a.service');
  });

  it('cycles terminate and are reported: both chains for the pair, the component from orderingCycles', () => {
    const g = graph({
      ...bootBoth,
      'a.service': { after: ['x.target'] },
      'x.target': { after: ['b.service'] },
      'b.service': { after: ['a.service'] },
    });
    g.units[0]?.pulls.push(dep('x.target', '/etc/systemd/system/multi-user.target', 9, 'Wants'));
    const o = pairOrder(g, A, B);
    expect(o.verdict).toBe('cycle');
    expect(o.path?.map((s) => s.text)).toEqual(['After=a.service']);
    expect(o.reversePath?.map((s) => s.text)).toEqual(['After=b.service', 'After=x.target']);
    expect(orderingCycles(orderingEdges(g))).toEqual([['a.service', 'b.service', 'x.target']]);
  });

  it('orderingCycles finds none in a chain and handles a long one without recursion', () => {
    const units: Record<string, Spec> = {};
    for (let i = 0; i < 10000; i++) units[`u${i}.service`] = { after: i > 0 ? [`u${i - 1}.service`] : [] };
    const edges = orderingEdges(graph(units, null));
    expect(orderingCycles(edges)).toEqual([]);
    expect(orderingPath(edges, 'u0.service', 'u9999.service')).toHaveLength(9999);
  });

  it('Conflicts= in either direction: systemd never runs both', () => {
    const o = pairOrder(graph({ ...bootBoth, 'a.service': {}, 'b.service': { conflicts: ['a.service'] } }), A, B);
    expect(o.verdict).toBe('conflicts');
    expect(o.conflict).toMatchObject({ before: 'b.service', after: 'a.service', text: 'Conflicts=a.service' });
  });
});

describe('pairOrder: starting at boot', () => {
  it('unordered when nothing orders them', () => {
    const o = pairOrder(graph({ ...bootBoth, 'a.service': {}, 'b.service': {} }), A, B);
    expect(o.verdict).toBe('unordered');
    expect(o.a).toMatchObject({ unit: 'a.service', atBoot: true, why: 'a.service starts at boot (Wants=a.service in multi-user.target)' });
  });

  it('masked or not wanted by anything the boot starts: not-at-boot, with why', () => {
    const masked = pairOrder(graph({ ...bootBoth, 'a.service': {}, 'b.service': { state: 'masked' } }), A, B);
    expect(masked.verdict).toBe('not-at-boot');
    expect(masked.b).toMatchObject({ atBoot: false, why: 'b.service is masked (/etc/systemd/system/b.service): systemd does not start it' });
    const disabled = pairOrder(graph({ 'multi-user.target': { wants: ['a.service'] }, 'a.service': {}, 'b.service': {} }), A, B);
    expect(disabled.verdict).toBe('not-at-boot');
    expect(disabled.b.why).toMatch(/not wanted by any unit the boot starts \(disabled\)/);
  });

  it('a socket-activated service: not started at boot itself, its .socket is named', () => {
    const g = graph({
      'multi-user.target': { wants: ['a.service', 'sockets.target'] },
      'sockets.target': { wants: ['b.socket'] },
      'b.socket': { implicitBefore: ['b.service'] },
      'a.service': {},
      'b.service': {},
    });
    const o = pairOrder(g, A, B);
    expect(o.b).toMatchObject({ atBoot: false, activatedBy: 'b.socket', why: 'b.service is not started at boot but on the first connection to b.socket' });
    // A daemon whose unit is the socket itself (a systemd-socket plan) starts at boot.
    expect(pairOrder(g, A, { daemon: 'systemd', units: ['b.socket'] }).b).toMatchObject({ unit: 'b.socket', atBoot: true });
  });

  it('the first unit being Type=simple makes the order a race', () => {
    const g = graph({ ...bootBoth, 'a.service': { type: 'simple' }, 'b.service': { after: ['a.service'] } });
    expect(pairOrder(g, A, B).racy).toBe('a.service is Type=simple: its start job is over once its process runs, not once it has bound, so b.service may bind first');
    const n = graph({ ...bootBoth, 'a.service': { type: 'notify' }, 'b.service': { after: ['a.service'] } });
    expect(pairOrder(n, A, B).racy).toBeUndefined();
  });

  it('no graph, or neither daemon has a unit: no-units; one without a unit: unordered', () => {
    expect(pairOrder(undefined, A, B).verdict).toBe('no-units');
    const g = graph({ ...bootBoth, 'a.service': {} });
    expect(pairOrder(g, { daemon: 'x', units: ['x.service'] }, { daemon: 'y', units: [] }).verdict).toBe('no-units');
    const o = pairOrder(g, A, B);
    expect(o.verdict).toBe('unordered');
    expect(o.b.why).toBe('no systemd unit for beta in the root (looked for b.service)');
  });
});

/**
 * readUnitGraph on roots with Debian 12's own unit files (test/fixtures/boot-order/base): what each unit pulls in
 * and is ordered against, with systemd's default dependencies, drop-ins, aliases and masks.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../src/fs/root-fs.js';
import type { UnitDependency, UnitGraph, UnitNode } from '../../src/model/unit-graph.js';
import { readUnitGraph } from '../../src/readers/systemd/unit-deps.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'boot-order');
const tmp = mkdtempSync(join(tmpdir(), 'unit-deps-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function root(name: string, overlay?: string, files: Record<string, string> = {}, links: Record<string, string> = {}): string {
  const r = join(tmp, name);
  cpSync(join(FIXTURES, 'base'), r, { recursive: true, verbatimSymlinks: true });
  if (overlay) cpSync(join(FIXTURES, overlay), r, { recursive: true, verbatimSymlinks: true });
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(r, p)), { recursive: true });
    writeFileSync(join(r, p), text);
  }
  for (const [p, target] of Object.entries(links)) {
    mkdirSync(dirname(join(r, p)), { recursive: true });
    symlinkSync(target, join(r, p));
  }
  return r;
}

function unit(g: UnitGraph, id: string): UnitNode {
  const u = g.units.find((x) => x.id === id);
  if (!u) throw new Error(`${id} not in graph: ${g.units.map((x) => x.id).join(' ')}`);
  return u;
}

const show = (ds: UnitDependency[]): string[] => ds.map((d) => `${d.unit} ${d.source.file}:${d.source.line}${d.implicit ? ' (implicit)' : ''}`);

describe('readUnitGraph', () => {
  const base = readUnitGraph(new RootFs(root('base')), ['nginx.service', 'apache2.service']);

  it('resolves default.target through its link', () => {
    expect(base.defaultTarget).toEqual({ id: 'graphical.target', source: { file: '/lib/systemd/system/default.target', line: 0 } });
  });

  it("reads nginx.service's own After=/Wants= lines and adds DefaultDependencies=yes (service_add_default_dependencies)", () => {
    const n = unit(base, 'nginx.service');
    expect(n.serviceType).toBe('forking');
    expect(show(n.after)).toEqual([
      'network-online.target /lib/systemd/system/nginx.service:16',
      'remote-fs.target /lib/systemd/system/nginx.service:16',
      'nss-lookup.target /lib/systemd/system/nginx.service:16',
      'sysinit.target /lib/systemd/system/nginx.service:0 (implicit)',
      'basic.target /lib/systemd/system/nginx.service:0 (implicit)',
    ]);
    expect(show(n.pulls)).toEqual(['network-online.target /lib/systemd/system/nginx.service:17', 'sysinit.target /lib/systemd/system/nginx.service:0 (implicit)']);
    expect(show(n.before)).toEqual(['shutdown.target /lib/systemd/system/nginx.service:0 (implicit)']);
  });

  it('a .wants/ symlink pulls the unit in, and the target orders itself after it (target_add_default_dependencies)', () => {
    const t = unit(base, 'multi-user.target');
    expect(show(t.pulls)).toContain('nginx.service /etc/systemd/system/multi-user.target.wants/nginx.service:0 (implicit)');
    expect(t.after.find((d) => d.unit === 'nginx.service')).toMatchObject({ implicit: true, source: { file: '/etc/systemd/system/multi-user.target.wants/nginx.service', line: 0 } });
    // basic.target is pulled by Requires= in multi-user.target and is already in its After=: no second edge.
    expect(t.after.filter((d) => d.unit === 'basic.target')).toHaveLength(1);
  });

  it('an empty After= in a drop-in resets the packaged list; later lines add to it', () => {
    const g = readUnitGraph(new RootFs(root('via-targets', 'via-targets')), ['apache2.service']);
    const a = unit(g, 'apache2.service');
    expect(show(a.after)).toEqual([
      'remote-fs.target /etc/systemd/system/apache2.service.d/early.conf:4',
      'sysinit.target /lib/systemd/system/apache2.service:0 (implicit)',
      'basic.target /lib/systemd/system/apache2.service:0 (implicit)',
    ]);
    expect(show(a.before)).toContain('network.target /etc/systemd/system/apache2.service.d/early.conf:5');
  });

  it('aliases resolve to the unit, masks are recorded', () => {
    const g = readUnitGraph(new RootFs(root('masked', 'masked')), ['sshd.service', 'apache2.service']);
    expect(unit(g, 'ssh.service').aliases).toEqual(['sshd.service']);
    expect(g.units.some((u) => u.id === 'sshd.service')).toBe(false);
    expect(unit(g, 'apache2.service')).toMatchObject({ state: 'masked', fragment: { file: '/etc/systemd/system/apache2.service' } });
    // The wants/ link still names it; the graph keeps the edge, the boot set leaves it out (no start job).
    expect(show(unit(g, 'multi-user.target').pulls)).toContain('apache2.service /etc/systemd/system/multi-user.target.wants/apache2.service:0 (implicit)');
  });

  it('a dependency naming an alias is resolved to the unit id', () => {
    const g = readUnitGraph(new RootFs(root('alias', 'alias')), ['nginx.service']);
    expect(show(unit(g, 'nginx.service').after)).toContain('apache2.service /etc/systemd/system/nginx.service.d/after-httpd.conf:3');
  });

  it('a socket is ordered before the service it activates (Service= or the same name); Accept=yes sockets are not; DefaultDependencies=no adds nothing', () => {
    const r = root('sockets', undefined, {
      'lib/systemd/system/foo.socket': '[Socket]\nListenStream=8080\n',
      'lib/systemd/system/bar.socket': '[Socket]\nListenStream=8081\nService=baz.service\n',
      'lib/systemd/system/each.socket': '[Socket]\nListenStream=8082\nAccept=yes\n',
      'lib/systemd/system/early.service': '[Unit]\nDefaultDependencies=no\n[Service]\nType=notify\nExecStart=/bin/true\n',
    }, { 'etc/systemd/system/sockets.target.wants/foo.socket': '/lib/systemd/system/foo.socket' });
    const g = readUnitGraph(new RootFs(r), ['foo.socket', 'bar.socket', 'each.socket', 'early.service']);
    expect(show(unit(g, 'foo.socket').before)).toEqual(['sockets.target /lib/systemd/system/foo.socket:0 (implicit)', 'shutdown.target /lib/systemd/system/foo.socket:0 (implicit)', 'foo.service /lib/systemd/system/foo.socket:0 (implicit)']);
    expect(unit(g, 'bar.socket').before.map((d) => d.unit)).toContain('baz.service');
    expect(unit(g, 'each.socket').before.map((d) => d.unit)).toEqual(['sockets.target', 'shutdown.target']);
    const early = unit(g, 'early.service');
    expect([early.after, early.before, early.pulls]).toEqual([[], [], []]);
    expect(early.serviceType).toBe('notify');
  });

  it('a root without systemd units: no default.target, the asked-for units not found', () => {
    const r = join(tmp, 'empty');
    mkdirSync(join(r, 'etc'), { recursive: true });
    const g = readUnitGraph(new RootFs(r), ['nginx.service']);
    expect(g.defaultTarget).toBeUndefined();
    expect(g.units).toEqual([{ id: 'nginx.service', aliases: [], state: 'not-found', after: [], before: [], pulls: [], conflicts: [] }]);
  });
});

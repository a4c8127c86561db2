/**
 * BC103 on appliance roots with Debian's own unit files (nginx.service, apache2.service and the targets, copied
 * from Debian 12) and nginx + Apache both on port 80: which one systemd starts first, from After=/Before= (drop-ins,
 * aliases, targets), and who loses. Each scenario is test/fixtures/boot-order/base with the scenario's files laid
 * over it.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanInventory, type ExtraLiveSocket } from '../../src/run.js';
import type { Finding } from '../../src/model/finding.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'boot-order');
const tmp = mkdtempSync(join(tmpdir(), 'bc103-boot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The base root with a scenario's files over it (a name without a fixture directory is the base alone). */
function root(scenario: string, remove: string[] = [], name = scenario): string {
  const r = join(tmp, name);
  cpSync(join(FIXTURES, 'base'), r, { recursive: true, verbatimSymlinks: true });
  const overlay = join(FIXTURES, scenario);
  if (scenario !== 'base' && existsSync(overlay)) cpSync(overlay, r, { recursive: true, verbatimSymlinks: true });
  for (const p of remove) rmSync(join(r, p));
  return r;
}

function bc103(r: string, extraLiveSockets: ExtraLiveSocket[] = []): Finding[] {
  return scanInventory({ root: r, live: false, extraLiveSockets }).findings.filter((f) => f.code === 'BC103');
}

function labels(f: Finding | undefined): string[] {
  return (f?.evidence ?? []).map((e) => `${e.location.file}:${e.location.line} ${e.label}`);
}

describe('BC103 with systemd boot order', () => {
  it('nothing orders the Debian units: both outcomes, each daemon failing when second', () => {
    const found = bc103(root('base'));
    expect(found).toHaveLength(1);
    const f = found[0] as Finding;
    expect(f.severity).toBe('error');
    expect(f.message).toMatch(/nothing orders nginx\.service and apache2\.service at boot/);
    expect(f.message).toMatch(/apache fails if it starts after nginx \(bind\(\) → EADDRINUSE\)/);
    expect(f.message).toMatch(/nginx fails if it starts after apache \(bind\(\) → EADDRINUSE\)/);
    expect(labels(f)).toContain('/etc/systemd/system/multi-user.target.wants/nginx.service:0 nginx.service starts at boot (Wants= by symlink /etc/systemd/system/multi-user.target.wants/nginx.service in multi-user.target)');
  });

  it('After= in a drop-in: apache2 starts first, nginx loses, the drop-in line is the evidence', () => {
    const f = bc103(root('after-dropin'))[0];
    expect(f?.severity).toBe('error');
    expect(f?.daemon).toBe('nginx');
    expect(f?.location).toMatchObject({ file: '/etc/nginx/nginx.conf', line: 9 });
    expect(f?.message).toContain('systemd starts apache2.service first (After=apache2.service at /etc/systemd/system/nginx.service.d/after-apache.conf:3:1), so at boot nginx fails if it starts after apache (bind() → EADDRINUSE)');
    // Both orders fail here: a restart of apache while nginx runs loses too.
    expect(f?.message).toContain('; apache fails in turn if restarted while nginx runs (bind() → EADDRINUSE)');
    expect(labels(f)).toContain('/etc/systemd/system/nginx.service.d/after-apache.conf:3 After=apache2.service: apache2.service starts before nginx.service');
  });

  it('transitively through targets: apache2 Before=network.target (pulled in), nginx After=network-online.target', () => {
    const f = bc103(root('via-targets'))[0];
    expect(f?.daemon).toBe('nginx');
    expect(f?.message).toMatch(/systemd starts apache2\.service first \(Before=network\.target at \/etc\/systemd\/system\/apache2\.service\.d\/early\.conf:5:1, then After=network\.target at \/lib\/systemd\/system\/network-online\.target:\d+:1, then After=network-online\.target remote-fs\.target nss-lookup\.target at \/lib\/systemd\/system\/nginx\.service:\d+:1\)/);
  });

  it('the same Before=network.target orders nothing when no unit pulls network.target in (it gets no start job)', () => {
    const f = bc103(root('via-targets-unpulled'))[0];
    expect(f?.message).toMatch(/nothing orders nginx\.service and apache2\.service at boot/);
  });

  it('an After= naming an alias (httpd.service → apache2.service) orders against the unit itself', () => {
    const f = bc103(root('alias'))[0];
    expect(f?.daemon).toBe('nginx');
    expect(f?.message).toContain('systemd starts apache2.service first (After=httpd.service at /etc/systemd/system/nginx.service.d/after-httpd.conf:3:1)');
  });

  it('an ordering cycle does not hang and is reported with both chains', () => {
    const f = bc103(root('cycle'))[0];
    expect(f?.message).toMatch(/nginx\.service and apache2\.service are in an ordering cycle/);
    expect(f?.message).toMatch(/whichever of the two starts second fails/);
    const cyc = labels(f).filter((l) => l.includes('ordering cycle'));
    expect(cyc).toEqual([
      '/etc/systemd/system/apache2.service.d/order.conf:2 ordering cycle: After=nginx.service: nginx.service starts before apache2.service',
      '/etc/systemd/system/nginx.service.d/order.conf:2 ordering cycle: After=apache2.service: apache2.service starts before nginx.service',
    ]);
  });

  it('a masked unit does not start at boot: a warning, the pair collides only when started by hand', () => {
    const f = bc103(root('masked'))[0];
    expect(f?.severity).toBe('warning');
    expect(f?.daemon).toBe('apache');
    expect(f?.message).toContain('apache2.service is masked (/etc/systemd/system/apache2.service): systemd does not start it; they collide only when started by hand: if it is started while nginx runs, apache fails (bind() → EADDRINUSE)');
  });

  it('a disabled unit (no .wants/ link) does not start at boot either', () => {
    const f = bc103(root('base', ['etc/systemd/system/multi-user.target.wants/apache2.service'], 'disabled'))[0];
    expect(f?.severity).toBe('warning');
    expect(f?.message).toContain('apache2.service is not wanted by any unit the boot starts (disabled)');
  });

  it('Type=exec ends the start job before the bind: the After= order is a race, both outcomes', () => {
    const f = bc103(root('racy'))[0];
    expect(f?.severity).toBe('error');
    expect(f?.message).toMatch(/systemd starts apache2\.service before nginx\.service \(.*\), but apache2\.service is Type=exec: its start job is over once its process runs, not once it has bound/);
    expect(f?.message).toMatch(/whichever of the two starts second fails/);
  });

  it('on a live host: the daemon holding the port now is named, the other is the one failing', () => {
    const held: ExtraLiveSocket = { proto: 'tcp', family: 'inet6', address: '::', port: 80, state: 'LISTEN', reuseAddr: true, owner: { pid: 4242, comm: 'apache2', unit: 'apache2.service' } };
    const f = bc103(root('base', [], 'live'), [held])[0];
    expect(f?.daemon).toBe('nginx');
    expect(f?.message).toContain('apache holds tcp/[::]:80 now (pid 4242 apache2, apache2.service), nginx is the one failing');
    expect(labels(f)).toContain('(given by caller):1 apache holds tcp/[::]:80 now (pid 4242 apache2, apache2.service)');

    const heldByNginx: ExtraLiveSocket = { proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, state: 'LISTEN', reuseAddr: true, owner: { pid: 99, comm: 'nginx', unit: 'nginx.service' } };
    const g = bc103(root('base', [], 'live2'), [heldByNginx])[0];
    expect(g?.daemon).toBe('apache');
    expect(g?.message).toContain('nginx holds tcp/0.0.0.0:80 now (pid 99 nginx, nginx.service), apache is the one failing');
  });

  it('the boot order\'s loser keeps running without a socket (sshd keeps [::]:80 after nginx): a warning naming what it lost', () => {
    const r = root('sshd-after-nginx', ['etc/apache2/apache2.conf', 'etc/apache2/ports.conf']);
    const found = bc103(r);
    expect(found).toHaveLength(1);
    const f = found[0] as Finding;
    expect(f.severity).toBe('warning');
    expect(f.daemon).toBe('sshd');
    expect(f.message).toBe(
      'sshd and nginx both want tcp/0.0.0.0:80: systemd starts nginx.service first (After=nginx.service at /etc/systemd/system/ssh.service.d/order.conf:2:1), so at boot sshd runs without tcp/0.0.0.0:80 if it starts after nginx (bind() → EADDRINUSE); nginx fails in turn if restarted while sshd runs (bind() → EADDRINUSE)',
    );
  });

  it('stays quiet when the two use different ports, whatever the order', () => {
    const r = root('after-dropin', [], 'other-port');
    expect(bc103(r)).toHaveLength(1);
    writeFileSync(join(r, 'etc', 'apache2', 'ports.conf'), 'Listen 8080\n');
    expect(bc103(r)).toEqual([]);
  });
});

describe("BC103 with Debian's own DNS units", () => {
  it('systemd-resolved is ordered Before=network.target and dnsmasq After=network.target: at boot dnsmasq loses port 53', () => {
    const found = bc103(root('dns-debian')).filter((f) => f.daemon === 'dnsmasq' || f.daemon === 'systemd-resolved');
    expect(found).toHaveLength(1);
    const f = found[0] as Finding;
    expect(f.daemon).toBe('dnsmasq');
    expect(f.severity).toBe('error');
    expect(f.message).toMatch(/^dnsmasq and systemd-resolved both want (tcp|udp)\/.*:53: systemd starts systemd-resolved\.service first \(.*network\.target.*\), so at boot dnsmasq fails if it starts after systemd-resolved/);
    expect(f.message).toMatch(/systemd-resolved runs without .*127\.0\.0\.53:53.* in turn if restarted while dnsmasq runs/);
    const cited = labels(f).join('\n');
    expect(cited).toContain('/lib/systemd/system/systemd-resolved.service');
    expect(cited).toContain('/lib/systemd/system/dnsmasq.service');
  });
});

describe('BC103 with a socket unit (the socket-units reader, systemd-socket)', () => {
  it("Debian's ssh.socket (Accept=no) enabled next to ssh.service: systemd hands port 22 to sshd, no pair conflict", async () => {
    const { socketUnitsReader } = await import('../../src/readers/socket-units/index.js');
    const { sshdReader } = await import('../../src/readers/sshd/index.js');
    const r = scanInventory({ root: root('ssh-socket'), live: false, readers: [sshdReader, socketUnitsReader] });
    // Debian's sshd takes the socket unit's sockets (LISTEN_FDS) and binds nothing itself: measured in
    // test/integration/sshd-socket-activation.test.ts. So the two never compete for port 22.
    expect(r.findings.filter((f) => f.code === 'BC103')).toEqual([]);
    expect(r.inventory.daemons.find((d) => d.daemon === 'sshd')?.inheritsSockets?.from).toBe('ssh.socket');
  });
});

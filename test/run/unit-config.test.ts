import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanInventory } from '../../src/run.js';

function root(files: Record<string, string>): string {
  const r = mkdtempSync(join(tmpdir(), 'bc-unitcfg-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(r, p)), { recursive: true });
    writeFileSync(join(r, p), text);
  }
  return r;
}

describe('the daemon reads the config its unit names', () => {
  it('follows sendmail -C from ExecStart, with EnvironmentFile variables expanded', () => {
    const r = root({
      '/etc/systemd/system/sendmail.service': '[Service]\nEnvironmentFile=-/etc/sysconfig/sendmail\nExecStart=/usr/sbin/sendmail -bd $SENDMAIL_OPTS\n',
      '/etc/sysconfig/sendmail': 'SENDMAIL_OPTS="-C /etc/mail/appliance.cf -q1h"\n',
      '/etc/mail/sendmail.cf': 'O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA\n',
      '/etc/mail/appliance.cf': 'O DaemonPortOptions=Name=MTA\nO DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA\n',
    });
    const s = scanInventory({ root: r, live: false });
    expect(s.inventory.daemons.map((d) => d.config)).toEqual(['/etc/mail/appliance.cf']);
    expect(s.inventory.units[0]).toMatchObject({ unit: 'sendmail.service', configPath: '/etc/mail/appliance.cf' });
    expect(s.findings.map((f) => `${f.code} ${f.location.file}:${f.location.line}`)).toEqual(['BC101 /etc/mail/appliance.cf:1']);
  });

  it('uses the distribution default when the unit names no config', () => {
    const r = root({
      '/lib/systemd/system/sendmail.service': '[Service]\nExecStart=/usr/sbin/sendmail -bd -q1h\n',
      '/etc/mail/sendmail.cf': 'O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA\n',
    });
    const s = scanInventory({ root: r, live: false });
    expect(s.inventory.daemons.map((d) => d.config)).toEqual(['/etc/mail/sendmail.cf']);
    expect(s.findings).toEqual([]);
  });
});

describe('the distribution decides where a config is looked for', () => {
  it("Red Hat's /etc/exim/exim.conf is read when Debian's paths are absent; the report names the distribution", () => {
    const r = root({
      '/etc/os-release': 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\nPRETTY_NAME="Fedora Linux 40"\n',
      '/etc/exim/exim.conf': 'local_interfaces = <; 127.0.0.1 ; 192.0.2.99\ndaemon_smtp_ports = 25\nbegin routers\n',
    });
    const s = scanInventory({ root: r, live: false });
    expect(s.inventory.distro).toMatchObject({ id: 'fedora', family: 'rhel' });
    const exim = s.inventory.daemons.find((d) => d.daemon === 'exim');
    expect(exim?.config).toBe('/etc/exim/exim.conf');
    expect(exim?.sockets.map((x) => `${x.address}:${x.port}`)).toEqual(['127.0.0.1:25', '192.0.2.99:25']);
    expect(s.findings.map((f) => f.code)).toContain('BC202');
  });
});

describe('what the daemon does after a failure depends on the error', () => {
  it('sendmail retries EADDRINUSE but exits at once on EACCES (unit without CAP_NET_BIND_SERVICE)', () => {
    const r = root({
      '/etc/systemd/system/sendmail.service': '[Service]\nExecStart=/usr/sbin/sendmail -bd\nCapabilityBoundingSet=~CAP_NET_BIND_SERVICE\n',
      '/etc/mail/sendmail.cf': 'O DaemonPortOptions=Port=25,Addr=127.0.0.1, Name=MTA\n',
    });
    const s = scanInventory({ root: r, live: false });
    const f = s.findings.find((x) => x.code === 'BC203');
    expect(f?.evidence.at(-1)?.label).toMatch(/does not retry EACCES and exits with status 71/);
    expect(f?.evidence.some((e) => /CapabilityBoundingSet/.test(e.label))).toBe(true);
    const seed = scanInventory({ root: join(import.meta.dirname, '..', '..', 'examples', 'seed-appliance'), live: false });
    expect(seed.findings.find((x) => x.code === 'BC101')?.evidence.at(-1)?.label).toMatch(/retries 10 times every 5 s, then exits with status 71/);
  });
});

import { describe, expect, it } from 'vitest';
import { daemonArgs, daemonForExecutable } from '../../../src/readers/systemd/index.js';

const cfg = (argv: string[]) => daemonArgs(argv)?.config.map((c) => c.path);

describe('sendmail', () => {
  it('the seed command line: daemon mode, default .cf', () => {
    const a = daemonArgs(['/usr/sbin/sendmail', '-bd', '-q', '1h']);
    expect(a?.daemonMode).toBe(true);
    expect(a?.config).toEqual([{ path: '/etc/mail/sendmail.cf', kind: 'file' }]);
    expect(a?.notes).toEqual([]);
  });
  it('-C FILE and -CFILE', () => {
    expect(cfg(['sendmail', '-bd', '-C', '/etc/mail/test.cf'])).toEqual(['/etc/mail/test.cf']);
    expect(daemonArgs(['sendmail', '-C/etc/mail/t.cf', '-bd'])?.config[0]).toEqual({ path: '/etc/mail/t.cf', kind: 'file', argIndex: 1 });
  });
  it('a bare -C means sendmail.cf in the working directory; a bare -q means -q0', () => {
    const a = daemonArgs(['sendmail', '-bd', '-C', '-q']);
    expect(a?.config[0]?.path).toBe('sendmail.cf');
    expect(a?.notes.join('\n')).toMatch(/-q0/);
    expect(a?.notes.join('\n')).toMatch(/relative/);
  });
  it('-O DaemonPortOptions=… and -oO… are returned as overrides', () => {
    const a = daemonArgs(['sendmail', '-bd', '-O', 'DaemonPortOptions=Port=2525,Addr=127.0.0.1,Name=MTA', '-oOPort=587,Name=MSA']);
    expect(a?.overrides).toEqual([
      { option: 'DaemonPortOptions', value: 'Port=2525,Addr=127.0.0.1,Name=MTA', argIndex: 3 },
      { option: 'DaemonPortOptions', value: 'Port=587,Name=MSA', argIndex: 4 },
    ]);
    expect(a?.notes.join('\n')).toMatch(/sticky/);
  });
  it('-bm is not daemon mode; Debian and alternatives names map to sendmail', () => {
    expect(daemonArgs(['/usr/sbin/sendmail-mta', '-bm'])?.daemonMode).toBe(false);
    expect(daemonForExecutable('/usr/sbin/sendmail.sendmail')).toBe('sendmail');
    expect(daemonForExecutable('/usr/bin/unknownd')).toBeUndefined();
    expect(daemonArgs(['/usr/bin/unknownd'])).toBeUndefined();
  });
});

describe('nginx', () => {
  it('-c, -g, -p', () => {
    const a = daemonArgs(['/usr/sbin/nginx', '-c', 'conf/nginx.conf', '-p', '/srv/nginx/', '-g', 'daemon off; master_process on;']);
    expect(a?.config[0]?.path).toBe('/srv/nginx/conf/nginx.conf');
    expect(a?.overrides).toEqual([{ option: 'global directives', value: 'daemon off; master_process on;', argIndex: 6 }]);
    expect(cfg(['nginx', '-c/etc/nginx/alt.conf'])).toEqual(['/etc/nginx/alt.conf']);
    expect(cfg(['nginx'])).toEqual(['/etc/nginx/nginx.conf']);
    expect(daemonArgs(['nginx', '-t'])?.daemonMode).toBe(false);
  });
});

describe('sshd', () => {
  it('-f, -p (repeated), -o Option=val and Option val', () => {
    const a = daemonArgs(['/usr/sbin/sshd', '-D', '-f', '/etc/ssh/alt_config', '-p', '2222', '-p2223', '-o', 'ListenAddress=127.0.0.1', '-o', 'AddressFamily inet']);
    expect(a?.config[0]?.path).toBe('/etc/ssh/alt_config');
    expect(a?.overrides.map((o) => `${o.option}=${o.value}`)).toEqual(['Port=2222', 'Port=2223', 'ListenAddress=127.0.0.1', 'AddressFamily=inet']);
    expect(a?.notes.join('\n')).toMatch(/replace the config's Port/);
    expect(cfg(['sshd', '-D'])).toEqual(['/etc/ssh/sshd_config']);
  });
});

describe('dnsmasq', () => {
  it('-C FILE, --conf-file=FILE, --conf-dir, --port', () => {
    expect(cfg(['dnsmasq', '-k', '-C', '/etc/dnsmasq.alt'])).toEqual(['/etc/dnsmasq.alt']);
    expect(cfg(['dnsmasq', '--conf-file=/etc/a.conf', '--conf-file=/etc/b.conf'])).toEqual(['/etc/a.conf', '/etc/b.conf']);
    const a = daemonArgs(['dnsmasq', '--conf-dir=/etc/dnsmasq.d,.dpkg-dist', '--port', '5353', '-a', '127.0.0.1', '--bind-interfaces']);
    expect(a?.config).toEqual([
      { path: '/etc/dnsmasq.conf', kind: 'file' },
      { path: '/etc/dnsmasq.d', kind: 'dir', argIndex: 1 },
    ]);
    expect(a?.overrides.map((o) => `${o.option}=${o.value}`)).toEqual(['port=5353', 'listen-address=127.0.0.1', 'bind-interfaces=']);
  });
});

describe('haproxy', () => {
  it('-f repeated, -- then files, -sf pids', () => {
    expect(cfg(['/usr/sbin/haproxy', '-Ws', '-f', '/etc/haproxy/haproxy.cfg', '-f', '/etc/haproxy/conf.d', '-p', '/run/haproxy.pid', '-sf', '12', '13'])).toEqual([
      '/etc/haproxy/haproxy.cfg',
      '/etc/haproxy/conf.d',
    ]);
    expect(cfg(['haproxy', '-D', '--', 'a.cfg', 'b.cfg'])).toEqual(['a.cfg', 'b.cfg']);
    expect(daemonArgs(['haproxy'])?.notes.join('')).toMatch(/refuses/);
    expect(daemonArgs(['haproxy', '-f'])?.problems).toEqual(['-f needs a value']);
  });
});

describe('postfix, exim, dovecot', () => {
  it('postfix -c DIR', () => {
    expect(cfg(['/usr/sbin/postfix', '-c', '/etc/postfix-out', 'start'])).toEqual(['/etc/postfix-out/main.cf', '/etc/postfix-out/master.cf']);
    expect(daemonArgs(['/usr/sbin/postfix', 'start'])?.daemonMode).toBe(true);
    expect(cfg(['/usr/libexec/postfix/master', '-w'])).toEqual(['/etc/postfix/main.cf', '/etc/postfix/master.cf']);
  });
  it('exim -C list, -bd, -oX', () => {
    const a = daemonArgs(['/usr/sbin/exim4', '-bd', '-q30m', '-C', '/etc/exim4/a.conf:/etc/exim4/b.conf', '-oX', '25,587']);
    expect(a?.daemonMode).toBe(true);
    expect(a?.config.map((c) => c.path)).toEqual(['/etc/exim4/a.conf', '/etc/exim4/b.conf']);
    expect(a?.overrides).toEqual([{ option: 'daemon_smtp_ports', value: '25,587', argIndex: 6 }]);
    expect(daemonArgs(['exim', '-bd', '-oX127.0.0.1.2525'])?.overrides[0]?.option).toBe('local_interfaces');
  });
  it('dovecot -c FILE', () => {
    expect(cfg(['/usr/sbin/dovecot', '-F', '-c', '/etc/dovecot/alt.conf'])).toEqual(['/etc/dovecot/alt.conf']);
    expect(cfg(['/usr/sbin/dovecot', '-F'])).toEqual(['/etc/dovecot/dovecot.conf']);
  });
});

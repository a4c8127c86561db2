import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { formatLocation } from '../../../src/model/location.js';
import {
  expandExecStart,
  findUnits,
  parseUnitText,
  readUnit,
  splitWords,
  unitSearchPath,
  unitValue,
  unitValues,
  type UnitFile,
} from '../../../src/readers/systemd/index.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const fixtures = path.join(here, 'fixtures');
const seedRoot = path.join(here, '../../../examples/seed-appliance');
const root = (name: string) => new RootFs(path.join(fixtures, name));

function load(r: RootFs, name: string): UnitFile {
  const res = readUnit(r, name);
  expect(res.unit, JSON.stringify(res.findings)).toBeDefined();
  return res.unit as UnitFile;
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('the seed appliance', () => {
  it('expands sendmail.service ExecStart with /etc/sysconfig/sendmail', () => {
    const r = new RootFs(seedRoot);
    const res = readUnit(r, 'sendmail.service');
    expect(res.findings).toEqual([]);
    const unit = res.unit as UnitFile;
    expect(unit.fragmentPath).toBe('/etc/systemd/system/sendmail.service');
    const e = expandExecStart(unit, r);
    expect(e.argv).toEqual(['/usr/sbin/sendmail', '-bd', '-q', '1h']);
    expect(e.executable).toBe('/usr/sbin/sendmail');
    expect(formatLocation(e.source)).toBe('/etc/systemd/system/sendmail.service:15:1');
    expect(e.findings).toEqual([]);
    expect(e.notes).toContain('$QUEUE = "1h" from /etc/sysconfig/sendmail:2 → "1h"');
    expect(e.notes).toContain('$SENDMAIL_OPTARG is not set: the word is dropped');
    // Environment=SENDMAIL_OPTS=-q1h is set but the command line never uses it.
    expect(e.environment.get('SENDMAIL_OPTS')?.value).toBe('-q1h');
    expect(e.sources.has('/etc/sysconfig/sendmail')).toBe(true);
  });

  it('finds the unit without the .service suffix and lists it', () => {
    const r = new RootFs(seedRoot);
    expect(readUnit(r, 'sendmail').unit?.id).toBe('sendmail.service');
    expect(findUnits(r).map((u) => u.name)).toEqual(['sendmail.service']);
  });
});

describe('search path precedence', () => {
  const r = root('precedence');
  it('lists /lib once when it is a symlink to /usr/lib', () => {
    expect(unitSearchPath(r)).toEqual(['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system']);
  });
  it('/etc wins over /usr/lib', () => {
    const u = load(r, 'foo.service');
    expect(u.fragmentPath).toBe('/etc/systemd/system/foo.service');
    expect(unitValue(u, 'Service', 'ExecStart')?.value).toBe('/usr/bin/foo --from-etc');
  });
  it('/run wins over /usr/local/lib and /usr/lib', () => {
    expect(expandExecStart(load(r, 'baz.service'), r).argv).toEqual(['/usr/bin/baz', '--from-run']);
  });
  it('a unit only in /usr/lib is found', () => {
    expect(load(r, 'bar.service').fragmentPath).toBe('/usr/lib/systemd/system/bar.service');
  });
  it('findUnits skips .wants directories and keeps the first entry of each name', () => {
    const found = findUnits(r);
    expect(found.map((u) => `${u.name} ${u.path}`)).toEqual([
      'bar.service /usr/lib/systemd/system/bar.service',
      'baz.service /run/systemd/system/baz.service',
      'foo.service /etc/systemd/system/foo.service',
    ]);
    expect(findUnits(r, (n) => n.startsWith('ba')).map((u) => u.name)).toEqual(['bar.service', 'baz.service']);
  });
  it('a missing unit is a finding, not a throw', () => {
    const res = readUnit(r, 'nope.service');
    expect(res.unit).toBeUndefined();
    expect(res.findings.map((f) => f.code)).toEqual(['BC001']);
    expect(res.findings[0]?.message).toMatch(/not found/);
    expect(readUnit(r, 'bad name!').findings[0]?.code).toBe('BC001');
  });
});

describe('drop-ins', () => {
  const r = root('dropins');
  it('merges drop-ins from every search dir in file-name order; /etc hides a same-named /usr/lib drop-in', () => {
    const u = load(r, 'web.service');
    expect(u.dropInPaths).toEqual([
      '/etc/systemd/system/service.d/00-all.conf',
      '/run/systemd/system/web.service.d/05-run.conf',
      '/etc/systemd/system/web.service.d/10-env.conf',
      '/etc/systemd/system/web.service.d/20-override.conf',
    ]);
  });
  it('an empty ExecStart= resets the list and a /dev/null drop-in masks the vendor one', () => {
    const u = load(r, 'web.service');
    expect(unitValues(u, 'Service', 'ExecStart').map((v) => formatLocation(v.location))).toEqual(['/etc/systemd/system/web.service.d/20-override.conf:4:1']);
    const e = expandExecStart(u, r);
    expect(e.argv).toEqual(['/usr/bin/web', '--admin', 'admin']);
    expect(e.environment.get('ALL')?.value).toBe('yes');
    expect(e.environment.get('C')?.value).toBe('run');
    expect(e.environment.get('A')?.location.file).toBe('/etc/systemd/system/web.service.d/10-env.conf');
  });
  it('dash-prefix drop-ins apply to web-app.service, not to web.service', () => {
    expect(load(r, 'web-app.service').dropInPaths).toContain('/usr/lib/systemd/system/web-.service.d/01-prefix.conf');
    expect(load(r, 'web.service').dropInPaths).not.toContain('/usr/lib/systemd/system/web-.service.d/01-prefix.conf');
  });
});

describe('masked units', () => {
  const r = root('masked');
  it('a symlink to /dev/null masks the unit and says so', () => {
    const res = readUnit(r, 'sendmail.service');
    expect(res.unit?.masked).toBe('/etc/systemd/system/sendmail.service');
    expect(res.findings).toHaveLength(1);
    expect(res.findings[0]?.message).toMatch(/masked.*\/dev\/null/);
    expect(findUnits(r).find((u) => u.name === 'sendmail.service')?.kind).toBe('masked');
  });
  it('an empty unit file is masked too (null_or_empty)', () => {
    const res = readUnit(r, 'empty.service');
    expect(res.unit?.masked).toBe('/usr/lib/systemd/system/empty.service');
    expect(res.findings[0]?.message).toMatch(/is empty/);
  });
});

describe('aliases', () => {
  const r = root('alias');
  it('mail-transport-agent.service → /lib/systemd/system/sendmail.service loads sendmail.service with its drop-ins', () => {
    const u = load(r, 'mail-transport-agent.service');
    expect(u.id).toBe('sendmail.service');
    expect(u.aliases).toEqual(['mail-transport-agent.service']);
    expect(u.fragmentPath).toBe('/usr/lib/systemd/system/sendmail.service');
    expect(u.dropInPaths).toEqual(['/etc/systemd/system/sendmail.service.d/override.conf']);
    expect(expandExecStart(u, r).argv).toEqual(['/usr/sbin/sendmail', '-bd', '-q30m', '-C', '/etc/mail/alt.cf']);
  });
  it('a relative alias symlink works the same', () => {
    expect(load(r, 'smtp.service').id).toBe('sendmail.service');
  });
  it('a dangling alias is a finding', () => {
    const res = readUnit(r, 'dangling.service');
    expect(res.unit).toBeUndefined();
    expect(res.findings.length).toBeGreaterThan(0);
  });
  it('findUnits reports aliases with their target', () => {
    expect(findUnits(r).filter((u) => u.kind === 'alias').map((u) => `${u.name}→${u.target}`)).toEqual([
      'dangling.service→nowhere.service',
      'mail-transport-agent.service→sendmail.service',
      'smtp.service→sendmail.service',
    ]);
  });
});

describe('symlinks never lead out of the root', () => {
  it('a unit symlink pointing outside the root is resolved inside it', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-systemd-'));
    tmpDirs.push(tmp);
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'escape.service'), '[Service]\nExecStart=/bin/evil\n');
    fs.writeFileSync(path.join(outside, 'secret.env'), 'SECRET=leaked\n');
    const r0 = path.join(tmp, 'root');
    fs.mkdirSync(path.join(r0, 'etc/systemd/system'), { recursive: true });
    const up = '../'.repeat(12);
    fs.symlinkSync(`${up}${outside.slice(1)}/escape.service`, path.join(r0, 'etc/systemd/system/escape.service'));
    fs.symlinkSync(`${outside}/escape.service`, path.join(r0, 'etc/systemd/system/abs.service'));
    fs.writeFileSync(path.join(r0, 'etc/systemd/system/env.service'), `[Service]\nEnvironmentFile=${outside}/secret.env\nExecStart=/bin/x $SECRET\n`);
    const r = new RootFs(r0);
    for (const name of ['escape.service', 'abs.service']) {
      const res = readUnit(r, name);
      expect(res.unit?.assignments ?? []).toEqual([]);
      expect([...res.sources.values()].join('')).not.toContain('/bin/evil');
      expect(res.findings.length).toBeGreaterThan(0);
    }
    const env = expandExecStart(load(r, 'env.service'), r);
    expect(env.argv).toEqual(['/bin/x']);
    expect(env.findings.map((f) => f.code)).toEqual(['BC001']);
  });
});

describe('EnvironmentFile', () => {
  const r = root('envfiles');
  it('optional missing file is a note; file values override Environment=; $VAR splits, ${VAR} does not', () => {
    const e = expandExecStart(load(r, 'opt.service'), r);
    expect(e.findings.map((f) => `${f.code} ${formatLocation(f.location)}`)).toEqual([
      'BC002 /etc/default/opt:11',
      'BC002 /etc/default/opt:12',
    ]);
    expect(e.notes[0]).toMatch(/EnvironmentFile=-\/etc\/sysconfig\/missing .*optional/);
    expect(e.argv).toEqual(['/usr/bin/opt', '-p', '2525', '--listen', '127.0.0.1', 'unit', 'from-file', '', 'a b  c', '$literal']);
    expect(e.environment.get('EXPORTED')?.value).toBe('yes');
    expect(e.environment.get('TRAILING')?.value).toBe('value');
    expect(e.environment.get('INLINE')?.value).toBe('value # not a comment');
    expect(e.environment.get('CONT')?.value).toBe('firstsecond');
    expect(formatLocation(e.environment.get('OPTS')?.location ?? { file: '', line: 0 })).toBe('/etc/default/opt:3');
  });
  it('a missing non-optional file is a BC001 at the EnvironmentFile= line', () => {
    const e = expandExecStart(load(r, 'req.service'), r);
    expect(e.findings.map((f) => `${f.code} ${formatLocation(f.location)}`)).toEqual(['BC001 /etc/systemd/system/req.service:2:1']);
    expect(e.findings[0]?.message).toMatch(/refuses to start req.service/);
  });
  it('globs in EnvironmentFile= read every match in order', () => {
    expect(expandExecStart(load(r, 'glob.service'), r).argv).toEqual(['/usr/bin/globbed', '1', '2']);
  });
});

describe('unit file syntax', () => {
  const r = root('continuation');
  it('joins continuation lines, drops comments inside them, keeps the first line number', () => {
    const u = load(r, 'cont.service');
    expect(unitValue(u, 'Unit', 'Description')?.value).toBe('continued    description');
    const exec = unitValue(u, 'Service', 'ExecStart');
    expect(formatLocation(exec?.location ?? { file: '', line: 0 })).toBe('/etc/systemd/system/cont.service:7:1');
    const e = expandExecStart(u, r);
    expect(e.argv).toEqual(['/usr/bin/cont', '--one', '--two', 'quoted arg', 'hello world', 'a', 'b']);
  });
  it('reports a line without = and keeps going', () => {
    const res = readUnit(r, 'cont.service');
    expect(res.findings.map((f) => `${f.code} ${formatLocation(f.location)}`)).toEqual(['BC002 /etc/systemd/system/cont.service:14']);
  });
  it('ExecStartPre with ; separators and \\; literal, and the - prefix', () => {
    const text = '[Service]\nExecStartPre=-/bin/true ; /bin/echo "a;b" \\; end\n';
    const p = parseUnitText(text, '/x.service');
    expect(p.assignments[0]?.value).toBe('-/bin/true ; /bin/echo "a;b" \\; end');
    expect(splitWords('-/bin/true ; /bin/echo "a;b" \\; end')?.words).toEqual(['-/bin/true', ';', '/bin/echo', 'a;b', '\\;', 'end']);
  });
  it('assignments outside a section and bad headers are findings', () => {
    const p = parseUnitText('Foo=bar\n[Service\nExecStart=/x\n', '/y.service');
    expect(p.findings.map((f) => f.code)).toEqual(['BC002', 'BC002']);
    expect(p.assignments).toEqual([]);
  });
  it('repeated keys append; an empty assignment resets', () => {
    const p = parseUnitText('[Service]\nEnvironment=A=1\nEnvironment=B=2\nEnvironment=\nEnvironment=C=3\n', '/z');
    expect(p.assignments.map((a) => a.value)).toEqual(['A=1', 'B=2', '', 'C=3']);
  });
});

describe('template units', () => {
  const r = root('template');
  it('getty@tty1.service loads getty@.service with %I and drop-ins', () => {
    const u = load(r, 'getty@tty1.service');
    expect(u.template).toBe('getty@.service');
    expect(u.instance).toBe('tty1');
    expect(u.dropInPaths).toEqual(['/usr/lib/systemd/system/getty@.service.d/term.conf']);
    const e = expandExecStart(u, r);
    expect(e.argv).toEqual(['/sbin/agetty', '-o', '-p -- \\u', '--noclear', 'tty1', 'vt220']);
    expect(e.command?.ignoreFailure).toBe(true);
  });
  it('an instance with its own file uses it', () => {
    const u = load(r, 'getty@tty9.service');
    expect(u.template).toBeUndefined();
    expect(expandExecStart(u, r).argv).toEqual(['/usr/sbin/own-instance', 'tty9', 'getty@tty9.service', 'getty@tty9', 'getty', '%']);
  });
  it('%I and %f unescape the instance', () => {
    const u = load(r, 'mnt@var-lib-x\\x2dy.service');
    expect(expandExecStart(u, r).argv).toEqual(['/usr/bin/mount-helper', 'var/lib/x-y', '/var/lib/x-y', 'var-lib-x\\x2dy']);
  });
});

describe('robustness', () => {
  it('random unit text never throws', () => {
    const line = fc.oneof(
      fc.constantFrom('[Service]', '[Unit]', '[', 'ExecStart=', 'Environment=', '\\', '#x', ';', '', '"', "'", '$A', '${A', '%i', '%'),
      fc.string({ maxLength: 30 }),
      fc.tuple(fc.constantFrom('ExecStart', 'Environment', 'EnvironmentFile', 'Type'), fc.string({ maxLength: 30 })).map(([k, v]) => `${k}=${v}`),
    );
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bindcheck-unitfuzz-'));
    tmpDirs.push(tmp);
    fs.mkdirSync(path.join(tmp, 'etc/systemd/system'), { recursive: true });
    const r = new RootFs(tmp);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 25 }), fc.constantFrom('\n', '\r\n'), (lines, nl) => {
        fs.writeFileSync(path.join(tmp, 'etc/systemd/system/fuzz@.service'), lines.join(nl));
        const res = readUnit(r, 'fuzz@a-b.service');
        if (res.unit) {
          const e = expandExecStart(res.unit, r);
          expect(Array.isArray(e.argv)).toBe(true);
        }
        for (const f of res.findings) expect(f.code).toMatch(/^BC0\d\d$/);
      }),
      { numRuns: 300 },
    );
  });
});

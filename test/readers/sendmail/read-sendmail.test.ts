import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { formatLocation } from '../../../src/model/location.js';
import { readSendmail, SENDMAIL_BEHAVIOUR, type SendmailReadResult } from '../../../src/readers/sendmail/index.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const fixtures = path.join(here, 'fixtures');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** The golden view of a read: planned sockets and findings with file:line:column. */
function golden(r: SendmailReadResult): unknown {
  return {
    found: r.found,
    plannedFrom: r.plannedFrom,
    files: r.plans[0]?.files ?? [],
    sockets: (r.plans[0]?.sockets ?? []).map((s) => ({
      at: formatLocation(s.source),
      name: s.name,
      family: s.family,
      address: s.address,
      port: s.port,
      reuseAddr: s.reuseAddr,
      reusePort: s.reusePort,
      v6Only: s.v6Only ?? null,
      optional: s.optional ?? false,
      optionsKey: s.optionsKey,
      derivation: s.derivation,
    })),
    skipped: r.daemons.filter((d) => !d.socket).map((d) => ({ at: formatLocation(d.source), name: d.name, why: d.skippedReason })),
    findings: r.findings.map((f) => ({ code: f.code, at: formatLocation(f.location), message: f.message })),
    mcOutOfDate: r.mcOutOfDate ? { cfValues: r.mcOutOfDate.cfValues, mcValues: r.mcOutOfDate.mcValues } : null,
  };
}

const cases = fs.readdirSync(fixtures).filter((d) => fs.statSync(path.join(fixtures, d)).isDirectory()).sort();

describe('readSendmail fixtures (golden)', () => {
  for (const c of cases) {
    it(c, () => {
      const r = readSendmail(new RootFs(path.join(fixtures, c)));
      const file = path.join(fixtures, `${c}.expected.json`);
      const got = golden(r);
      if (UPDATE || !fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify(got, null, 2) + '\n');
      expect(got).toEqual(JSON.parse(fs.readFileSync(file, 'utf8')));
    });
  }
});

/** Every `# expect: BCxxx` comment in a fixture .cf names the finding on the line below it. */
describe('fixture expectations written in the config', () => {
  for (const c of cases) {
    const cf = path.join(fixtures, c, 'etc/mail/sendmail.cf');
    if (!fs.existsSync(cf)) continue;
    const lines = fs.readFileSync(cf, 'utf8').split('\n');
    const expected = lines.flatMap((l, i) => {
      const m = /^# expect: (BC\d{3})/.exec(l);
      return m ? [`${m[1]}@${i + 2}`] : [];
    });
    if (expected.length === 0) continue;
    it(c, () => {
      const r = readSendmail(new RootFs(path.join(fixtures, c)));
      const got = r.findings.filter((f) => f.location.file === '/etc/mail/sendmail.cf').map((f) => `${f.code}@${f.location.line}`);
      expect([...new Set(got)].sort()).toEqual([...new Set(expected)].sort());
    });
  }
});

describe('readSendmail behaviour', () => {
  it('the founding story: 0.0.0.0:25 then 127.0.0.1:25, both named MTA, bound first and listened after', () => {
    const r = readSendmail(new RootFs(path.join(fixtures, 'seed')));
    const plan = r.plans[0]!;
    expect(plan.daemon).toBe('sendmail');
    expect(plan.config).toBe('/etc/mail/sendmail.cf');
    expect(plan.startup).toBe('bind-all-then-listen');
    expect(plan.onFailure).toBe('exit');
    expect(plan.retry).toEqual({ attempts: 10, intervalSeconds: 5, exitStatus: 71, errnos: expect.arrayContaining(['EADDRINUSE', 'EADDRNOTAVAIL']) });
    expect(plan.units).toEqual(['sendmail.service']);
    expect(plan.sockets.map((s) => `${s.name} ${s.address}:${s.port}`)).toEqual(['MTA 0.0.0.0:25', 'MTA 127.0.0.1:25']);
    expect(plan.sockets.every((s) => s.reuseAddr && !s.reusePort && s.v6Only === undefined && s.uid === 0 && s.listens)).toBe(true);
    expect(formatLocation(plan.sockets[0]!.source)).toBe('/etc/mail/sendmail.cf:8:3');
    expect(plan.sockets[0]!.derivation).toContain('no Addr= given: sendmail binds INADDR_ANY (0.0.0.0) (daemon.c setupdaemon)');
    // Same options apart from the address: the wildcard socket serves what the loopback one would.
    expect(plan.sockets[0]!.optionsKey).toBe(plan.sockets[1]!.optionsKey);
    expect(plan.sockets[1]!.directive).toEqual({
      file: '/etc/mail/sendmail.cf',
      startLine: 9,
      endLine: 9,
      lines: ['O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA'],
      disabled: ['#O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA'],
    });
    expect(r.sources.get('/etc/mail/sendmail.cf')).toContain('Name=MTA');
    // No /etc/services in this root: the built-in table is used and the derivation says it was assumed.
    expect(r.services.origin).toBe('assumed');
    expect(plan.sockets[1]!.derivation.join('\n')).toMatch(/assumed: the root has no \/etc\/services/);
  });

  it('the example appliance root agrees with its .mc', () => {
    const r = readSendmail(new RootFs(path.join(here, '../../../examples/seed-appliance')));
    expect(r.plans[0]!.sockets.map((s) => `${s.name} ${s.address}:${s.port}`)).toEqual(['MTA 0.0.0.0:25', 'MTA 127.0.0.1:25']);
    expect(r.mcOutOfDate).toBeUndefined();
  });

  it('a root without sendmail config is not found and says nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-sm-'));
    try {
      const r = readSendmail(new RootFs(dir));
      expect(r).toMatchObject({ found: false, plans: [], findings: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-C: an explicit configPath is read instead', () => {
    const r = readSendmail(new RootFs(path.join(fixtures, 'seed')), { configPath: '/etc/mail/other.cf' });
    expect(r.found).toBe(true);
    expect(r.plans).toEqual([]);
    expect(r.findings.map((f) => [f.code, formatLocation(f.location)])).toEqual([['BC001', '/etc/mail/other.cf']]);
  });

  describe('an unreadable sendmail.cf is BC001, not a crash', () => {
    const tmp: string[] = [];
    afterAll(() => {
      for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
    });
    const mk = (make: (cf: string) => void): SendmailReadResult => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-sm-'));
      tmp.push(dir);
      fs.mkdirSync(path.join(dir, 'etc/mail'), { recursive: true });
      make(path.join(dir, 'etc/mail/sendmail.cf'));
      return readSendmail(new RootFs(dir));
    };
    it('a directory where the file should be', () => {
      const r = mk((cf) => fs.mkdirSync(cf));
      expect(r.found).toBe(true);
      expect(r.plans).toEqual([]);
      expect(r.findings).toHaveLength(1);
      expect(r.findings[0]).toMatchObject({ code: 'BC001', location: { file: '/etc/mail/sendmail.cf', line: 0 } });
    });
    it('a FIFO (never opened, so nothing blocks)', () => {
      const r = mk((cf) => execFileSync('mkfifo', [cf]));
      expect(r.findings.map((f) => f.code)).toEqual(['BC001']);
    });
    it('a symlink loop', () => {
      const r = mk((cf) => fs.symlinkSync('/etc/mail/sendmail.cf', cf));
      expect(r.findings.map((f) => f.code)).toEqual(['BC001']);
    });
  });

  it('Family=local is noted and skipped; later daemons are still numbered by position', () => {
    const r = readSendmail(new RootFs(path.join(fixtures, 'family-local')));
    expect(r.daemons.map((d) => [d.name, d.family, d.socket ? `${d.socket.address}:${d.socket.port}` : d.skippedReason])).toEqual([
      ['Local', 'unix', 'Family=local: a unix-domain socket at /var/run/sendmail.sock, not an inet socket'],
      ['Daemon1', 'inet', '0.0.0.0:2525'],
      ['Daemon2', 'inet', '0.0.0.0:25'],
    ]);
  });

  it('M=O marks the socket optional', () => {
    const r = readSendmail(new RootFs(path.join(fixtures, 'optional')));
    expect(r.plans[0]!.sockets.map((s) => [s.name, s.optional])).toEqual([
      ['MTA', false],
      ['MTA-v6', true],
      ['Lo', true],
    ]);
  });

  it('.mc and .cf that disagree are reported as mcOutOfDate; the plan follows the .cf', () => {
    const r = readSendmail(new RootFs(path.join(fixtures, 'mc-out-of-date')));
    expect(r.plannedFrom).toBe('cf');
    expect(r.plans[0]!.sockets.map((s) => s.address)).toEqual(['127.0.0.1']);
    expect(r.mcOutOfDate).toMatchObject({ cfValues: ['Port=smtp,Addr=127.0.0.1, Name=MTA'], mcValues: ['Port=smtp, Name=MTA'] });
  });

  it('the retry behaviour constant matches the source reading', () => {
    expect(SENDMAIL_BEHAVIOUR.retries * SENDMAIL_BEHAVIOUR.intervalSeconds).toBe(SENDMAIL_BEHAVIOUR.giveUpAfterSeconds);
    expect(SENDMAIL_BEHAVIOUR.sequenceListenThenBindFailures).toHaveLength(2 + 20 + 1);
    expect('opendaemonsocket: daemon MTA: cannot bind: Address already in use').toMatch(SENDMAIL_BEHAVIOUR.patterns.cannotBind);
    expect('daemon Daemon1: problem creating SMTP socket').toMatch(SENDMAIL_BEHAVIOUR.patterns.problemCreating);
  });
});

/**
 * The real m4 and sendmail's own cf macros as an oracle for the .mc reading: generate the .cf from each fixture
 * .mc and compare its DaemonPortOptions with what bindcheck predicts. Skipped where sendmail-cf is not installed.
 */
const CF_DIR = '/usr/share/sendmail/cf';
const haveM4 = (() => {
  try {
    execFileSync('m4', ['--version'], { stdio: 'ignore' });
    return fs.existsSync(path.join(CF_DIR, 'm4/cf.m4'));
  } catch {
    return false;
  }
})();

describe.skipIf(!haveM4)('.mc reading agrees with m4 + sendmail-cf', () => {
  for (const c of cases) {
    const mc = path.join(fixtures, c, 'etc/mail/sendmail.mc');
    if (!fs.existsSync(mc)) continue;
    it(c, () => {
      const text = fs.readFileSync(mc, 'utf8');
      // Includes outside the cf directory (Debian's /etc/mail/m4/*.m4) must exist for m4 to run.
      const includes = [...text.matchAll(/^include\(`([^']+)'\)/gm)].map((m) => m[1] as string);
      if (includes.some((p) => !fs.existsSync(p))) return;
      const out = execFileSync('m4', [mc], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      // Fold continuation lines as readcf does (util.c fgetfolded keeps the newline).
      const fromM4 = out
        .split(/\n(?![ \t])/)
        .filter((l) => l.startsWith('O DaemonPortOptions='))
        .map((l) => l.slice('O DaemonPortOptions='.length));
      // Plan from the .mc alone: copy it into a root without a .cf.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-sm-mc-'));
      try {
        fs.mkdirSync(path.join(dir, 'etc/mail'), { recursive: true });
        fs.copyFileSync(mc, path.join(dir, 'etc/mail/sendmail.mc'));
        const r = readSendmail(new RootFs(dir));
        expect(r.plannedFrom).toBe('mc');
        expect(r.daemons.map((d) => d.optionText)).toEqual(fromM4);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

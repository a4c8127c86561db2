import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { readSendmail, resolveOptionName } from '../../../src/readers/sendmail/index.js';
import { formatIPv6, inetAton, inetPton6 } from '../../../src/readers/sendmail/inet-addr.js';
import { cAtoi } from '../../../src/readers/sendmail/port-options.js';

describe('address parsers sendmail relies on', () => {
  it('inet_aton (glibc) forms', () => {
    const f = (s: string): string | undefined => {
      const n = inetAton(s);
      return n === undefined ? undefined : [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    };
    expect(f('127.0.0.1')).toBe('127.0.0.1');
    expect(f('127.1')).toBe('127.0.0.1');
    expect(f('0x7f.1')).toBe('127.0.0.1');
    expect(f('010.0.0.1')).toBe('8.0.0.1');
    expect(f('127.0.0.1 trailing')).toBe('127.0.0.1');
    expect(f('127.0.0.300')).toBeUndefined();
    expect(f('1.2.3.4.5')).toBeUndefined();
    expect(f('08.1.1.1')).toBeUndefined();
    expect(f('127.0.0.1x')).toBeUndefined();
  });
  it('inet_pton(AF_INET6) and canonical text', () => {
    const c = (s: string): string | undefined => {
      const g = inetPton6(s);
      return g && formatIPv6(g);
    };
    expect(c('::')).toBe('::');
    expect(c('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(c('2001:DB8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(c('::ffff:127.0.0.1')).toBe('::ffff:127.0.0.1');
    expect(c('::ffff:7f00:1')).toBe('::ffff:127.0.0.1');
    expect(c('1::2::3')).toBeUndefined();
    expect(c('fe80::1%eth0')).toBeUndefined();
    expect(c('::1 ')).toBeUndefined();
    expect(c('::ffff:127.0.0.01')).toBeUndefined();
  });
  it('atoi', () => {
    expect(cAtoi('25abc')).toBe(25);
    expect(cAtoi('70000')).toBe(70000);
    expect(cAtoi('-5')).toBe(-5);
    expect(cAtoi('99999999999999999999')).toBe(-1);
  });
  it('option names: exact, unique abbreviation, ambiguous', () => {
    expect(resolveOptionName('daemonportoptions').option).toBe('DaemonPortOptions');
    expect(resolveOptionName('DaemonPort')).toEqual({ option: 'DaemonPortOptions', abbreviation: true });
    expect(resolveOptionName('D').ambiguous).toBeDefined();
    expect(resolveOptionName('Nope')).toEqual({});
  });
});

describe('property: arbitrary sendmail.cf text never throws and locations stay inside the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-sm-prop-'));
  fs.mkdirSync(path.join(dir, 'etc/mail'), { recursive: true });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fsRoot = new RootFs(dir);

  const piece = fc.oneof(
    fc.constantFrom('O DaemonPortOptions=', 'OO', 'O DaemonPort=', 'O   DaemonPortOptions=', '#', '\n', '\r\n', '\n\t', '\n ', ',', '=',
      'Port=', 'Addr=', 'Family=', 'Name=', 'M=', 'Listen=', 'inet6', 'inet', 'local', 'smtp', '::1', '127.0.0.1', '25', '99999', 'IPv6:', 'localhost'),
    fc.string({ maxLength: 8 }),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  const cfText = fc.oneof(fc.array(piece, { maxLength: 60 }).map((a) => a.join('')), fc.string({ unit: 'binary', maxLength: 400 }));

  it('holds', () => {
    fc.assert(
      fc.property(cfText, fc.boolean(), (text, alsoMc) => {
        fs.writeFileSync(path.join(dir, 'etc/mail/sendmail.cf'), text);
        if (alsoMc) fs.writeFileSync(path.join(dir, 'etc/mail/sendmail.mc'), text.replace(/O DaemonPortOptions=/g, "DAEMON_OPTIONS(`") + "')");
        else fs.rmSync(path.join(dir, 'etc/mail/sendmail.mc'), { force: true });
        const r = readSendmail(fsRoot);
        const stored = r.sources.get('/etc/mail/sendmail.cf') as string;
        const nLines = stored.split('\n').length;
        for (const f of r.findings) {
          const l = f.location;
          if (l.file !== '/etc/mail/sendmail.cf') continue;
          expect(l.line).toBeGreaterThanOrEqual(1);
          expect(l.line).toBeLessThanOrEqual(nLines);
          if (l.column !== undefined) expect(l.column).toBeGreaterThanOrEqual(1);
        }
        for (const s of r.plans[0]?.sockets ?? []) {
          expect(s.port).toBeGreaterThan(0);
          expect(s.port).toBeLessThan(65536);
          expect(s.source.line).toBeLessThanOrEqual(nLines);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('holds for arbitrary .mc text alone', () => {
    fs.rmSync(path.join(dir, 'etc/mail/sendmail.cf'), { force: true });
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('DAEMON_OPTIONS(', '`', "'", ')', ',', 'dnl', '\n', '#', 'FEATURE(`no_default_msa\')', 'changecom', 'Port=25', 'Addr=::1'), fc.string({ maxLength: 6 })), { maxLength: 50 }).map((a) => a.join('')), (text) => {
        fs.writeFileSync(path.join(dir, 'etc/mail/sendmail.mc'), text);
        const r = readSendmail(fsRoot);
        const nLines = text.split('\n').length;
        for (const f of r.findings) {
          if (f.location.file !== '/etc/mail/sendmail.mc') continue;
          expect(f.location.line).toBeGreaterThanOrEqual(1);
          expect(f.location.line).toBeLessThanOrEqual(nLines);
        }
      }),
      { numRuns: 300 },
    );
  });
});

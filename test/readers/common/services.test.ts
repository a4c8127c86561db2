import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RootFs } from '../../../src/fs/root-fs.js';
import { builtinServices, parseServices, readServices } from '../../../src/readers/common/services.js';

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
});
function root(files: Record<string, string>): RootFs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bc-svc-'));
  tmp.push(dir);
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), text);
  }
  return new RootFs(dir);
}

describe('services', () => {
  it('parses names, aliases, comments; first entry per protocol wins; lookups are case-sensitive', () => {
    const t = parseServices(
      [
        '# comment',
        'smtp\t\t25/tcp\t\tmail',
        'submissions\t465/tcp\t\tssmtp smtps urd # Submission over TLS [RFC8314]',
        'domain\t\t53/tcp',
        'domain\t\t53/udp',
        'smtp\t\t2525/tcp',
        'broken\t\tx/tcp',
        'odd 99/sctp',
      ].join('\n'),
    );
    expect(t.origin).toBe('read');
    expect(t.lookup('smtp', 'tcp')).toEqual({ port: 25, line: 2 });
    expect(t.lookup('mail', 'tcp')?.port).toBe(25);
    expect(t.lookup('smtps', 'tcp')?.port).toBe(465);
    expect(t.lookup('SMTP', 'tcp')).toBeUndefined();
    expect(t.get('domain')).toMatchObject({ tcp: 53, udp: 53 });
    expect(t.lookup('smtp', 'udp')).toBeUndefined();
    expect(t.has('broken')).toBe(false);
    expect(t.has('odd')).toBe(false);
    expect(t.describe('smtp', 'tcp')).toBe('"smtp" resolved to 25/tcp via /etc/services:2');
  });

  it("uses the root's /etc/services, else the built-in table marked assumed", () => {
    const withFile = readServices(root({ 'etc/services': 'smtp 2525/tcp\n' }));
    expect(withFile.origin).toBe('read');
    expect(withFile.lookup('smtp', 'tcp')?.port).toBe(2525);
    expect(withFile.lookup('submission', 'tcp')).toBeUndefined();
    expect(withFile.text).toBe('smtp 2525/tcp\n');

    const without = readServices(root({ 'etc/hostname': 'x\n' }));
    expect(without.origin).toBe('assumed');
    expect(without.describe('submission', 'tcp')).toMatch(/587\/tcp via bindcheck's built-in table \(assumed: the root has no \/etc\/services\)/);
  });

  it('the built-in table has the well-known mail and web ports', () => {
    const b = builtinServices();
    const ports = Object.fromEntries(
      ['smtp', 'submission', 'smtps', 'submissions', 'http', 'https', 'domain', 'ssh', 'imap', 'imaps', 'pop3', 'pop3s'].map((n) => [n, b.lookup(n, 'tcp')?.port]),
    );
    expect(ports).toEqual({ smtp: 25, submission: 587, smtps: 465, submissions: 465, http: 80, https: 443, domain: 53, ssh: 22, imap: 143, imaps: 993, pop3: 110, pop3s: 995 });
    expect(b.lookup('domain', 'udp')?.port).toBe(53);
  });
});

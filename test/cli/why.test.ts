import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { parseWhyTarget } from '../../src/explain/target.js';
import type { JsonExplanation } from '../../src/reporters/why.js';

const REPO = join(import.meta.dirname, '..', '..');
const SEED = relative(process.cwd(), join(REPO, 'examples', 'seed-appliance')) || '.';
const CF = '/etc/mail/sendmail.cf';
const STATUS = join(SEED, 'root', 'sendmail-status.txt');
const STRACE = join(SEED, 'root', 'sendmail-strace.txt');
const SEED_LOG_LINE = 'sendmail[24097]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon Daemon1: cannot bind: Address already in use';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => (out += s), stderr: (s) => (err += s), isTTY: false, env: {} });
  return { code, out, err };
}

/** The two DaemonPortOptions lines of the example, read from the file. */
const [WILD, SPECIFIC] = readFileSync(join(REPO, 'examples/seed-appliance/etc/mail/sendmail.cf'), 'utf8')
  .split('\n')
  .flatMap((l, i) => (l.startsWith('O DaemonPortOptions=') ? [i + 1] : []));

function endsAtTheFirstDaemonLine(e: JsonExplanation): void {
  expect(e.status).toBe('fails');
  expect(e.verdict).toContain(`Edit ${CF}:${WILD}`);
  expect(e.chain[0]).toMatchObject({ kind: 'config', file: CF, line: WILD });
  expect(e.fixes.length).toBeGreaterThan(0);
  expect(e.fixes[0]?.diff).toContain(`+#O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA`);
}

describe('bindcheck why: the seed replayed', () => {
  it('why sendmail --root: config, kernel rule, the image\'s logs, and the fix', async () => {
    const r = await run(['why', 'sendmail', '--root', SEED, '--json']);
    expect(r.code).toBe(1);
    const e = JSON.parse(r.out) as JsonExplanation;
    endsAtTheFirstDaemonLine(e);
    const logs = e.chain.filter((c) => c.kind === 'log');
    expect(logs.map((c) => c.file)).toEqual(expect.arrayContaining(['/var/log/maillog', '/var/log/messages']));
    expect(logs.find((c) => c.label.includes('cannot bind'))?.label).toMatch(/3 times/);
    // The log's "Daemon1" is mapped to the second DaemonPortOptions line, and the name mismatch explained.
    expect(e.chain.find((c) => c.kind === 'note' && c.label.includes('"Daemon1"'))).toMatchObject({ file: CF, line: SPECIFIC });
    expect(e.unseen.map((u) => u.what)).toContain('unit state');
    // And the symptom the seed's author saw first: the alerts submitted to 127.0.0.1:25 go nowhere.
    expect(e.chain.find((c) => c.label.startsWith('BC104'))).toMatchObject({ kind: 'note', file: '/etc/mail/submit.cf' });
  });

  it('why <pasted log line> --root ends at the same line, with the line itself in the chain', async () => {
    const r = await run(['why', SEED_LOG_LINE, '--root', SEED, '--json']);
    expect(r.code).toBe(1);
    const e = JSON.parse(r.out) as JsonExplanation;
    expect(e.target.kind).toBe('log-line');
    endsAtTheFirstDaemonLine(e);
    expect(e.chain.some((c) => c.kind === 'log' && c.file === '(the line given)')).toBe(true);
  });

  it('trace --file on the seed strace, with --root, ends at the same line', async () => {
    const r = await run(['trace', '--file', STRACE, '--root', SEED, '--json']);
    expect(r.code).toBe(1);
    const t = JSON.parse(r.out) as { failures: unknown[]; explanations: JsonExplanation[] };
    expect(t.failures).toHaveLength(1);
    expect(t.explanations).toHaveLength(1);
    endsAtTheFirstDaemonLine(t.explanations[0] as JsonExplanation);
    expect(t.explanations[0]?.chain.some((c) => c.kind === 'trace' && c.line === 20)).toBe(true);
  });

  it('--evidence adds the saved systemctl status (exit 71 explained) and the strace', async () => {
    const r = await run(['why', 'sendmail.service', '--root', SEED, '--json', '--evidence', STATUS, '--evidence', STRACE]);
    const e = JSON.parse(r.out) as JsonExplanation;
    endsAtTheFirstDaemonLine(e);
    const unit = e.chain.find((c) => c.kind === 'unit');
    expect(unit?.label).toMatch(/status 71 \(EX_OSERR/);
    expect(unit?.file).toBe(STATUS);
    expect(e.chain.some((c) => c.kind === 'trace' && c.file === STRACE)).toBe(true);
    expect(e.unseen.map((u) => u.what)).not.toContain('unit state');
  });

  it('ports: 25 and 127.0.0.1:25 find the failure; [::1]:25 is asked for by nobody', async () => {
    for (const t of ['25', 'tcp/25', '127.0.0.1:25']) {
      const e = JSON.parse((await run(['why', t, '--root', SEED, '--json'])).out) as JsonExplanation;
      endsAtTheFirstDaemonLine(e);
    }
    const none = await run(['why', '[::1]:25', '--root', SEED, '--json']);
    expect(none.code).toBe(2);
    expect((JSON.parse(none.out) as JsonExplanation).status).toBe('unknown');
  });

  it('an unknown unit says what it could not see', async () => {
    const r = await run(['why', 'postfix', '--root', SEED]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/no configuration for postfix/);
  });

  it('a daemon whose config asks for no socket starts with nothing to fail (Debian\'s haproxy.cfg has no bind)', async () => {
    const r = await run(['why', 'haproxy', '--root', join(REPO, 'test/readers/haproxy/fixtures/debian'), '--json']);
    const j = JSON.parse(r.out) as JsonExplanation;
    expect(j.status).toBe('starts');
    expect(j.verdict).toBe('haproxy asks for no listening socket in /etc/haproxy/haproxy.cfg: nothing to bind, nothing to fail.');
  });

  it('usage errors exit 2', async () => {
    expect((await run(['why'])).code).toBe(2);
    expect((await run(['why', '99999'])).code).toBe(2);
    expect((await run(['why', 'a', 'b'])).code).toBe(2);
  });
});

describe('parseWhyTarget', () => {
  it('tells units, ports and log lines apart', () => {
    expect(parseWhyTarget('sendmail')).toMatchObject({ kind: 'unit', name: 'sendmail', unit: 'sendmail.service' });
    expect(parseWhyTarget('sendmail.service')).toMatchObject({ kind: 'unit', name: 'sendmail', unit: 'sendmail.service' });
    expect(parseWhyTarget('25')).toMatchObject({ kind: 'port', port: 25 });
    expect(parseWhyTarget('udp/53')).toMatchObject({ kind: 'port', port: 53, proto: 'udp' });
    expect(parseWhyTarget('[::1]:25')).toMatchObject({ kind: 'port', port: 25, address: '::1' });
    expect(parseWhyTarget('tcp/[::ffff:127.0.0.1]:25')).toMatchObject({ kind: 'port', address: '::ffff:127.0.0.1' });
    expect(parseWhyTarget(SEED_LOG_LINE)).toMatchObject({ kind: 'log-line' });
    expect(parseWhyTarget('999.1.1.1:25')).toHaveProperty('error');
  });
});

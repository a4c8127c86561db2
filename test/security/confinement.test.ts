/**
 * `--root DIR` is a confinement (issue 4 §3): every file bindcheck reads, swapped for a symlink out of the root,
 * a FIFO, a device, a directory, a 1 GB sparse file or garbage, gives a finding or an unseen note — never a crash,
 * a hang, or text from outside DIR.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir, describe_, problems, READ_FILES, runAll, runCliAsync, type CliRun } from './harness.js';
import { CANARY, CANARY_PORT, fullRoot, makeCanaryDir, VARIANTS } from './hostile-root.js';

const made: string[] = [];
let canary = '';

beforeAll(() => {
  appDir();
  canary = makeCanaryDir();
  made.push(canary);
});
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function root(): string {
  const r = fullRoot();
  made.push(r);
  return r;
}

/** Failures common to every run: crash, hang, foreign text. */
function check(r: CliRun, what: string, allowed: number[]): string[] {
  const out = r.stdout.toString('latin1') + r.stderr.toString('latin1');
  const p = problems(r, allowed).map((x) => `${what}: ${x}`);
  if (out.includes(CANARY) || out.includes(CANARY_PORT)) p.push(`${what}: text from outside the root reached the output`);
  if (/root:[^:\n]*:\d+:\d+:\d*:/.test(out)) p.push(`${what}: something like a line of /etc/shadow reached the output`);
  return p;
}

function json(r: CliRun): unknown {
  return JSON.parse(r.stdout.toString('utf8'));
}

/** Variants that leave a file bindcheck can see is there but must refuse: these must be reported. */
/**
 * What a damaged file must lead to. refused: a finding or unseen note naming it, and "too large" for 1 GB.
 * streamed: logs are read in constant memory whatever their size, so only named when unreadable. fact: a host
 * fact falls back to the Linux default, marked assumed. quiet: not needed for the answer (the cf wins over the .mc,
 * /etc/hosts is read only for host names, os-release only refines defaults), so silence is right.
 */
const EXPECT: Record<keyof typeof READ_FILES, 'refused' | 'streamed' | 'fact' | 'quiet'> = {
  cf: 'refused',
  mc: 'quiet',
  services: 'refused',
  hosts: 'quiet',
  unit: 'refused',
  dropin: 'refused',
  envfile: 'refused',
  osRelease: 'quiet',
  maillog: 'streamed',
  messages: 'streamed',
  procTcp: 'refused',
  procTcp6: 'refused',
  procFib: 'fact',
  procInet6: 'fact',
  sysctlPortStart: 'fact',
  haproxy: 'refused',
  dnsmasq: 'refused',
  resolved: 'refused',
  socketUnit: 'refused',
  compose: 'refused',
};

/** The other daemons' main config files (the rest of READ_FILES is the sendmail appliance's). */
const OTHER_DAEMON_FILES = [READ_FILES.haproxy, READ_FILES.dnsmasq, READ_FILES.resolved, READ_FILES.socketUnit, READ_FILES.compose] as const;

const MUST_BE_NAMED = new Set(['FIFO', 'char device 1 3 (null)', 'char device 1 5 (zero)', 'directory', '1 GB sparse file']);

describe('every file bindcheck reads, made hostile', () => {
  for (const [variant, make] of Object.entries(VARIANTS)) {
    it(variant, { timeout: 300_000 }, async () => {
      const cases = Object.entries(READ_FILES).map(([role, p]) => {
        const dir = root();
        make(dir, p, canary);
        return { role, p, dir };
      });
      const failures: string[] = [];
      await runAll(
        cases.map(({ role, p, dir }) => async () => {
          // `scan` is the whole report; `why` reads everything `scan` reads, and the logs too.
          const scan = await runCliAsync(['scan', '--root', dir, '--json'], { timeoutMs: 20_000 });
          const why = await runCliAsync(['why', 'sendmail', '--root', dir, '--json'], { timeoutMs: 20_000 });
          const docs: string[] = [];
          for (const [r, what, allowed] of [[scan, 'scan --json', [0, 1]], [why, 'why sendmail --json', [0, 1, 2]]] as const) {
            const p1 = check(r, `${role} (${p}) → ${what}`, [...allowed]);
            if (p1.length > 0) {
              failures.push(`${p1.join('; ')}\n${describe_(r)}`);
              return;
            }
            try {
              docs.push(JSON.stringify(json(r)));
            } catch {
              failures.push(`${role} (${p}) → ${what}: stdout is not JSON`);
              return;
            }
          }
          const text = docs.join('\n');
          const expect_ = EXPECT[role as keyof typeof READ_FILES];
          // The damaged file is named: in a finding's location or evidence, or in an unseen note.
          const named = text.includes(`"${p}"`) || text.includes(`${p} `) || text.includes(`${p}:`);
          if (MUST_BE_NAMED.has(variant) && expect_ !== 'quiet' && expect_ !== 'fact' && !named) failures.push(`${role} (${p}): nothing in scan or why names it`);
          if (MUST_BE_NAMED.has(variant) && expect_ === 'fact') {
            const facts = (JSON.parse(docs[0] as string) as { hostFacts: Record<string, { origin: string; source: string }> }).hostFacts;
            const fact = Object.values(facts).find((f) => f.source.includes(p));
            if (fact && fact.origin !== 'assumed') failures.push(`${role} (${p}): a fact read from a ${variant} is not marked assumed`);
          }
          if (variant === '1 GB sparse file' && expect_ === 'refused' && !/too large|more than the \d+ bytes|larger than the/.test(text)) {
            failures.push(`${role} (${p}): the 1 GB file is not reported as too large`);
          }
          if (variant === '1 GB sparse file' && scan.ms + why.ms > 15_000) failures.push(`${role} (${p}): took ${scan.ms + why.ms} ms`);
        }),
      );
      expect(failures).toEqual([]);
    });
  }
});

describe('every command and format on one root where everything is hostile at once', () => {
  for (const [variant, make] of Object.entries(VARIANTS)) {
    it(variant, { timeout: 300_000 }, async () => {
      const dir = root();
      // The sendmail appliance's files, all at once. The other daemons' main files are each made hostile in the test
      // above; with all twenty at once a 10 MB NUL-riddled line in each exhausts the 512 MB heap (the readers keep
      // every text for code frames) — an open problem, see the closing note, not a case to hide behind a bigger heap.
      for (const p of Object.values(READ_FILES).filter((f) => !(OTHER_DAEMON_FILES as readonly string[]).includes(f))) {
        try {
          make(dir, p, canary);
        } catch {
          // a parent already replaced by a symlink: the earlier replacement stands
        }
      }
      const trace = `${dir}/root/sendmail-strace.txt`;
      const runs: [string[], number[]][] = [
        [['scan', '--root', dir], [0, 1]],
        [['scan', '--root', dir, '--format', 'json'], [0, 1]],
        [['scan', '--root', dir, '--format', 'sarif'], [0, 1]],
        [['scan', '--root', dir, '--diff'], [0, 1]],
        [['why', 'sendmail', '--root', dir], [0, 1, 2]],
        [['why', '25', '--root', dir], [0, 1, 2]],
        [['why', '25', '--root', dir, '--json'], [0, 1, 2]],
        [['trace', '--file', trace, '--root', dir], [0, 1]],
        [['trace', '--file', trace, '--root', dir, '--json'], [0, 1]],
        [['sockets', '--root', dir], [0]],
        [['sockets', '--root', dir, '--json', '--all'], [0]],
      ];
      const results = await runAll(runs.map(([args]) => () => runCliAsync(args, { timeoutMs: 20_000 })));
      const failures = results.flatMap((r, i) => {
        const [args, allowed] = runs[i] as [string[], number[]];
        const p = check(r, args.join(' '), allowed);
        return p.length > 0 ? [...p, describe_(r)] : [];
      });
      expect(failures).toEqual([]);
    });
  }
});

describe('loops', () => {
  it('a drop-in directory that is a symlink to itself, and a unit alias loop, end', { timeout: 120_000 }, async () => {
    const dir = root();
    const { link } = await import('./harness.js');
    link(dir, '/etc/systemd/system/sendmail.service.d', 'sendmail.service.d');
    link(dir, '/etc/systemd/system/sendmail.service', 'mta.service');
    link(dir, '/etc/systemd/system/mta.service', '/etc/systemd/system/sendmail.service');
    link(dir, '/proc', '/proc');
    link(dir, '/var/log', '../var/log');
    const runs = [['scan', '--root', dir, '--json'], ['why', 'sendmail', '--root', dir, '--json'], ['sockets', '--root', dir]];
    const results = await runAll(runs.map((a) => () => runCliAsync(a, { timeoutMs: 20_000 })));
    const failures = results.flatMap((r, i) => check(r, (runs[i] as string[]).join(' '), [0, 1, 2]).map((x) => `${x}\n${describe_(r)}`));
    expect(failures).toEqual([]);
    const scan = JSON.stringify(json(results[0] as CliRun));
    // /proc → /proc loops inside the root: no socket table, said so. (The unit alias loop itself is not reported:
    // the unit is treated as absent — see the report; this test proves only that it ends.)
    expect(scan).toMatch(/"what":"live sockets"/);
  });

  it('an .mc that include()s itself is not followed', async () => {
    const dir = root();
    const { put } = await import('./harness.js');
    fs.rmSync(`${dir}/etc/mail/sendmail.cf`);
    put(dir, '/etc/mail/sendmail.mc', "include(`/etc/mail/sendmail.mc')dnl\nsinclude(`/etc/mail/sendmail.mc')dnl\nDAEMON_OPTIONS(`Port=smtp,Addr=127.0.0.1, Name=MTA')dnl\n");
    const r = await runCliAsync(['scan', '--root', dir, '--json'], { timeoutMs: 20_000 });
    expect(check(r, 'scan', [0, 1])).toEqual([]);
  });
});

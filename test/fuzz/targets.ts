// Fuzz targets shared by the long run (test/fuzz/long-run.fuzz.ts, `npm run fuzz`) and the replay of saved
// reproducers (test/fuzz/regressions.test.ts). Each takes arbitrary text and must not throw; every location it
// reports in the input's file must be a real line of the input; the same input must give the same output.
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseWhyTarget } from '../../src/explain/target.js';
import { scanLogText } from '../../src/evidence/logs/index.js';
import { analyzeStraceText } from '../../src/evidence/strace/index.js';
import { RootFs } from '../../src/fs/root-fs.js';
import { parseSystemctlStatus } from '../../src/live/systemd-state.js';
import { apacheReader } from '../../src/readers/apache/index.js';
import { dnsmasqReader } from '../../src/readers/dnsmasq/index.js';
import { composeReader } from '../../src/readers/compose/index.js';
import { dovecotReader } from '../../src/readers/dovecot/index.js';
import { eximReader } from '../../src/readers/exim/index.js';
import { haproxyReader } from '../../src/readers/haproxy/index.js';
import { nginxReader } from '../../src/readers/nginx/index.js';
import { postfixReader } from '../../src/readers/postfix/index.js';
import { resolvedReader } from '../../src/readers/resolved/index.js';
import { readSendmail } from '../../src/readers/sendmail/index.js';
import { sshdReader } from '../../src/readers/sshd/index.js';
import { socketUnitsReader } from '../../src/readers/socket-units/index.js';
import { parseEnvFile, parseUnitText } from '../../src/readers/systemd/index.js';

export interface FuzzTarget {
  run: (text: string) => unknown;
  /** The file name the target reports locations in, when it reports any. */
  file?: string;
}

export function fuzzTargets(): { targets: Record<string, FuzzTarget>; cleanup: () => void } {
  const base = isDir('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = mkdtempSync(join(base, 'bindcheck-fuzz-'));
  const viaRoot = (path: string, read: (fs: RootFs) => unknown) => (text: string) => {
    rmSync(join(root, 'etc'), { recursive: true, force: true });
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    return read(new RootFs(root));
  };
  return {
    cleanup: () => rmSync(root, { recursive: true, force: true }),
    targets: {
      'sendmail-cf': { run: viaRoot('/etc/mail/sendmail.cf', (fs) => readSendmail(fs)), file: '/etc/mail/sendmail.cf' },
      'sendmail-mc': { run: viaRoot('/etc/mail/sendmail.mc', (fs) => readSendmail(fs)), file: '/etc/mail/sendmail.mc' },
      'postfix-main-cf': { run: viaRoot('/etc/postfix/main.cf', (fs) => postfixReader.read(fs, {})), file: '/etc/postfix/main.cf' },
      'postfix-master-cf': { run: viaRoot('/etc/postfix/master.cf', (fs) => postfixReader.read(fs, {})), file: '/etc/postfix/master.cf' },
      'exim-conf': { run: viaRoot('/etc/exim4/exim4.conf', (fs) => eximReader.read(fs, {})), file: '/etc/exim4/exim4.conf' },
      'dovecot-conf': { run: viaRoot('/etc/dovecot/dovecot.conf', (fs) => dovecotReader.read(fs, {})), file: '/etc/dovecot/dovecot.conf' },
      'sshd-config': { run: viaRoot('/etc/ssh/sshd_config', (fs) => sshdReader.read(fs, {})), file: '/etc/ssh/sshd_config' },
      'dnsmasq-conf': { run: viaRoot('/etc/dnsmasq.conf', (fs) => dnsmasqReader.read(fs, {})), file: '/etc/dnsmasq.conf' },
      'apache-conf': { run: viaRoot('/etc/apache2/apache2.conf', (fs) => apacheReader.read(fs, {})), file: '/etc/apache2/apache2.conf' },
      'nginx-conf': { run: viaRoot('/etc/nginx/nginx.conf', (fs) => nginxReader.read(fs, {})), file: '/etc/nginx/nginx.conf' },
      'haproxy-cfg': { run: viaRoot('/etc/haproxy/haproxy.cfg', (fs) => haproxyReader.read(fs, {})), file: '/etc/haproxy/haproxy.cfg' },
      // An enabled socket unit (sockets.target.wants link, its service present) whose text is the input.
      'socket-unit': {
        run: viaRoot('/etc/systemd/system/fuzz.socket', (fs) => {
          const units = join(root, 'etc/systemd/system');
          writeFileSync(join(units, 'fuzz.service'), '[Service]\nExecStart=/bin/true\n');
          mkdirSync(join(units, 'sockets.target.wants'), { recursive: true });
          symlinkSync('../fuzz.socket', join(units, 'sockets.target.wants/fuzz.socket'));
          return socketUnitsReader.read(fs, {});
        }),
        file: '/etc/systemd/system/fuzz.socket',
      },
      'resolved-conf': { run: viaRoot('/etc/systemd/resolved.conf', (fs) => resolvedReader.read(fs, {})), file: '/etc/systemd/resolved.conf' },
      'compose-yaml': { run: viaRoot('/etc/docker/compose/app/compose.yaml', (fs) => composeReader.read(fs, {})), file: '/etc/docker/compose/app/compose.yaml' },
      'unit-file': { run: (t) => parseUnitText(t, '/x.service'), file: '/x.service' },
      'env-file': { run: (t) => parseEnvFile(t, '/x.env'), file: '/x.env' },
      syslog: { run: (t) => scanLogText(t, '/var/log/x'), file: '/var/log/x' },
      strace: { run: (t) => analyzeStraceText(t, '/x.strace'), file: '/x.strace' },
      'systemctl-status': { run: (t) => parseSystemctlStatus(t, '/x.status'), file: '/x.status' },
      'why-target': { run: (t) => parseWhyTarget(t) },
    },
  };
}

function isDir(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** Every {file, line} in a result that names the target's file must point at a line of the input. */
export function badLocations(result: unknown, file: string, text: string): string[] {
  const lines = text.split('\n').length;
  const bad: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 12 || v === null || typeof v !== 'object') return;
    if (v instanceof Map) {
      for (const x of v.values()) walk(x, depth + 1);
      return;
    }
    const o = v as { file?: unknown; line?: unknown };
    if (o.file === file && typeof o.line === 'number' && (!Number.isInteger(o.line) || o.line < 0 || o.line > lines)) {
      bad.push(`${file}:${o.line} (the input has ${lines} lines)`);
    }
    for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(result, 0);
  return bad;
}

/** A rendering for the determinism check: Maps and Sets as sorted entries. */
export function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x instanceof Map ? [...x.entries()].sort() : x instanceof Set ? [...x].sort() : x));
}

/** Run one input through a target and return what is wrong with the result, if anything. */
export function checkInput(t: FuzzTarget, text: string, determinism: boolean): string | undefined {
  const r = t.run(text);
  if (t.file) {
    const bad = badLocations(r, t.file, text);
    if (bad.length > 0) return `location outside the input: ${bad[0]}`;
  }
  if (determinism && stable(t.run(text)) !== stable(r)) return 'the same input gave a different result';
  return undefined;
}

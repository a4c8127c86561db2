import * as path from 'node:path';
import type { RootFs } from '../fs/root-fs.js';
import type { Location } from '../model/location.js';
import { parseEnvFile } from './systemd/environment.js';
import { readLinkInRoot } from './systemd/units.js';

export type DistroFamily = 'debian' | 'rhel' | 'suse' | 'arch' | 'alpine' | 'unknown';

export interface Distro {
  /** os-release ID (`debian`, `fedora`, `applianceos`), or what the legacy release file names; `linux` when unknown. */
  id: string;
  idLike: string[];
  versionId?: string;
  prettyName?: string;
  /** The file (and line of ID=, when from os-release) the answer came from; line 0 when nothing was found. */
  source: Location;
  family: DistroFamily;
}

/** ID / ID_LIKE values of each family (os-release(5) ID_LIKE is a space-separated list of closer-to-upstream ids). */
const FAMILY_IDS: Record<Exclude<DistroFamily, 'unknown'>, string[]> = {
  debian: ['debian', 'ubuntu', 'raspbian', 'linuxmint', 'devuan', 'kali', 'pop'],
  rhel: ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'amzn', 'scientific', 'cloudlinux', 'redhat'],
  suse: ['suse', 'opensuse', 'sles', 'sled', 'opensuse-leap', 'opensuse-tumbleweed'],
  arch: ['arch', 'archlinux', 'manjaro', 'endeavouros'],
  alpine: ['alpine'],
};

function familyOf(ids: string[]): DistroFamily {
  for (const id of ids) {
    for (const [family, members] of Object.entries(FAMILY_IDS) as [DistroFamily, string[]][]) {
      if (members.includes(id) || (family === 'suse' && id.startsWith('opensuse'))) return family;
    }
  }
  return 'unknown';
}

/** Legacy /etc/redhat-release texts: "Fedora release 26 (Twenty Six)", "CentOS Linux release 7.4.1708 (Core)". */
const REDHAT_RELEASE: { re: RegExp; id: string }[] = [
  { re: /^Fedora\b/i, id: 'fedora' },
  { re: /^CentOS\b/i, id: 'centos' },
  { re: /^Rocky\b/i, id: 'rocky' },
  { re: /^AlmaLinux\b/i, id: 'almalinux' },
  { re: /^Red Hat Enterprise Linux\b/i, id: 'rhel' },
  { re: /^Oracle Linux\b/i, id: 'ol' },
  { re: /^Scientific Linux\b/i, id: 'scientific' },
];

/**
 * Which distribution a root is: `/etc/os-release`, then `/usr/lib/os-release` (os-release(5) order), then the legacy
 * `/etc/redhat-release` and `/etc/debian_version`. Never throws; an unrecognisable root is family `unknown`.
 */
export function readDistro(fs: RootFs): Distro {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    const r = fs.readText(file);
    if (!r.ok) continue;
    // os-release is shell-compatible variable assignments; systemd parses it with the EnvironmentFile parser.
    const entries = parseEnvFile(r.text, file).entries;
    const get = (k: string) => entries.filter((e) => e.name === k).pop();
    const idEntry = get('ID');
    const id = (idEntry?.value ?? 'linux').toLowerCase();
    const idLike = (get('ID_LIKE')?.value ?? '').split(/\s+/).filter((s) => s.length > 0).map((s) => s.toLowerCase());
    const d: Distro = { id, idLike, source: { file, line: idEntry?.location.line ?? 0 }, family: familyOf([id, ...idLike]) };
    const version = get('VERSION_ID')?.value;
    if (version !== undefined) d.versionId = version;
    const pretty = get('PRETTY_NAME')?.value;
    if (pretty !== undefined) d.prettyName = pretty;
    return d;
  }
  const rh = fs.readText('/etc/redhat-release');
  if (rh.ok) {
    const text = rh.text.trim().split('\n')[0] ?? '';
    const id = REDHAT_RELEASE.find((p) => p.re.test(text))?.id ?? 'rhel';
    const d: Distro = { id, idLike: id === 'rhel' ? [] : ['rhel'], source: { file: '/etc/redhat-release', line: 1 }, family: 'rhel', prettyName: text };
    const v = /release\s+([\d.]+)/i.exec(text);
    if (v) d.versionId = v[1] as string;
    return d;
  }
  const deb = fs.readText('/etc/debian_version');
  if (deb.ok) {
    const v = deb.text.trim();
    const d: Distro = { id: 'debian', idLike: [], source: { file: '/etc/debian_version', line: 1 }, family: 'debian' };
    if (v) d.versionId = v;
    return d;
  }
  if (fs.exists('/etc/alpine-release')) return { id: 'alpine', idLike: [], source: { file: '/etc/alpine-release', line: 1 }, family: 'alpine' };
  if (fs.exists('/etc/arch-release')) return { id: 'arch', idLike: [], source: { file: '/etc/arch-release', line: 0 }, family: 'arch' };
  return { id: 'linux', idLike: [], source: { file: '/etc/os-release', line: 0 }, family: 'unknown' };
}

/** Where each daemon's packaged config lives, per family; `default` when all families agree. */
const CONFIG_PATHS: Record<string, Partial<Record<DistroFamily | 'default', string[]>>> = {
  // sendmail's _PATH_SENDMAILCF is /etc/mail/sendmail.cf on Debian's sendmail-bin and Red Hat's sendmail alike.
  sendmail: { default: ['/etc/mail/sendmail.cf'] },
  nginx: { default: ['/etc/nginx/nginx.conf'] },
  sshd: { default: ['/etc/ssh/sshd_config'] },
  dnsmasq: { default: ['/etc/dnsmasq.conf'] },
  haproxy: { default: ['/etc/haproxy/haproxy.cfg'] },
  postfix: { default: ['/etc/postfix/main.cf', '/etc/postfix/master.cf'] },
  exim: {
    debian: ['/var/lib/exim4/config.autogenerated', '/etc/exim4/exim4.conf'],
    default: ['/etc/exim/exim.conf'],
  },
  dovecot: { default: ['/etc/dovecot/dovecot.conf'] },
};

/** The config files a daemon reads on this distribution when nothing on its command line says otherwise. */
export function defaultConfigPaths(distro: Pick<Distro, 'family'>, daemon: string): string[] {
  const e = CONFIG_PATHS[daemon];
  if (!e) return [];
  return [...(e[distro.family] ?? e.default ?? [])];
}

/**
 * The MTA binary layout. Red Hat: /usr/sbin/sendmail → /etc/alternatives/mta → /usr/sbin/sendmail.sendmail
 * (or sendmail.postfix…), units run /usr/sbin/sendmail. Debian's sendmail-bin: the daemon is /usr/sbin/sendmail-mta
 * (→ /usr/lib/sm.bin/sendmail), /usr/sbin/sendmail is the same program for submission.
 */
const MTA_BINARIES: { family: DistroFamily | 'default'; daemon: string; paths: string[] }[] = [
  { family: 'debian', daemon: 'sendmail', paths: ['/usr/sbin/sendmail-mta', '/usr/lib/sm.bin/sendmail', '/usr/sbin/sendmail'] },
  { family: 'default', daemon: 'sendmail', paths: ['/usr/sbin/sendmail', '/usr/sbin/sendmail.sendmail'] },
];

/** Binary file names (after alternatives) and the MTA they belong to. */
const MTA_IMPLEMENTATIONS: { match: RegExp; daemon: string }[] = [
  { match: /(^|\/)sendmail\.sendmail$/, daemon: 'sendmail' },
  { match: /(^|\/)sm\.bin\/sendmail$/, daemon: 'sendmail' },
  { match: /(^|\/)sendmail-mta$/, daemon: 'sendmail' },
  { match: /(^|\/)sendmail\.postfix$/, daemon: 'postfix' },
  { match: /(^|\/)postfix\/.*sendmail$/, daemon: 'postfix' },
  { match: /(^|\/)sendmail\.exim$/, daemon: 'exim' },
  { match: /(^|\/)exim4?$/, daemon: 'exim' },
  { match: /(^|\/)sendmail\.ssmtp$/, daemon: 'ssmtp' },
  { match: /(^|\/)(msmtp|sendmail\.msmtp)$/, daemon: 'msmtp' },
  { match: /(^|\/)sendmail$/, daemon: 'sendmail' },
];

/** Where the distribution puts a daemon's executable (the first is what its unit runs). */
export function daemonBinaryPaths(distro: Pick<Distro, 'family'>, daemon: string): string[] {
  const e = MTA_BINARIES.find((b) => b.daemon === daemon && b.family === distro.family) ?? MTA_BINARIES.find((b) => b.daemon === daemon && b.family === 'default');
  return e ? [...e.paths] : [];
}

/**
 * Which MTA an executable path really is in this root, following symlinks (alternatives included) inside the root:
 * `/usr/sbin/sendmail` may be sendmail, postfix's or exim's compatibility binary.
 */
export function resolveMtaBinary(fs: RootFs, executable: string): { path: string; resolved?: string; chain: string[]; daemon?: string } {
  const chain: string[] = [executable];
  let current = executable;
  // Follow one link at a time so the alternatives hop (/etc/alternatives/mta) shows in the chain.
  for (let i = 0; i < 40; i++) {
    const link = readLinkInRoot(fs, current);
    if (link === undefined) break;
    current = path.posix.normalize(link.startsWith('/') ? link : path.posix.join(path.posix.dirname(current), link));
    chain.push(current);
  }
  const r = fs.resolve(executable);
  const out: { path: string; resolved?: string; chain: string[]; daemon?: string } = { path: executable, chain };
  if (r.ok && fs.exists(executable)) out.resolved = r.inRoot;
  const name = out.resolved ?? executable;
  const impl = MTA_IMPLEMENTATIONS.find((m) => m.match.test(name));
  if (impl) out.daemon = impl.daemon;
  return out;
}

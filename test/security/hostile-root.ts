/** Hostile appliance roots for the confinement tests: every file bindcheck reads, replaced by something nasty. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addProc, link, put, READ_FILES, seedCopy, special, tempDir } from './harness.js';

/** Text that, if it ever shows up in output, came from outside the root. */
export const CANARY = 'BINDCHECK-CANARY-7f3a';
export const CANARY_PORT = '31337';

/**
 * A host directory outside every root, holding a file of every base name bindcheck reads (sendmail.cf, services,
 * tcp, maillog, …) filled with canary text: a root whose symlinks lead out of it would read these.
 */
export function makeCanaryDir(): string {
  const d = tempDir('bindcheck-sec-host-');
  const text =
    `# ${CANARY}\nO DaemonPortOptions=Port=${CANARY_PORT},Addr=127.0.0.1,Name=${CANARY}\nsmtp ${CANARY_PORT}/tcp\n` +
    `[Service]\nExecStart=/usr/sbin/sendmail -bd -C/etc/${CANARY}.cf\nEnvironmentFile=/etc/${CANARY}\n` +
    `Aug 30 14:55:52 gorp sendmail[1]: NOQUEUE: SYSERR(root): opendaemonsocket: daemon ${CANARY}: cannot bind: Address already in use\n`;
  const names = new Set(Object.values(READ_FILES).map((p) => path.posix.basename(p)));
  for (const n of names) put(d, n, text);
  return d;
}

/** The seed appliance plus every optional file bindcheck reads, and a /proc capture with a root-held :25. */
export function fullRoot(): string {
  const root = seedCopy();
  put(root, READ_FILES.hosts, '127.0.0.1 localhost\n::1 localhost\n');
  put(root, READ_FILES.dropin, '[Service]\nEnvironment=EXTRA=1\n');
  addProc(root);
  put(root, READ_FILES.procInet6, '00000000000000000000000000000001 01 80 10 80       lo\n');
  put(root, READ_FILES.sysctlPortStart, '1024\n');
  put(root, '/var/log/messages', 'Aug 30 14:55:52 gorp systemd[1]: sendmail.service: Failed with result \'exit-code\'.\n');
  // The other daemons' main files, each asking for a socket, so a damaged one changes the answer.
  put(root, READ_FILES.haproxy, 'frontend f\n  bind 127.0.0.1:8080\n');
  put(root, READ_FILES.dnsmasq, 'bind-interfaces\nlisten-address=127.0.0.1\nport=5353\n');
  put(root, READ_FILES.resolved, '[Resolve]\nLLMNR=no\nDNSStubListenerExtra=127.0.0.1:5354\n');
  put(root, READ_FILES.socketUnit, '[Socket]\nListenStream=127.0.0.1:8081\n');
  put(root, '/etc/systemd/system/app.service', '[Service]\nExecStart=/bin/true\n');
  put(root, '/etc/systemd/system/sockets.target.wants/.keep', '');
  fs.symlinkSync('../app.socket', path.join(root, 'etc/systemd/system/sockets.target.wants/app.socket'));
  put(root, READ_FILES.compose, 'services:\n  web:\n    image: x\n    ports:\n      - "127.0.0.1:8082:80"\n');
  return root;
}

export type Variant = (root: string, inRoot: string, canaryDir: string) => void;

/** A file that is NUL bytes, invalid UTF-8 and one 10 MB line: all readers must cope, none may choke. */
export function garbage(): Buffer {
  const parts = [
    Buffer.from('O DaemonPortOptions=Port=smtp,Addr=127.0.0.1\0\0, Name=MTA\n'),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc, 0x0a]),
    Buffer.from('[Service]\nExecStart=/usr/sbin/sendmail \0-bd\nEnvironment=A=\xff\n'),
    Buffer.alloc(10 * 1024 * 1024, 'A'),
    Buffer.from('\nAug 30 14:55:52 gorp sendmail[1]: \0\xffopendaemonsocket: daemon MTA: cannot bind: Address already in use\n', 'latin1'),
  ];
  return Buffer.concat(parts);
}

export const VARIANTS: Record<string, Variant> = {
  'absolute symlink to /etc/shadow': (root, p) => link(root, p, '/etc/shadow'),
  'absolute symlink to a host file': (root, p, canary) => link(root, p, path.join(canary, path.posix.basename(p))),
  'relative symlink climbing out of the root': (root, p, canary) =>
    link(root, p, '../'.repeat(p.split('/').length + root.split('/').length) + path.join(canary, path.posix.basename(p)).slice(1)),
  'parent directory is an absolute symlink to a host directory': (root, p, canary) => link(root, path.posix.dirname(p), canary),
  'parent directory is a relative symlink climbing out': (root, p, canary) =>
    link(root, path.posix.dirname(p), '../'.repeat(p.split('/').length + root.split('/').length) + canary.slice(1)),
  'symlink to itself': (root, p) => link(root, p, path.posix.basename(p)),
  FIFO: (root, p) => special(root, p, 'fifo'),
  'char device 1 3 (null)': (root, p) => special(root, p, 'chr-null'),
  'char device 1 5 (zero)': (root, p) => special(root, p, 'chr-zero'),
  directory: (root, p) => {
    fs.rmSync(path.join(root, p), { force: true, recursive: true });
    fs.mkdirSync(path.join(root, p), { recursive: true });
  },
  '1 GB sparse file': (root, p) => {
    const f = put(root, p, '');
    fs.truncateSync(f, 1024 ** 3);
  },
  'NUL, invalid UTF-8 and a 10 MB line': (root, p) => put(root, p, garbage()),
};

import { tryCanonicalAddress } from '../../../kernel/index.js';
import { errnoFromText } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

/**
 * Apache httpd 2.4's lines about its listeners, as the real Debian 12 apache2 writes them to stderr at startup and
 * to its ErrorLog (error.log lines carry a `[time] [module:level] [pid N:tid N] ` prefix, stripped here):
 * - listen.c make_sock(): `(98)Address already in use: AH00072: make_sock: could not bind to address [::]:80`
 *   (`(99)Cannot assign requested address: …` for an address that is not local) — bind() failed;
 * - `AH00073: make_sock: unable to listen for connections on address …` — listen() failed;
 * - event.c/prefork.c: `no listening sockets available, shutting down` (AH00451 on some builds);
 * - main.c: `AH00015: Unable to open logs` (before the restart loop) or `AH00019: Unable to open logs, exiting`
 *   (in it) — httpd exits with status 1.
 * AH00072 names the address (`%pI`: `[::]:80`, `0.0.0.0:80`), not the Listen line: bindcheck maps it back through
 * the planned socket with that endpoint (`Listen 80` asks for [::]:80).
 */
const MAKE_SOCK = /(?:\((\d+)\)([^:]*): )?AH0007([23]): make_sock: (?:could not bind to|unable to listen for connections on) address (?:\[([^\]]+)\]|([^:\s]+)):(\d+)/;
const NO_LISTENERS = /no listening sockets available, shutting down/;
// A bare "AH00015: Unable to open logs" line parses as tag "AH00015" and message "Unable to open logs".
const OPEN_LOGS = /(?:^|AH000(?:15|19): )Unable to open logs/;

export const apacheRecogniser: LogRecogniser = {
  id: 'apache',
  needles: ['make_sock', 'no listening sockets', 'Unable to open logs'],
  recognise({ message }) {
    const msg = message.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = MAKE_SOCK.exec(msg))) {
      const addrText = (m[4] ?? m[5]) as string;
      const address = tryCanonicalAddress(addrText);
      const r: Recognised = {
        kind: m[3] === '2' ? 'bind-failed' : 'listen-failed',
        form: m[3] === '2' ? 'apache.make-sock-bind' : 'apache.make-sock-listen',
        daemon: 'apache',
        proto: 'tcp',
        port: Number(m[6]),
      };
      if (address !== undefined) {
        r.address = address;
        r.family = address.includes(':') ? 'inet6' : 'inet';
      }
      const errno = m[2] !== undefined ? errnoFromText(m[2]) : undefined;
      if (errno) r.errno = errno;
      return r;
    }
    if (NO_LISTENERS.test(msg)) return { kind: 'gave-up', form: 'apache.no-listening-sockets', daemon: 'apache', exitStatus: 1 };
    if (OPEN_LOGS.test(msg)) return { kind: 'gave-up', form: 'apache.unable-to-open-logs', daemon: 'apache', exitStatus: 1 };
    return null;
  },
};

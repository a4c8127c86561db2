import type { Proto } from '../../../model/index.js';
import { errnoFromNumber, errnoInText, familyOf, isErrnoName } from '../errno.js';
import type { LogRecogniser, Recognised } from '../recogniser.js';

/**
 * Bind failures in any program's words: the strerror text (`Address already in use`, `Cannot assign requested
 * address`, `Permission denied` next to bind/listen), errno numbers (`errno 98`, `[Errno 98]`), libuv codes thrown by
 * Node (`Error: listen EADDRINUSE: address already in use :::3000`), Go's `listen tcp 127.0.0.1:8080: bind: address
 * already in use`, Java's `java.net.BindException`, nginx's `bind() to 0.0.0.0:80 failed (98: …)`, OpenSSH's
 * `Bind to port 22 on 0.0.0.0 failed`, Spring Boot's `Port 8080 was already in use`.
 */
export const genericRecogniser: LogRecogniser = {
  id: 'generic',
  needles: ['already in use', 'requested address', 'ermission denied', 'EADDR', 'rrno'],
  recognise({ message }) {
    const msg = message.trimEnd();
    // Cheap rejection first: most lines the prefilter lets through ("…: Permission denied" on a file, "Name already
    // in use" on D-Bus) name neither an address, a port nor a socket call.
    if (!/ddress|[Pp]ort|bind|listen|Bind|EADDR|EACCES/.test(msg)) return null;
    const errno = errnoOf(msg);
    if (!errno) return null;
    const bindContext = /\b(?:bind|listen)\b|BindException|\bEADDR/i.test(msg);
    // Permission denied and unexplained errnos are only about sockets when the line says bind/listen.
    if (errno !== 'EADDRINUSE' && errno !== 'EADDRNOTAVAIL' && !bindContext) return null;
    const r: Recognised = { kind: callOf(msg), form: 'generic', errno };
    return { ...r, ...endpointOf(msg) };
  },
};

function errnoOf(msg: string): string | undefined {
  // libuv / Go code names first: they are exact.
  const code = /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES)\b/.exec(msg);
  if (code && isErrnoName(code[1] as string)) return code[1];
  const num = /\b[Ee]rrno\b\s*[=:]?\s*(\d{1,3})\b|\[Errno (\d{1,3})\]|\((\d{1,3}): [A-Z][a-z]/.exec(msg);
  if (num) {
    const n = Number(num[1] ?? num[2] ?? num[3]);
    const name = errnoFromNumber(n);
    if (name === 'EADDRINUSE' || name === 'EADDRNOTAVAIL' || name === 'EACCES') return name;
  }
  const text = errnoInText(msg);
  if (text === 'EADDRINUSE' || text === 'EADDRNOTAVAIL' || text === 'EACCES') return text;
  // Spring Boot: "Web server failed to start. Port 8080 was already in use."
  if (/\bport \d+ (?:was|is) already in use/i.test(msg)) return 'EADDRINUSE';
  return undefined;
}

function callOf(msg: string): Recognised['kind'] {
  // libuv binds lazily inside listen(), so Node's "listen EADDRINUSE" does not say which call failed.
  if (/\b(?:listen|bind) E[A-Z]+:/.test(msg)) return 'bind-error';
  if (/\bbind\(\)|\bbind: |\bcannot bind\b|\bbind failed\b|\bfailed to bind\b|\bunable to bind\b|\bBind to port\b|\(Bind failed\)|\bcould not bind\b|\bcan't bind\b/i.test(msg)) {
    return 'bind-failed';
  }
  if (/\blisten\(\)|\bcannot listen\b|\blisten failed\b|\bfailed to listen\b/i.test(msg)) return 'listen-failed';
  return 'bind-error';
}

type EndpointFields = Pick<Recognised, 'address' | 'port' | 'family' | 'proto'>;

function endpointOf(msg: string): EndpointFields {
  let m: RegExpExecArray | null;
  // Go net: "listen tcp 127.0.0.1:8080: bind: …", "listen tcp [::1]:80: bind: …", "listen tcp :8080: bind: …"
  if ((m = /\blisten (tcp|udp)[46]? (\[[^\]]*\]|[^\s[\]]*?):(\d{1,5}): /.exec(msg))) {
    return endpoint(m[2] as string, m[3] as string, m[1] as Proto);
  }
  // nginx: "bind() to 0.0.0.0:80 failed", "bind() to [::]:80 failed", "listen() to 0.0.0.0:80, backlog 511 failed"
  if ((m = /\b(?:bind|listen)\(\) to (\[[^\]]+\]|[^\s,[\]]+?):(\d{1,5})[ ,]/.exec(msg))) {
    return endpoint(m[1] as string, m[2] as string);
  }
  // Node: "listen EADDRINUSE: address already in use :::3000", "… 127.0.0.1:3000", "… ::1:3000"
  if ((m = /\b(?:listen|bind) E[A-Z]+: [a-z ]+? (\S*):(\d{1,5})$/.exec(msg))) {
    return endpoint(m[1] as string, m[2] as string);
  }
  // OpenSSH: "Bind to port 22 on 0.0.0.0 failed: Address already in use."
  if ((m = /\bBind to port (\d{1,5}) on (\S+?) failed/.exec(msg))) return endpoint(m[2] as string, m[1] as string);
  if ((m = /\bport (\d{1,5}) (?:was|is) already in use/i.exec(msg))) return endpoint('', m[1] as string);
  if ((m = /(\[[0-9a-fA-F:.]+(?:%[\w.-]+)?\]|\b\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b/.exec(msg))) {
    return endpoint(m[1] as string, m[2] as string);
  }
  return {};
}

function endpoint(host: string, port: string, proto?: Proto): EndpointFields {
  const out: EndpointFields = {};
  const p = Number(port);
  if (Number.isInteger(p) && p >= 0 && p <= 65535) out.port = p;
  const address = host.replace(/^\[(.*)\]$/, '$1');
  if (address !== '' && address !== '*' && /^[0-9a-fA-F:.%\w-]+$/.test(address)) {
    out.address = address;
    out.family = familyOf(address);
  }
  if (proto) out.proto = proto;
  return out;
}

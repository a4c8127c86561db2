import type { Finding } from '../../model/finding.js';
import type { Location } from '../../model/location.js';
import type { PlannedSocket } from '../../model/planned.js';
import { inputFinding, type InputCode } from '../common/input-finding.js';
import type { ServiceTable } from '../common/services.js';
import { SENDMAIL_BEHAVIOUR } from './behaviour.js';
import type { DaemonOptionsEntry } from './cf-lexer.js';
import type { HostResolver } from './hosts.js';
import { anynetPton6, formatIPv4, formatIPv6, inetAton } from './inet-addr.js';
import type { SourceText } from './source-text.js';

/** Linux address family numbers, as `Family=<number>` is taken literally (daemon.c setsockaddroptions). */
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;

/** Everything sendmail's Daemons[i] holds that matters for binding, plus where each part came from. */
export interface SendmailDaemon {
  /** Position in sendmail's Daemons[] array (0-based): the order sockets are created. */
  index: number;
  /** Name= as given (trailing blanks included, as sendmail keeps them), or `Daemon<index>`. */
  name: string;
  nameDefaulted: boolean;
  family: 'inet' | 'inet6' | 'unix' | 'other';
  /** The numeric address family sendmail will pass to socket(). */
  familyNumber: number;
  /** Canonical address (inet/inet6), when known. */
  address?: string;
  /** Family=local socket path. */
  path?: string;
  port?: number;
  listenQueue: number;
  /** M= characters as given (each character is one flag, daemon.c getmodifiers). */
  modifiers: string;
  /** M=O: sendmail disables the daemon instead of exiting when its socket cannot be opened (D_OPTIONAL). */
  optional: boolean;
  /** The DaemonPortOptions value as sendmail sees it. */
  optionText: string;
  source: Location;
  derivation: string[];
  /** The inet socket sendmail will create, when there is one. */
  socket?: PlannedSocket;
  /** Why no inet socket is planned for this daemon. */
  skippedReason?: string;
}

export interface PortOptionsContext {
  daemon: string;
  index: number;
  services: ServiceTable;
  hosts: HostResolver;
  /** Source of the entry, for exact key locations; undefined for synthetic (m4 default) entries. */
  src: SourceText | undefined;
  findings: Finding[];
}

/** C isspace() in the "C" locale. */
function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** C atoi() as glibc implements it ((int) strtol): leading blanks, a sign, digits; clamps at LONG_MAX/MIN. */
export function cAtoi(s: string): number {
  let i = 0;
  while (isSpace(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let v = 0n;
  const LONG_MAX = (1n << 63n) - 1n;
  while (isDigit(s[i])) {
    v = v * 10n + BigInt((s[i] as string).charCodeAt(0) - 48);
    if (v > LONG_MAX + 1n) v = LONG_MAX + 1n;
    i++;
  }
  if (neg) v = -v;
  if (v > LONG_MAX) v = LONG_MAX;
  return Number(BigInt.asIntN(32, v));
}

/** Display a value the way a user would recognise it (newlines of folded lines shown as `\n`). */
function show(v: string): string {
  return JSON.stringify(v);
}

interface Field {
  key: string;
  /** The whole field text (`Port=smtp`), as in sendmail's "PortOptions parameter … unknown" message. */
  text: string;
  value: string;
  keyStart: number;
  valueStart: number;
  end: number;
}

/**
 * Apply one DaemonPortOptions value the way daemon.c setdaemonoptions → setsockaddroptions → (later, in
 * getrequests) setupdaemon does, and say how each part of the resulting socket was decided.
 */
export function applyPortOptions(entry: DaemonOptionsEntry, ctx: PortOptionsContext): SendmailDaemon {
  const p = entry.value;
  const derivation: string[] = [...entry.notes];
  const at = (start: number, end: number): Location => {
    if (ctx.src === undefined || entry.offsets.length === 0) return entry.anchor;
    const s = entry.offsets[Math.min(start, entry.offsets.length - 1)] as number;
    const lastIdx = Math.min(Math.max(end - 1, start), entry.offsets.length - 1);
    const e = (entry.offsets[lastIdx] as number) + 1;
    return ctx.src.loc(s, e);
  };
  const report = (code: InputCode, start: number, end: number, message: string): void => {
    ctx.findings.push(inputFinding(code, at(start, end), message, ctx.daemon));
  };

  // Split into fields exactly as setsockaddroptions: skip isspace, cut at the next ',', a field without '='
  // is skipped silently, the key is the first character only, the value starts after '=' and blanks.
  const fields: Field[] = [];
  let i = 0;
  while (i < p.length) {
    while (i < p.length && isSpace(p[i])) i++;
    if (i >= p.length) break;
    const f = i;
    let comma = p.indexOf(',', i);
    if (comma < 0) comma = p.length;
    const fieldText = p.slice(f, comma);
    i = comma + 1;
    const eq = fieldText.indexOf('=');
    if (eq < 0) {
      report('BC005', f, comma, `sendmail silently ignores ${show(fieldText)} in DaemonPortOptions: it has no "=" (daemon.c setsockaddroptions)`);
      continue;
    }
    let v = f + eq + 1;
    while (v < comma && isSpace(p[v])) v++;
    fields.push({ key: fieldText[0] as string, text: fieldText, value: p.slice(v, comma), keyStart: f, valueStart: v, end: comma });
  }

  let familyNumber = AF_INET; // setsockaddroptions: AF_UNSPEC becomes AF_INET before the options are read
  let familyField: Field | undefined;
  let addrField: Field | undefined;
  let portField: Field | undefined;
  let name: string | undefined;
  let listenQueue: number = SENDMAIL_BEHAVIOUR.defaultListenQueue;
  let listenField: Field | undefined;
  let modifiers = '';

  for (const fl of fields) {
    switch (fl.key) {
      case 'A':
      case 'a':
        addrField = fl;
        break;
      case 'F':
      case 'f': {
        const v = fl.value;
        familyField = fl;
        if (isDigit(v[0])) familyNumber = cAtoi(v);
        else if (v.toLowerCase() === 'unix' || v.toLowerCase() === 'local') familyNumber = AF_UNIX;
        else if (v.toLowerCase() === 'inet') familyNumber = AF_INET;
        else if (v.toLowerCase() === 'inet6') familyNumber = AF_INET6;
        else {
          const trimmed = v.replace(/[ \t\n\v\f\r]+$/, '');
          const hint =
            trimmed !== v && ['unix', 'local', 'inet', 'inet6'].includes(trimmed.toLowerCase())
              ? ` (sendmail does not trim the blanks after ${show(trimmed)})`
              : '';
          report(
            'BC002',
            fl.valueStart,
            fl.end,
            `unknown address family ${show(v)} in Family=${hint}: sendmail logs "Unknown address family" and keeps ${familyText(familyNumber)} (daemon.c setsockaddroptions)`,
          );
        }
        break;
      }
      case 'L':
      case 'l':
        listenQueue = cAtoi(fl.value);
        listenField = fl;
        break;
      case 'M':
      case 'm': {
        // getmodifiers: every printable non-blank ASCII character is one flag; a later M= replaces an earlier one.
        modifiers = [...fl.value].filter((c) => c > ' ' && c < '\x7f').join('');
        break;
      }
      case 'N':
      case 'n':
        name = fl.value;
        break;
      case 'P':
      case 'p':
        portField = fl;
        break;
      case 'c':
      case 'D':
      case 'd':
      case 'q':
      case 'R':
      case 'r':
      case 'S':
      case 's':
      case 'I':
      case 'i':
        break; // children, delivery mode, load averages, buffer sizes, milters: nothing to do with binding
      default:
        report(
          'BC005',
          fl.keyStart,
          fl.end,
          `sendmail does not know DaemonPortOptions parameter ${show(fl.text)} and ignores it (daemon.c setsockaddroptions: only the first letter counts: A F I L M N P R S c D d q r)`,
        );
    }
  }

  const index = ctx.index;
  const nameDefaulted = name === undefined;
  const finalName = name ?? `Daemon${index}`;
  if (nameDefaulted) derivation.push(`no Name= given: sendmail names it Daemon${index} after its position (daemon.c setdaemonoptions)`);

  const family: SendmailDaemon['family'] =
    familyNumber === AF_INET ? 'inet' : familyNumber === AF_INET6 ? 'inet6' : familyNumber === AF_UNIX ? 'unix' : 'other';
  if (familyField === undefined) derivation.push('no Family= given: AF_INET (daemon.c setsockaddroptions)');
  const optional = modifiers.includes('O');
  if (optional) {
    derivation.push(
      `M=O (optional): if its socket cannot be opened sendmail disables this daemon after ${SENDMAIL_BEHAVIOUR.optionalAttempts} attempts and keeps running instead of exiting (daemon.c opendaemonsocket, D_OPTIONAL)`,
    );
  }
  if (listenField !== undefined) derivation.push(`Listen=${listenField.value}: listen() backlog ${listenQueue}`);

  const base: SendmailDaemon = {
    index,
    name: finalName,
    nameDefaulted,
    family,
    familyNumber,
    listenQueue,
    modifiers,
    optional,
    optionText: p,
    source: entry.anchor,
    derivation,
  };

  if (family === 'unix') {
    if (addrField) base.path = addrField.value;
    if (portField) report('BC005', portField.keyStart, portField.end, `Port= is not supported for Family=local; sendmail logs "Port= option unsupported for family 1" and ignores it`);
    base.skippedReason = `Family=${familyField?.value ?? 'local'}: a unix-domain socket${addrField ? ` at ${addrField.value}` : ''}, not an inet socket`;
    derivation.push(base.skippedReason);
    return base;
  }
  if (family === 'other') {
    base.skippedReason = `Family=${familyNumber}: socket(${familyNumber}, SOCK_STREAM, 0) fails on Linux; sendmail ${optional ? 'disables this optional daemon' : `exits with status ${SENDMAIL_BEHAVIOUR.exitStatus}`} (daemon.c opendaemonsocket "can't create server SMTP socket")`;
    report('BC002', familyField?.valueStart ?? 0, familyField?.end ?? p.length, base.skippedReason);
    derivation.push(base.skippedReason);
    return base;
  }

  // ---- Addr= (daemon.c setsockaddroptions, after all fields, using the final family) ----
  let address = family === 'inet' ? '0.0.0.0' : '::';
  let unresolved = false;
  if (addrField === undefined) {
    derivation.push(
      family === 'inet'
        ? 'no Addr= given: sendmail binds INADDR_ANY (0.0.0.0) (daemon.c setupdaemon)'
        : 'no Addr= given: sendmail binds in6addr_any (::) (daemon.c setupdaemon)',
    );
  } else {
    const a = addrField.value;
    const where = (): Location => at(addrField!.valueStart, addrField!.end);
    if (family === 'inet') {
      const n = isDigit(a[0]) ? inetAton(a) : undefined;
      // inet_addr() returns INADDR_NONE both for failure and for 255.255.255.255 itself; sendmail then asks
      // gethostbyname, which parses that address too, so only a real failure reaches the else branch.
      if (n !== undefined) {
        address = formatIPv4(n);
        derivation.push(address === a.trim() ? `Addr=${address}` : `Addr=${a.trim()} → ${address}`);
      } else {
        const digitsOnly = /^[0-9.]+[ \t\n\v\f\r]*$/.test(a) || a.includes(':');
        const h = ctx.hosts.lookup(a, 'inet');
        if (h !== undefined) {
          address = h.address;
          derivation.push(`Addr=${a} resolved to ${address} via ${h.where}`);
        } else if (digitsOnly) {
          // A digits-and-dots or colon name never reaches DNS: glibc's gethostbyname rejects it at once.
          // When the text began with a digit, inet_addr() already stored INADDR_NONE into the address.
          address = isDigit(a[0]) ? '255.255.255.255' : '0.0.0.0';
          const why = a.includes(':')
            ? `${show(a)} is an IPv6 address but the daemon is Family=inet`
            : `${show(a)} is not a valid IPv4 address`;
          const effect = isDigit(a[0])
            ? 'inet_addr() has already stored INADDR_NONE, so sendmail binds 255.255.255.255 and fails with EADDRNOTAVAIL'
            : 'sendmail logs `host "…" unknown` and binds 0.0.0.0';
          ctx.findings.push(inputFinding('BC002', where(), `${why}: ${effect} (daemon.c setsockaddroptions)`, ctx.daemon));
          derivation.push(`Addr=${a}: ${why}; ${effect}`);
        } else {
          unresolved = true;
          ctx.findings.push(
            inputFinding(
              'BC002',
              where(),
              `cannot resolve host ${show(a)} offline: it is not in the root's /etc/hosts. sendmail resolves it at startup; if that fails it logs \`554 5.3.0 host "${a}" unknown\` and binds ${isDigit(a[0]) ? '255.255.255.255' : '0.0.0.0'} (daemon.c setsockaddroptions)`,
              ctx.daemon,
            ),
          );
        }
      }
    } else {
      const g = anynetPton6(a);
      if (g !== undefined) {
        address = formatIPv6(g);
        derivation.push(address === a ? `Addr=${address}` : `Addr=${a} → ${address}`);
      } else {
        const h = ctx.hosts.lookup(a, 'inet6');
        if (h !== undefined) {
          address = h.address;
          derivation.push(`Addr=${a} resolved to ${address} via ${h.where}`);
        } else if (a.includes(':') || /^[0-9.]+$/.test(a)) {
          const why = /^[0-9.]+$/.test(a.trim())
            ? `${show(a)} is an IPv4 address but the daemon is Family=inet6`
            : `${show(a)} is not a valid IPv6 address`;
          ctx.findings.push(
            inputFinding('BC002', where(), `${why}: sendmail logs \`host "…" unknown\` and binds in6addr_any (::) (daemon.c setsockaddroptions)`, ctx.daemon),
          );
          derivation.push(`Addr=${a}: ${why}; sendmail binds ::`);
        } else {
          unresolved = true;
          ctx.findings.push(
            inputFinding(
              'BC002',
              where(),
              `cannot resolve host ${show(a)} offline: it has no IPv6 entry in the root's /etc/hosts. sendmail resolves it at startup; if that fails it binds in6addr_any (::) (daemon.c setsockaddroptions)`,
              ctx.daemon,
            ),
          );
        }
      }
    }
  }

  // ---- Port= (setsockaddroptions), then setupdaemon's default for port 0 ----
  let port = 0;
  if (portField !== undefined) {
    const v = portField.value;
    if (isDigit(v[0])) {
      const n = cAtoi(v);
      port = n & 0xffff; // htons((unsigned short) atoi(port))
      const clean = /^[0-9]+[ \t\n\v\f\r]*$/.test(v);
      if (!clean) {
        report('BC002', portField.valueStart, portField.end, `Port=${v} is not a number; sendmail reads the leading digits as ${n} (atoi)`);
      }
      if (n < 0 || n > 65535) {
        report('BC002', portField.valueStart, portField.end, `Port=${v.trim()} is out of range; sendmail truncates it to ${port} (unsigned short)`);
      }
      derivation.push(port === 0 ? `Port=${v.trim()} is 0` : `Port=${v.trim()} → ${port}`);
    } else {
      const r = ctx.services.lookup(v, 'tcp');
      if (r !== undefined) {
        port = r.port;
        derivation.push(`Port=${v}: ${ctx.services.describe(v, 'tcp')} (getservbyname)`);
      } else {
        const trimmed = v.replace(/[ \t\n\v\f\r]+$/, '');
        const hint = trimmed !== v && ctx.services.lookup(trimmed, 'tcp') ? ` (sendmail does not trim the blanks after ${show(trimmed)})` : '';
        report(
          'BC003',
          portField.valueStart,
          portField.end,
          `unknown service ${show(v)} in Port=${hint}: ${ctx.services.describe(v, 'tcp')}; sendmail logs \`service "${v}" unknown\` and falls back to the smtp port (daemon.c setsockaddroptions, setupdaemon)`,
        );
        derivation.push(`Port=${v}: unknown service (${ctx.services.describe(v, 'tcp')})`);
      }
    }
  }
  if (port === 0) {
    const smtp = ctx.services.lookup('smtp', 'tcp');
    port = smtp?.port ?? 25;
    derivation.push(
      `${portField === undefined ? 'no Port= given' : 'port 0'}: sendmail uses getservbyname("smtp", "tcp") (daemon.c setupdaemon): ${
        smtp ? ctx.services.describe('smtp', 'tcp') : `not found, so 25 (sendmail logs \`service "smtp" unknown\`)`
      }`,
    );
  }

  base.port = port;
  if (unresolved) {
    base.skippedReason = `Addr=${addrField?.value ?? ''} cannot be resolved offline`;
    derivation.push(base.skippedReason);
    return base;
  }
  base.address = address;
  derivation.push('sendmail sets SO_REUSEADDR (and SO_KEEPALIVE) on every daemon socket (daemon.c opendaemonsocket)');
  if (family === 'inet6') derivation.push('sendmail never sets IPV6_V6ONLY: net.ipv6.bindv6only decides');
  derivation.push('all daemon sockets are bound first, listen() follows on a second pass (daemon.c getrequests, opendaemonsocket firsttime)');

  base.socket = {
    daemon: ctx.daemon,
    name: finalName,
    defaultName: `Daemon${index}`,
    proto: 'tcp',
    family,
    address,
    port,
    reuseAddr: true,
    reusePort: false,
    uid: 0,
    listens: true,
    source: entry.anchor,
    derivation,
    optional,
    optionsKey: optionsKey(family, port, modifiers, fields),
  };
  if (entry.directive) base.socket.directive = entry.directive;
  return base;
}

/**
 * The daemon's options apart from Name= and Addr= (and Listen=, which clients never see), normalised:
 * family, port, the set of M= flags, and every other per-daemon setting in the order sendmail applies it
 * (a later field of the same key replaces an earlier one).
 */
function optionsKey(family: string, port: number, modifiers: string, fields: Field[]): string {
  const other = new Map<string, string>();
  for (const f of fields) {
    if ('AaFfLlMmNnPp'.includes(f.key)) continue;
    other.set(f.key, f.value.trim());
  }
  const flags = [...new Set(modifiers)].sort().join('');
  const rest = [...other.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
  return [`family=${family}`, `port=${port}`, `M=${flags}`, ...rest].join(';');
}

function familyText(n: number): string {
  return n === AF_INET ? 'AF_INET' : n === AF_INET6 ? 'AF_INET6' : n === AF_UNIX ? 'AF_UNIX' : `family ${n}`;
}

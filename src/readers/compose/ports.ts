/**
 * Compose `ports:` entries as Docker reads them. The short syntax goes through go-connections nat.ParsePortSpec
 * (compose-go types.ParsePortConfig calls it; dockerd 20.10.24 vendors the same code): `[IP:][HOST:]CONTAINER[/PROTO]`,
 * ranges on either side. The long syntax is a mapping (target, published, host_ip, protocol, mode). Pure functions:
 * a bad entry becomes a message in Docker's words, never an exception.
 */

export type PortProto = 'tcp' | 'udp' | 'sctp';

/** One port binding as dockerd receives it (a types.PortBinding before the bridge driver fills the host IP in). */
export interface PortBinding {
  /** Host IP as written (brackets removed); '' when none was given. */
  hostIp: string;
  /** First and last host port; both 0 when no host port was given (dockerd picks one from its ephemeral range). */
  hostPortStart: number;
  hostPortEnd: number;
  /** Container port. */
  target: number;
  proto: PortProto;
  /** Long syntax `mode:` (`host` or `ingress`); only swarm services tell them apart. */
  mode?: string;
}

export type PortParse = { ok: true; bindings: PortBinding[] } | { ok: false; message: string };

const PROTOS: readonly string[] = ['tcp', 'udp', 'sctp'];

/** nat.ParsePortRange: `N` or `N-M` with Go's strconv.ParseUint(…, 10, 16) on each side (digits only, ≤ 65535). */
export function parsePortRange(text: string): { start: number; end: number } | string {
  if (text === '') return 'Empty string specified for ports.';
  const uint16 = (s: string): number | undefined => {
    if (!/^[0-9]+$/.test(s)) return undefined;
    const n = Number(s);
    return n <= 65535 ? n : undefined;
  };
  if (!text.includes('-')) {
    const n = uint16(text);
    return n === undefined ? `invalid port ${text}` : { start: n, end: n };
  }
  // strings.Split(ports, "-"): only the first two parts count.
  const parts = text.split('-');
  const start = uint16(parts[0] as string);
  const end = uint16(parts[1] as string);
  if (start === undefined || end === undefined) return `invalid port range ${text}`;
  if (end < start) return `Invalid range specified for the Port: ${text}`;
  return { start, end };
}

/** nat.splitParts: the container port is after the last colon, the host port before it, the IP is the rest. */
function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  const container = parts[n - 1] as string;
  switch (n) {
    case 1:
      return ['', '', container];
    case 2:
      return ['', parts[0] as string, container];
    case 3:
      return [parts[0] as string, parts[1] as string, container];
    default:
      return [parts.slice(0, n - 2).join(':'), parts[n - 2] as string, container];
  }
}

/** nat.SplitProtoPort: `80/udp` → udp; no slash or nothing after it → tcp; anything after a second slash is ignored. */
function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw === '' || (parts[0] ?? '') === '') return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if ((parts[1] ?? '') === '') return ['tcp', parts[0] as string];
  return [parts[1] as string, parts[0] as string];
}

/**
 * Go's net.SplitHostPort(ip + ":") as nat.ParsePortSpec uses it to strip brackets: `[::1]` → `::1`, `127.0.0.1` →
 * itself; an unbracketed IPv6 address has too many colons and is refused.
 */
function stripBrackets(rawIp: string): string | undefined {
  if (rawIp === '') return '';
  if (rawIp.startsWith('[')) {
    const close = rawIp.indexOf(']');
    if (close !== rawIp.length - 1) return undefined;
    return rawIp.slice(1, close);
  }
  if (rawIp.includes(':') || rawIp.includes('[') || rawIp.includes(']')) return undefined;
  return rawIp;
}

/** Whether Go's net.ParseIP accepts the text (dotted quad without leading-zero octets, or an RFC 4291 IPv6 literal). */
export function isGoIp(ip: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    // Go 1.17+ refuses leading zeros in IPv4 octets ("010.0.0.1").
    return ip.split('.').every((o) => Number(o) <= 255 && (o === '0' || !o.startsWith('0')));
  }
  if (!ip.includes(':') || ip.includes('%')) return false;
  const v4Tail = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  let body = ip;
  if (v4Tail) {
    if (!isGoIp(v4Tail[2] as string)) return false;
    body = `${v4Tail[1] as string}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string): string[] | undefined => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0] as string);
  const right = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!left || !right) return false;
  const all = [...left, ...right];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length <= 7 : all.length === 8;
}

/** A short-syntax entry (`127.0.0.1:8080:80/udp`) → its bindings, as nat.ParsePortSpec expands it. */
export function parseShortPort(raw: string): PortParse {
  const [rawIp, hostPort, containerWithProto] = splitParts(raw);
  const [proto, containerPort] = splitProtoPort(containerWithProto);
  const ip = stripBrackets(rawIp);
  if (ip === undefined) return { ok: false, message: `Invalid ip address ${rawIp}` };
  if (ip !== '' && !isGoIp(ip)) return { ok: false, message: `Invalid ip address: ${ip}` };
  if (containerPort === '') return { ok: false, message: `No port specified: ${raw}<empty>` };
  const c = parsePortRange(containerPort);
  if (typeof c === 'string') return { ok: false, message: `Invalid containerPort: ${containerPort}` };
  let h = { start: 0, end: 0 };
  if (hostPort !== '') {
    const r = parsePortRange(hostPort);
    if (typeof r === 'string') return { ok: false, message: `Invalid hostPort: ${hostPort}` };
    h = r;
  }
  // "Allow host port range iff containerPort is not a range": then the host range is where dockerd allocates.
  if (hostPort !== '' && c.end - c.start !== h.end - h.start && c.end !== c.start) {
    return { ok: false, message: `Invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}` };
  }
  const p = proto.toLowerCase();
  if (!PROTOS.includes(p)) return { ok: false, message: `Invalid proto: ${proto}` };
  const bindings: PortBinding[] = [];
  for (let i = 0; i <= c.end - c.start; i++) {
    const b: PortBinding = { hostIp: ip, hostPortStart: 0, hostPortEnd: 0, target: c.start + i, proto: p as PortProto };
    if (hostPort !== '') {
      if (c.start === c.end && h.start !== h.end) {
        b.hostPortStart = h.start;
        b.hostPortEnd = h.end;
      } else {
        b.hostPortStart = h.start + i;
        b.hostPortEnd = h.start + i;
      }
    }
    bindings.push(b);
  }
  return { ok: true, bindings };
}

/** The long syntax's fields after interpolation, as plain values (numbers or strings as YAML gave them). */
export interface LongPortFields {
  target?: unknown;
  published?: unknown;
  host_ip?: unknown;
  protocol?: unknown;
  mode?: unknown;
  [key: string]: unknown;
}

const LONG_KEYS: readonly string[] = ['target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol'];

/**
 * A long-syntax entry → its binding. The compose-spec schema: `target` is required (integer or string of one),
 * `published` a string or integer (a port or a `N-M` range), `host_ip` an IP, `protocol` any string (dockerd
 * accepts tcp, udp and sctp), `mode` host or ingress; other keys (except `x-…`) are refused.
 */
export function parseLongPort(f: LongPortFields): PortParse {
  for (const k of Object.keys(f)) {
    if (!LONG_KEYS.includes(k) && !k.startsWith('x-')) return { ok: false, message: `additional property ${k} is not allowed` };
  }
  if (f.target === undefined || f.target === null) return { ok: false, message: 'target is required' };
  const t = portNumber(f.target);
  if (t === undefined) return { ok: false, message: `target must be a port number, not ${show(f.target)}` };
  let h = { start: 0, end: 0 };
  if (f.published !== undefined && f.published !== null && f.published !== '') {
    const r = parsePortRange(String(f.published));
    if (typeof r === 'string' || typeof f.published === 'boolean') return { ok: false, message: `Invalid hostPort: ${show(f.published)}` };
    h = r;
  }
  let ip = '';
  if (f.host_ip !== undefined && f.host_ip !== null) {
    ip = String(f.host_ip);
    if (ip !== '' && !isGoIp(ip)) return { ok: false, message: `Invalid ip address: ${ip}` };
  }
  const proto = f.protocol === undefined || f.protocol === null ? 'tcp' : String(f.protocol).toLowerCase();
  if (!PROTOS.includes(proto)) return { ok: false, message: `Invalid proto: ${show(f.protocol)}` };
  let mode: string | undefined;
  if (f.mode !== undefined && f.mode !== null) {
    mode = String(f.mode);
    if (mode !== 'host' && mode !== 'ingress') return { ok: false, message: `mode must be host or ingress, not ${mode}` };
  }
  const b: PortBinding = { hostIp: ip, hostPortStart: h.start, hostPortEnd: h.end, target: t, proto: proto as PortProto };
  if (mode !== undefined) b.mode = mode;
  return { ok: true, bindings: [b] };
}

function portNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined;
  if (typeof v === 'string' && /^[0-9]+$/.test(v)) {
    const n = Number(v);
    return n <= 65535 ? n : undefined;
  }
  return undefined;
}

function show(v: unknown): string {
  return typeof v === 'string' ? `"${v}"` : String(v);
}

/**
 * YAML 1.1's sexagesimal integers (`[1-9][0-9_]*(:[0-5]?[0-9])+`): PyYAML, which docker-compose v1 uses, reads an
 * unquoted `22:22` as 1342; yaml.v3 (compose v2) reads the string. Returns the number YAML 1.1 would give.
 */
export function base60Value(plain: string): number | undefined {
  if (!/^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+$/.test(plain)) return undefined;
  const sign = plain.startsWith('-') ? -1 : 1;
  let n = 0;
  for (const part of plain.replace(/^[-+]/, '').split(':')) n = n * 60 + Number(part.replace(/_/g, ''));
  return sign * n;
}

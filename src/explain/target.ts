import { tryCanonicalAddress } from '../kernel/index.js';
import type { Proto } from '../model/endpoint.js';

/** What the user asked `why` about. */
export type WhyTarget =
  | { kind: 'unit'; raw: string; /** without `.service` / `.socket` */ name: string; unit: string }
  | { kind: 'port'; raw: string; proto?: Proto; address?: string; port: number }
  | { kind: 'log-line'; raw: string };

const UNIT = /^[A-Za-z0-9_.@:-]+$/;

/**
 * `sendmail`, `sendmail.service` → unit; `25`, `tcp/25`, `127.0.0.1:25`, `[::1]:25`, `udp/[::]:53` → port;
 * anything else (a pasted log line) → log-line.
 */
export function parseWhyTarget(raw: string): WhyTarget | { error: string } {
  const t = raw.trim();
  if (t.length === 0) return { error: 'the target is empty: give a unit, a port or a log line' };
  const m = /^(?:(tcp|udp)\/)?(?:(\[[0-9A-Fa-f:.]+\]|[0-9.]+):)?(\d{1,5})$/.exec(t);
  if (m) {
    const port = Number(m[3]);
    if (port > 65535) return { error: `port ${port} is out of range` };
    const out: WhyTarget = { kind: 'port', raw, port };
    if (m[1]) out.proto = m[1] as Proto;
    if (m[2]) {
      const addr = tryCanonicalAddress(m[2].replace(/^\[|\]$/g, ''));
      if (addr === undefined) return { error: `${m[2]} is not an IP address` };
      out.address = addr;
    }
    return out;
  }
  if (UNIT.test(t) && !/^\d/.test(t)) {
    const name = t.replace(/\.(service|socket)$/, '');
    return { kind: 'unit', raw, name, unit: /\.(service|socket)$/.test(t) ? t : `${t}.service` };
  }
  return { kind: 'log-line', raw };
}

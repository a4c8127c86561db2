import type { LiveSocket } from '../model/live.js';
import type { DaemonPlan, PlannedSocket } from '../model/planned.js';

/** The `.socket` unit whose Listen line asked for a live socket that pid 1 holds. */
export interface SocketUnitHolder {
  unit: string;
  socket: PlannedSocket;
  /** The Listen line as written (`ListenStream=22`). */
  directive: string;
}

/** The socket-units reader's daemon name (src/readers/socket-units); kept here so analysis needs no reader import. */
const SOCKET_UNIT_DAEMON = 'systemd-socket';

/**
 * Whether pid 1 — the system manager — holds the socket. systemd creates a socket unit's sockets itself and keeps
 * them open while the unit is active, also after it handed them to the service (which then holds them too).
 */
export function heldByPid1(live: LiveSocket): boolean {
  return live.owners.some((p) => p.pid === 1 && p.comm === 'systemd');
}

/**
 * Trace a live socket held by pid 1 back to the enabled `.socket` unit whose Listen line asks for exactly that
 * endpoint (protocol, family, address, port), from the plans the socket-units reader made. Undefined when pid 1 does
 * not hold it or no enabled unit asks for it (a unit started by hand, or one changed since boot).
 */
export function socketUnitHolder(live: LiveSocket, plans: readonly DaemonPlan[]): SocketUnitHolder | undefined {
  if (!heldByPid1(live)) return undefined;
  for (const plan of plans) {
    if (plan.daemon !== SOCKET_UNIT_DAEMON) continue;
    const s = plan.sockets.find((x) => x.proto === live.proto && x.family === live.family && x.address === live.address && x.port === live.port);
    if (!s) continue;
    const written = s.directive?.lines.map((l) => l.trim()).join(' ');
    return { unit: plan.units[0] ?? s.name, socket: s, directive: written ?? `${s.proto === 'tcp' ? 'ListenStream' : 'ListenDatagram'}=…` };
  }
  return undefined;
}

/** ` for ssh.socket (ListenStream=22 at /lib/systemd/system/ssh.socket:7)`, or '' when the holder is not traced. */
export function socketUnitHolderSuffix(live: LiveSocket, plans: readonly DaemonPlan[] | undefined): string {
  const h = plans ? socketUnitHolder(live, plans) : undefined;
  if (!h) return '';
  return ` for ${h.unit} (${h.directive} at ${h.socket.source.file}:${h.socket.source.line})`;
}

import type { DaemonReader } from '../index.js';
import { readSocketUnits } from './read-socket-units.js';

export { readSocketUnits } from './read-socket-units.js';
export type { SocketUnitInfo, SocketUnitPort, SocketUnitsReadResult, ListenKind } from './read-socket-units.js';
export { parseListenAddress, parseIpPort } from './listen-address.js';
export type { ListenAddress } from './listen-address.js';
export { findEnabledSocketUnits } from './enabled.js';
export type { EnabledSocketUnit } from './enabled.js';
export { SOCKET_UNIT_BEHAVIOUR, parseSystemdBoolean } from './behaviour.js';

/**
 * systemd's `.socket` units as a daemon: every enabled socket unit is one plan (its `units` the socket unit's
 * name), its sockets created by pid 1. The units are found by the reader itself (`*.wants/` links), so `units` here,
 * the service units a reader's config path comes from, is empty.
 */
export const socketUnitsReader: DaemonReader = {
  daemon: 'systemd-socket',
  units: [],
  read: (fs) => {
    const r = readSocketUnits(fs);
    return { plans: r.plans, findings: r.findings, sources: r.sources, found: r.found };
  },
};

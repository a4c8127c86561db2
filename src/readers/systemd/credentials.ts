import type { RootFs } from '../../fs/root-fs.js';
import type { Location } from '../../model/location.js';
import { unitValue, unitValues, type UnitFile } from './units.js';

/** Who a unit's main process binds as, as far as privileged ports are concerned. */
export interface UnitCredentials {
  /** uid from `User=` (resolved in the root's /etc/passwd); undefined: root. */
  uid?: number;
  /** Whether the process holds CAP_NET_BIND_SERVICE; undefined when the unit says nothing that changes it. */
  capNetBindService?: boolean;
  derivation: string[];
}

const CAP = 'CAP_NET_BIND_SERVICE';

/**
 * `User=`, `CapabilityBoundingSet=` and `AmbientCapabilities=` (systemd.exec(5)): several lines are merged — by OR,
 * or by AND NOT when prefixed with `~`; the first plain line replaces the full default set. A non-root user holds
 * a capability only as an ambient one that is also in the bounding set; root holds what the bounding set keeps.
 */
export function unitCredentials(unit: UnitFile, fs: RootFs): UnitCredentials {
  const out: UnitCredentials = { derivation: [] };
  const where = (l: Location): string => `${l.file}:${l.line}`;
  const merged = (key: string, initial: boolean): { has: boolean; set: boolean; at?: Location } => {
    let has = initial;
    let set = false;
    let at: Location | undefined;
    for (const v of unitValues(unit, 'Service', key)) {
      const text = v.value.trim();
      const inverted = text.startsWith('~');
      const listed = text.replace(/^~/, '').split(/\s+/).some((c) => c.toUpperCase() === CAP);
      if (inverted) has = has && !listed;
      else has = set ? has || listed : listed;
      set = true;
      at = v.location;
    }
    return at ? { has, set, at } : { has, set };
  };
  const bounding = merged('CapabilityBoundingSet', true);
  const ambient = merged('AmbientCapabilities', false);
  const user = unitValue(unit, 'Service', 'User');
  let uid: number | undefined;
  if (user && user.value !== 'root' && user.value !== '0') {
    uid = /^\d+$/.test(user.value) ? Number(user.value) : lookupUid(fs, user.value);
    if (uid === undefined) {
      out.derivation.push(`User=${user.value} (${where(user.location)}) is not in the root's /etc/passwd: taken as an unprivileged uid`);
      uid = 65534;
    } else out.derivation.push(`User=${user.value} (${where(user.location)}): binds as uid ${uid}`);
    out.uid = uid;
  }
  if (uid !== undefined) {
    out.capNetBindService = ambient.has && bounding.has;
    out.derivation.push(
      out.capNetBindService
        ? `${CAP} is an ambient capability (${ambient.at ? where(ambient.at) : ''}): privileged ports allowed`
        : `no ambient ${CAP}${bounding.has ? '' : ' (and it is not in the bounding set)'}: ports below ip_unprivileged_port_start are refused`,
    );
  } else if (bounding.set && !bounding.has) {
    out.capNetBindService = false;
    out.derivation.push(`CapabilityBoundingSet (${bounding.at ? where(bounding.at) : ''}) leaves out ${CAP}: even root cannot bind ports below ip_unprivileged_port_start`);
  }
  return out;
}

function lookupUid(fs: RootFs, name: string): number | undefined {
  const r = fs.readText('/etc/passwd');
  if (!r.ok) return undefined;
  for (const line of r.text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  return undefined;
}

import type { Location } from './location.js';

/** One dependency of a unit on another, with the line that asked for it. */
export interface UnitDependency {
  /** The other unit's id (aliases resolved when the other unit could be read). */
  unit: string;
  /** The assignment (`After=…` line) or symlink that made it; for one systemd adds itself, the unit's fragment. */
  source: Location;
  /** The setting as written (`After=network.target apache2.service`), or what systemd added and why. */
  text: string;
  /** Set when systemd adds the dependency itself (DefaultDependencies=yes, a `.wants/` symlink, socket → service). */
  implicit?: boolean;
}

/** A systemd unit as the boot transaction sees it: what it starts with it and what it is ordered against. */
export interface UnitNode {
  id: string;
  /** Other names (alias symlinks) that lead to this unit. */
  aliases: string[];
  state: 'loaded' | 'masked' | 'not-found';
  /** The unit file (or the mask: a symlink to /dev/null, or an empty file). */
  fragment?: Location;
  /** Service `Type=` (`simple` when unset); undefined for other unit types. */
  serviceType?: string;
  /** `After=` (and systemd's own additions): this unit starts after those. */
  after: UnitDependency[];
  /** `Before=` (and systemd's own additions): this unit starts before those. */
  before: UnitDependency[];
  /** Requires=, Wants=, BindsTo=, Upholds= and the `.wants/`, `.requires/`, `.upholds/` directories. */
  pulls: UnitDependency[];
  /** `Conflicts=`: starting this unit stops those. */
  conflicts: UnitDependency[];
}

/** The units a boot can reach: default.target and what it pulls in, plus the daemons' own units. */
export interface UnitGraph {
  /** Sorted by id. */
  units: UnitNode[];
  /** What default.target resolves to, when the root has one. */
  defaultTarget?: { id: string; source: Location };
  /** Set when reading stopped at the unit limit: the graph (and so the boot set) is incomplete. */
  truncated?: boolean;
}

import type { Finding } from './finding.js';
import type { HostFacts, LiveSocket } from './live.js';
import type { DaemonPlan } from './planned.js';
import type { UnitFacts } from './runtime.js';
import type { Location } from './location.js';
import type { MailerFacts } from './mailers.js';
import type { UnitGraph } from './unit-graph.js';

/** What a scan could not see, and why ("owner of sockets needs root"). */
export interface UnseenNote {
  what: string;
  why: string;
}

/** Everything the readers produced, frozen before the checks run. Checks never open files. */
export interface Inventory {
  /** The scanned root (`/` for the live host). */
  root: string;
  /** Whether this is the live host (its /proc describes the running system). */
  live: boolean;
  daemons: DaemonPlan[];
  /** The daemons' systemd units as the root's unit files define them. */
  units: UnitFacts[];
  /** The systemd units a boot starts and how they are ordered (for which of two daemons starts first), when read. */
  unitGraph?: UnitGraph;
  /** The distribution, from the root's os-release (it decides default config paths). */
  distro?: { id: string; family: string; prettyName?: string; source: Location };
  /** Which mail transfer agent the root runs, and where locally submitted mail goes. */
  mailers?: MailerFacts;
  liveSockets: LiveSocket[];
  hostFacts: HostFacts;
  /** Text of every config file read, keyed by the path as the daemon sees it (for code frames and fixes). */
  sources: ReadonlyMap<string, string>;
  /** Input problems found while reading (BC0xx). */
  inputFindings: Finding[];
  unseen: UnseenNote[];
}

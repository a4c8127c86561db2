import type { DaemonReader } from '../index.js';
import { readResolved } from './read-resolved.js';

export { readResolved, stubMode, resolveSupport } from './read-resolved.js';
export type { ResolvedExtra, ResolvedReadResult, ResolvedSetting, ResolveSupport, StubMode } from './read-resolved.js';
export { RESOLVED_BEHAVIOUR, RESOLVED_KEYS } from './behaviour.js';
export { parseConfLines } from './conf-lines.js';
export type { ConfAssignment, ConfParse, ConfProblem } from './conf-lines.js';
export { parseExtraListener, parseIpPort, extraPort } from './extra-listener.js';
export type { ExtraListener } from './extra-listener.js';

/** systemd-resolved's reader. Its unit passes no options (ExecStart=!!/lib/systemd/systemd-resolved). */
export const resolvedReader: DaemonReader = {
  daemon: 'systemd-resolved',
  units: ['systemd-resolved.service'],
  read: (fs) => readResolved(fs),
};

import type { DaemonReader } from '../index.js';
import { POSTFIX_UNITS, readPostfix } from './read-postfix.js';

export { readPostfix, POSTFIX_CONFIG_DIR, POSTFIX_UNITS } from './read-postfix.js';
export type { PostfixReadResult, PostfixService } from './read-postfix.js';
export { POSTFIX_BEHAVIOUR } from './behaviour.js';
export { POSTFIX_DEFAULTS, ParamEvaluator, parseMainCf } from './main-cf.js';
export type { MainCf, MainCfParam } from './main-cf.js';
export { parseMasterCf, splitServiceName } from './master-cf.js';
export type { MasterEntry } from './master-cf.js';

/** postfix's master(8): main.cf + master.cf in the config directory (`postfix -c DIR` via `configPath`). */
export const postfixReader: DaemonReader = {
  daemon: 'postfix',
  units: POSTFIX_UNITS,
  read: (fs, opts) => readPostfix(fs, opts),
};

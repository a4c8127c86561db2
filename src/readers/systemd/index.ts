export {
  readUnit,
  findUnits,
  unitSearchPath,
  unitValue,
  unitValues,
  expandSpecifiers,
  splitUnitName,
  isValidUnitName,
  UNIT_SEARCH_PATH,
} from './units.js';
export type { UnitFile, UnitValue, UnitEntry, ReadUnitResult } from './units.js';
export { parseUnitText, splitWords } from './unit-syntax.js';
export type { UnitAssignment, ParsedUnitText } from './unit-syntax.js';
export { parseEnvFile, isValidEnvName } from './environment.js';
export type { EnvFileEntry, ParsedEnvFile } from './environment.js';
export { expandExecStart, expandArgv, parseExecLine, serviceEnvironment, splitEnvValue } from './exec.js';
export type { ExpandedExecStart, ExecCommand, EnvValue, Substitution } from './exec.js';
export { daemonArgs, daemonForExecutable, DAEMON_EXECUTABLES } from './daemon-args.js';
export type { DaemonArgs, ConfigArg, ArgOverride } from './daemon-args.js';
export { unitCredentials, type UnitCredentials } from './credentials.js';

import type { DaemonReader } from '../index.js';
import { readDovecot } from './read-dovecot.js';

export { readDovecot, fixRelativePath } from './read-dovecot.js';
export type { DovecotInetListener, DovecotReadOptions, DovecotReadResult, DovecotService, DovecotSetting } from './read-dovecot.js';
export { DOVECOT_BEHAVIOUR, KNOWN_SERVICES } from './behaviour.js';
export { lexDovecotConf } from './conf-lexer.js';
export type { ConfStatement } from './conf-lexer.js';
export { rootGlob, expandBraces } from '../common/root-glob.js';

/** Dovecot's reader, for the lead to register in src/readers/index.ts. */
export const dovecotReader: DaemonReader = {
  daemon: 'dovecot',
  units: ['dovecot.service'],
  read: (fs, opts) => readDovecot(fs, opts.configPath !== undefined ? { configPath: opts.configPath } : {}),
};

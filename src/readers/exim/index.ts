import type { DaemonReader } from '../index.js';
import { readExim } from './read-exim.js';

export { readExim, EXIM_CONFIG_SEARCH, EXIM_LOG_FILES, DEBIAN_UE4CC, DEBIAN_TEMPLATE, DEBIAN_LOCALMACROS, DEBIAN_CONFD_MAIN } from './read-exim.js';
export type { EximReadOptions, EximReadResult, EximSettings, EximConfigOrigin } from './read-exim.js';
export { EXIM_BEHAVIOUR, eximLogAddress } from './behaviour.js';
export { lexEximConfig, directiveOf, BUILTIN_MACROS } from './config-lexer.js';
export type { LexResult, LogicalLine, MacroDef, LexOptions } from './config-lexer.js';
export { splitEximList, extractPort, strtolPrefix, parseEximTime, parseEximInt, readEximString } from './lists.js';

/** The exim reader as bindcheck's scan uses it (Debian's exim4 layout; `configPath` is exim's -C). */
export const eximReader: DaemonReader = {
  daemon: 'exim',
  units: ['exim4.service'],
  read: (fs, opts) => {
    const r = readExim(fs, opts.configPath !== undefined ? { configPath: opts.configPath } : {});
    return { plans: r.plans, findings: r.findings, sources: r.sources, found: r.found };
  },
};

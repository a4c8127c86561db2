import type { DaemonReader } from '../index.js';
import { readApache } from './read-apache.js';

export { readApache, parseAddrPort, globApache } from './read-apache.js';
export type { ApacheListen, ApacheReadOptions, ApacheReadResult } from './read-apache.js';
export { APACHE_BEHAVIOUR } from './behaviour.js';
export { lexApacheConf, splitArgs } from './config-lexer.js';
export type { ApacheLine } from './config-lexer.js';

/** Apache httpd's reader (Debian's apache2 and RHEL's httpd layouts), for the lead to register in src/readers/index.ts. */
export const apacheReader: DaemonReader = {
  daemon: 'apache',
  units: ['apache2.service', 'httpd.service'],
  read: (fs, opts) => {
    const o: { configPath?: string; argv?: string[] } = {};
    if (opts.configPath !== undefined) o.configPath = opts.configPath;
    if (opts.argv !== undefined) o.argv = opts.argv;
    return readApache(fs, o);
  },
};

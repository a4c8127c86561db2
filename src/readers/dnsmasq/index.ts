import type { DaemonReader } from '../index.js';
import { readDnsmasq } from './read-dnsmasq.js';

export { readDnsmasq, wildcardMatch, debianHelperArgv, COMMAND_LINE_FILE } from './read-dnsmasq.js';
export type { DnsmasqBindMode, DnsmasqReadOptions, DnsmasqReadResult } from './read-dnsmasq.js';
export { DNSMASQ_BEHAVIOUR } from './behaviour.js';
export { splitDnsmasqConf } from './conf-lines.js';
export type { DnsmasqLine } from './conf-lines.js';

/** dnsmasq's reader, registered in src/readers/index.ts. */
export const dnsmasqReader: DaemonReader = {
  daemon: 'dnsmasq',
  units: ['dnsmasq.service'],
  read: (fs, opts) => {
    const o: { configPath?: string; argv?: string[] } = {};
    if (opts.configPath !== undefined) o.configPath = opts.configPath;
    if (opts.argv !== undefined) o.argv = opts.argv;
    return readDnsmasq(fs, o);
  },
};

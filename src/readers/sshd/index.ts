import type { DaemonReader } from '../index.js';
import { readSshd } from './read-sshd.js';

export { readSshd, splitHostPort, a2port, COMMAND_LINE_FILE } from './read-sshd.js';
export type { SshdListenAddress, SshdPort, SshdReadOptions, SshdReadResult } from './read-sshd.js';
export { SSHD_BEHAVIOUR, SSHD_KEYWORDS } from './behaviour.js';
export { splitSshdConfig } from './config-lines.js';
export type { SshdArg, SshdLine } from './config-lines.js';

/** OpenSSH's reader, for the lead to register in src/readers/index.ts. */
export const sshdReader: DaemonReader = {
  daemon: 'sshd',
  units: ['ssh.service', 'sshd.service'],
  read: (fs, opts) => {
    const o: { configPath?: string; argv?: string[] } = {};
    if (opts.configPath !== undefined) o.configPath = opts.configPath;
    if (opts.argv !== undefined) o.argv = opts.argv;
    return readSshd(fs, o);
  },
};

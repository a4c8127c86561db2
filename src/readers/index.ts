import type { RootFs } from '../fs/root-fs.js';
import type { Finding } from '../model/finding.js';
import type { DaemonPlan } from '../model/planned.js';
import { apacheReader } from './apache/index.js';
import { dnsmasqReader } from './dnsmasq/index.js';
import { composeReader } from './compose/index.js';
import { dovecotReader } from './dovecot/index.js';
import { eximReader } from './exim/index.js';
import { haproxyReader } from './haproxy/index.js';
import { nginxReader } from './nginx/index.js';
import { postfixReader } from './postfix/index.js';
import { resolvedReader } from './resolved/index.js';
import { readSendmail } from './sendmail/index.js';
import { sshdReader } from './sshd/index.js';
import { socketUnitsReader } from './socket-units/index.js';

/** What one daemon reader returns: plans for each instance found, input problems, and the texts it read. */
export interface ReaderResult {
  plans: DaemonPlan[];
  findings: Finding[];
  sources: Map<string, string>;
  /** Whether the daemon's configuration exists in this root at all. */
  found: boolean;
}

export interface ReadOptions {
  /** The config file the daemon's command line names (from its systemd unit); the default path otherwise. */
  configPath?: string;
  /**
   * The daemon's whole command line from its systemd unit (ExecStart, Environment expanded), for overrides given
   * there (`sshd -p 2222`, `nginx -g 'daemon off;'`, `exim -oX`, `dnsmasq -p 5353`); undefined when no unit says.
   */
  argv?: string[];
}

export interface DaemonReader {
  daemon: string;
  /** systemd units that run this daemon, as distributions name them. */
  units: readonly string[];
  read(fs: RootFs, opts: ReadOptions): ReaderResult;
}

/** Every daemon reader, in a fixed order (reports list daemons in this order). */
export const READERS: readonly DaemonReader[] = [
  {
    daemon: 'sendmail',
    units: ['sendmail.service'],
    read: (fs, opts) => readSendmail(fs, opts.configPath !== undefined ? { configPath: opts.configPath } : {}),
  },
  postfixReader,
  eximReader,
  dovecotReader,
  sshdReader,
  nginxReader,
  apacheReader,
  haproxyReader,
  dnsmasqReader,
  composeReader,
  resolvedReader,
  socketUnitsReader,
];

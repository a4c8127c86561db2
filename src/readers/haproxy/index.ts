import type { DaemonReader } from '../index.js';
import { readHaproxy } from './read-haproxy.js';

export { readHaproxy } from './read-haproxy.js';
export type { HaproxyBind, HaproxyReadResult, ProxyType } from './read-haproxy.js';
export { HAPROXY_BEHAVIOUR, BIND_KEYWORDS } from './behaviour.js';
export { lexHaproxyConfig, lexHaproxyLine } from './config-lexer.js';
export type { HaproxyLine, HaproxyWord } from './config-lexer.js';
export { parseBindAddress, splitBindAddresses } from './address.js';
export type { BindTarget } from './address.js';

/** haproxy's reader: `-f` files and directories from the unit's ExecStart, /etc/haproxy/haproxy.cfg otherwise. */
export const haproxyReader: DaemonReader = {
  daemon: 'haproxy',
  units: ['haproxy.service'],
  read: (fs, opts) => readHaproxy(fs, opts),
};

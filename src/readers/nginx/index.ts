import type { DaemonReader } from '../index.js';
import { readNginx } from './read-nginx.js';

export { readNginx } from './read-nginx.js';
export type { ListenContext, NginxAddress, NginxListen, NginxReadResult } from './read-nginx.js';
export { NGINX_BEHAVIOUR, BIND_PARAMS } from './behaviour.js';
export { lexNginxConf } from './conf-lexer.js';
export type { ConfDirective, ConfToken, LexResult } from './conf-lexer.js';
export { parseListenAddress } from './listen.js';

/** nginx's reader, for the lead to register in src/readers/index.ts. `argv` (ExecStart) supplies -c and -g. */
export const nginxReader: DaemonReader = {
  daemon: 'nginx',
  units: ['nginx.service'],
  read: (fs, opts) => readNginx(fs, opts),
};

export { readSendmail, SENDMAIL_CF, SENDMAIL_MC } from './read-sendmail.js';
export type { McOutOfDate, SendmailReadOptions, SendmailReadResult } from './read-sendmail.js';
export type { SendmailDaemon } from './port-options.js';
export { SENDMAIL_BEHAVIOUR } from './behaviour.js';
export type { SendmailMessageKey } from './behaviour.js';
export { scanCf, resolveOptionName } from './cf-lexer.js';
export type { DaemonOptionsEntry } from './cf-lexer.js';
export { scanMc } from './mc-lexer.js';
export type { McDaemonOptions } from './mc-lexer.js';

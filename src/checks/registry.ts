import { bc001 } from './bc001-config-unreadable.js';
import { bc002 } from './bc002-config-syntax-error.js';
import { bc003 } from './bc003-unknown-port-name.js';
import { bc004 } from './bc004-include-problem.js';
import { bc005 } from './bc005-unknown-option.js';
import { bc101 } from './bc101-wildcard-covers-specific.js';
import { bc102 } from './bc102-duplicate-listen-address.js';
import { bc103 } from './bc103-daemons-share-port.js';
import { bc104 } from './bc104-mail-submission-unserved.js';
import { bc201 } from './bc201-port-held-by-other-process.js';
import { bc202 } from './bc202-address-not-local.js';
import { bc203 } from './bc203-privileged-port.js';
import { bc401 } from './bc401-reuseport-shared-listener.js';
import { bc402 } from './bc402-listener-silently-skipped.js';
import { bc403 } from './bc403-ipv4-not-served.js';
import { bc405 } from './bc405-server-answers-nobody.js';
import { bc406 } from './bc406-listen-config-ignored.js';
import type { Check, CheckContext } from './types.js';
import type { Finding } from '../model/finding.js';

/** Every check, sorted by code. Codes are permanent; a retired code is never reused. */
export const CHECKS: readonly Check[] = [bc001, bc002, bc003, bc004, bc005, bc101, bc102, bc103, bc104, bc201, bc202, bc203, bc401, bc402, bc403, bc405, bc406];

export function runChecks(ctx: CheckContext, checks: readonly Check[] = CHECKS): Finding[] {
  return checks.flatMap((c) => c.run(ctx));
}

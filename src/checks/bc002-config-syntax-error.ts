import { inputCheck } from './input-check.js';

export const bc002 = inputCheck('BC002', 'A listen directive is malformed or names an address the daemon cannot use, so the daemon will reject or misread it.');

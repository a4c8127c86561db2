import { INPUT_CODES, type InputCode } from '../readers/common/input-finding.js';
import type { Check } from './types.js';

/** Input problems are found by readers while reading; their checks only select them by code. */
export function inputCheck(code: InputCode, summary: string): Check {
  const meta = INPUT_CODES[code];
  return {
    code,
    name: meta.name,
    summary,
    severity: meta.severity,
    fixable: false,
    inputs: ['config'],
    run: (ctx) => ctx.inventory.inputFindings.filter((f) => f.code === code),
  };
}

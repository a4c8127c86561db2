import { inputCheck } from './input-check.js';

export const bc004 = inputCheck('BC004', 'An include names a file that is missing, loops back on itself or escapes the scanned root.');

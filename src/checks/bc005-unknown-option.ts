import { inputCheck } from './input-check.js';

export const bc005 = inputCheck('BC005', 'A listen directive carries an option the daemon does not know; the daemon ignores or rejects it.');

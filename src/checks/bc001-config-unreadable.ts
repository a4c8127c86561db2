import { inputCheck } from './input-check.js';

export const bc001 = inputCheck('BC001', 'A daemon config file exists but cannot be read (permissions, not a regular file, too large, symlink loop).');

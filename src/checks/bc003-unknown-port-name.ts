import { inputCheck } from './input-check.js';

export const bc003 = inputCheck('BC003', 'A port is given by a service name that the scanned root\'s /etc/services does not define.');

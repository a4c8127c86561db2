export { readLiveSockets, type LiveSocketTable, type ReadLiveSocketsOptions } from './read-live-sockets.js';
export { readHostFacts, parseFibTrieLocal, parseIfInet6 } from './host-facts.js';
export { parseProcNet, hexToIPv4, hexToIPv6, ipv6Text, type ProcNetRow } from './proc-net.js';
export { systemdUnit, cmdlineText, statusUid } from './process-info.js';
export { assumedHostFacts } from './assumed-facts.js';

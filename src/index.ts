import { toJsonReport, type JsonReport } from './reporters/json.js';
import { scanInventory, type ScanOptions } from './run.js';
import { packageVersion } from './version.js';

export type { Analysis, PairConflict } from './analysis/analyze.js';
export type { DaemonPrediction, SocketOutcome } from './analysis/startup.js';
export { CHECKS } from './checks/registry.js';
export type { Check, CheckContext } from './checks/types.js';
export { RootFs } from './fs/root-fs.js';
export * from './kernel/index.js';
export { readHostFacts, readLiveSockets } from './live/index.js';
export type * from './model/index.js';
export { formatEndpoint, formatLocation } from './model/index.js';
export { READERS } from './readers/index.js';
export { readSendmail } from './readers/sendmail/index.js';
export { toJsonReport, type JsonReport } from './reporters/json.js';
export { renderText } from './reporters/text.js';
export { scanInventory, type ExtraLiveSocket, type ScanOptions, type ScanResult } from './run.js';

/** Scan a root (the live host by default) and return the versioned JSON report. */
export async function scan(opts: ScanOptions = {}): Promise<JsonReport> {
  return toJsonReport(scanInventory(opts), packageVersion());
}

/** Where a fact came from. Paths are as the daemon sees them (absolute inside the scanned root). */
export interface Location {
  /** Absolute path as seen from inside the root, e.g. `/etc/mail/sendmail.cf`, or a pseudo-source like `/proc/net/tcp`. */
  file: string;
  /** 1-based line; 0 when the fact concerns the whole file. */
  line: number;
  /** 1-based column, when known. */
  column?: number;
  /** 1-based end column (exclusive) on the same line, when known. */
  endColumn?: number;
  /** The include chain that led to this file, outermost first (each item is the include directive's location). */
  includedFrom?: Location[];
}

export function formatLocation(loc: Location): string {
  if (loc.line <= 0) return loc.file;
  return loc.column !== undefined ? `${loc.file}:${loc.line}:${loc.column}` : `${loc.file}:${loc.line}`;
}

import { constants as osConstants } from 'node:os';

/** `98` → `EADDRINUSE`; a name stays a name. strace prints names, the harness's helpers may print numbers. */
export function errnoName(e: string | number): string {
  if (typeof e === 'string') return e;
  const hit = Object.entries(osConstants.errno).find(([, n]) => n === e);
  return hit ? hit[0] : String(e);
}

/**
 * Run each scenario's real daemon once, however many tests look at it: the first call starts it, later calls
 * share the same promise (scenarios run concurrently, each in its own namespace).
 */
export function observeOnce<S extends { id: string }, O>(run: (sc: S) => Promise<O>): (sc: S) => Promise<O> {
  const seen = new Map<string, Promise<O>>();
  return (sc) => {
    let p = seen.get(sc.id);
    if (!p) {
      p = run(sc);
      seen.set(sc.id, p);
    }
    return p;
  };
}

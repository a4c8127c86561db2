/**
 * Append every item of `items` to `into`. `into.push(...items)` passes each item as an argument, and more than
 * ~120k arguments overflow the stack: a damaged 10 MB config yields that many findings, a busy host that many
 * sockets, a large log that many events.
 */
export function appendAll<T>(into: T[], items: Iterable<T>): void {
  for (const item of items) into.push(item);
}

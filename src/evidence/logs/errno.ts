import type { Family } from '../../model/index.js';

/**
 * strerror() texts (glibc) and libuv's lower-case texts (Node's `address already in use`) of the errnos a bind or
 * listen can fail with, and their Linux numbers (asm-generic/errno.h).
 */
const ERRNOS: { name: string; number: number; texts: string[] }[] = [
  { name: 'EADDRINUSE', number: 98, texts: ['address already in use'] },
  { name: 'EADDRNOTAVAIL', number: 99, texts: ['cannot assign requested address', 'address not available'] },
  { name: 'EACCES', number: 13, texts: ['permission denied'] },
  { name: 'EPERM', number: 1, texts: ['operation not permitted'] },
  { name: 'EAFNOSUPPORT', number: 97, texts: ['address family not supported by protocol', 'address family not supported'] },
  { name: 'EINVAL', number: 22, texts: ['invalid argument'] },
  { name: 'EBADF', number: 9, texts: ['bad file descriptor'] },
  { name: 'ENODEV', number: 19, texts: ['no such device'] },
  { name: 'EMFILE', number: 24, texts: ['too many open files'] },
  { name: 'ENFILE', number: 23, texts: ['too many open files in system'] },
  { name: 'ENOBUFS', number: 105, texts: ['no buffer space available'] },
  { name: 'EOPNOTSUPP', number: 95, texts: ['operation not supported'] },
];

/** errno name for a strerror text (case-insensitive, trailing punctuation ignored). */
export function errnoFromText(text: string): string | undefined {
  const t = text.trim().replace(/[.)\s]+$/, '').toLowerCase();
  for (const e of ERRNOS) if (e.texts.includes(t)) return e.name;
  return undefined;
}

/** errno name for a text that contains a strerror text somewhere. */
export function errnoInText(text: string): string | undefined {
  const t = text.toLowerCase();
  for (const e of ERRNOS) for (const s of e.texts) if (t.includes(s)) return e.name;
  return undefined;
}

export function errnoFromNumber(n: number): string | undefined {
  return ERRNOS.find((e) => e.number === n)?.name;
}

export function isErrnoName(s: string): boolean {
  return ERRNOS.some((e) => e.name === s);
}

export function familyOf(address: string): Family {
  return address.includes(':') ? 'inet6' : 'inet';
}

import { readFileSync } from 'node:fs';

/** The package version, read from package.json next to src/ or dist/. */
export function packageVersion(): string {
  const raw = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const v = (JSON.parse(raw) as { version?: unknown }).version;
  return typeof v === 'string' ? v : '0.0.0';
}

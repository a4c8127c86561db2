import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeForTerminal, escapeProcessText } from '../../src/text/escape.js';

const DANGEROUS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;

describe('escapeForTerminal', () => {
  it('escapes ANSI escapes, C1 controls, newlines and bidi overrides', () => {
    expect(escapeForTerminal('\u001b[31mred\u001b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(escapeForTerminal('a\nb\rc')).toBe('a\\x0ab\\x0dc');
    expect(escapeForTerminal('\u009b2J')).toBe('\\x9b2J');
    expect(escapeForTerminal('admin\u202etxt.exe')).toBe('admin\\u{202e}txt.exe');
    expect(escapeForTerminal('tab\tkept')).toBe('tab\tkept');
  });

  it('escapes soft hyphens, word joiners and annotation marks; process text also doubles backslashes', () => {
    expect(escapeForTerminal('a\u00adb\u2060c\ufff9d')).toBe('a\\xadb\\u{2060}c\\u{fff9}d');
    expect(escapeForTerminal('E=\\r\\n')).toBe('E=\\r\\n');
    expect(escapeProcessText('x\\y\u001b')).toBe('x\\\\y\\x1b');
  });

  it('never lets a dangerous character through, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(DANGEROUS.test(escapeForTerminal(s))).toBe(false);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });
});

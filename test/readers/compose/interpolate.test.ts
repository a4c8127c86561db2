import { describe, expect, it } from 'vitest';
import { interpolate, parseDotEnv } from '../../../src/readers/compose/index.js';

const env = new Map([
  ['PORT', '8080'],
  ['EMPTY', ''],
  ['IP', '127.0.0.1'],
]);

describe('interpolate (compose-spec Interpolation)', () => {
  it.each<[string, string]>([
    ['${PORT}:80', '8080:80'],
    ['$PORT:80', '8080:80'],
    ['${IP}:${PORT}:80', '127.0.0.1:8080:80'],
    ['${NOPE:-9000}:80', '9000:80'],
    ['${NOPE-9000}:80', '9000:80'],
    ['${EMPTY:-9000}:80', '9000:80'],
    ['${EMPTY-9000}:80', ':80'],
    ['${PORT:+1}', '1'],
    ['${NOPE:+1}', ''],
    ['${NOPE:-${PORT}}', '8080'],
    ['$$PORT', '$PORT'],
    ['80', '80'],
  ])('%s → %s', (t, want) => {
    expect(interpolate(t, env)).toMatchObject({ value: want });
  });
  it('an unset variable without a default is blank and reported', () => {
    expect(interpolate('${NOPE}:80', env)).toEqual({ value: ':80', unset: ['NOPE'] });
  });
  it('required variables and broken templates are errors', () => {
    expect(interpolate('${NOPE:?give a port}', env).error).toBe('required variable NOPE is missing a value: give a port');
    expect(interpolate('${EMPTY?x}', env).error).toBeUndefined();
    expect(interpolate('${EMPTY:?x}', env).error).toMatch(/required variable EMPTY/);
    expect(interpolate('${PORT', env).error).toMatch(/Invalid template/);
    expect(interpolate('${}', env).error).toMatch(/Invalid template/);
    expect(interpolate('$-', env).error).toMatch(/Invalid template/);
  });
});

describe('.env', () => {
  it('NAME=value, export, quotes, comments, earlier variables; the outer environment wins', () => {
    const text = ['# comment', 'A=1', 'export B = 2', "C='${A} literal'", 'D="x ${A}"', 'E=5 # trailing', '', 'F=${A}${B}', 'not a line'].join('\n');
    expect(parseDotEnv(text).map((e) => [e.name, e.value, e.line])).toEqual([
      ['A', '1', 2],
      ['B', '2', 3],
      ['C', '${A} literal', 4],
      ['D', 'x 1', 5],
      ['E', '5', 6],
      ['F', '12', 8],
    ]);
    expect(parseDotEnv('A=1\nB=${A}', new Map([['A', 'outer']])).map((e) => e.value)).toEqual(['1', 'outer']);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEdits } from '../../src/fixes/apply.js';
import { unifiedDiff } from '../../src/fixes/diff.js';
import type { TextEdit } from '../../src/model/finding.js';

const text = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

describe('unifiedDiff', () => {
  it('produces a diff that GNU patch applies to give exactly applyEdits()', () => {
    const cases: TextEdit[][] = [
      [{ file: '/etc/x.cf', startLine: 1, endLine: 1, newLines: ['#line 1'] }],
      [{ file: '/etc/x.cf', startLine: 20, endLine: 20, newLines: [] }],
      [{ file: '/etc/x.cf', startLine: 5, endLine: 6, newLines: ['a', 'b', 'c'] }],
      [
        { file: '/etc/x.cf', startLine: 3, endLine: 3, newLines: ['#line 3'] },
        { file: '/etc/x.cf', startLine: 7, endLine: 7, newLines: ['#line 7'] },
        { file: '/etc/x.cf', startLine: 18, endLine: 18, newLines: ['x', 'y'] },
      ],
    ];
    for (const edits of cases) {
      const dir = mkdtempSync(join(tmpdir(), 'bc-diff-'));
      const target = join(dir, 'x.cf');
      writeFileSync(target, text);
      const diff = unifiedDiff('/etc/x.cf', text, edits);
      // patch is the oracle: the diff must apply cleanly with no fuzz and give the edited text.
      execFileSync('patch', ['--fuzz=0', '-s', target], { input: diff });
      expect(execFileSync('cat', [target]).toString()).toBe(applyEdits(text, edits));
    }
  });

  it('is empty when no edit touches the file', () => {
    expect(unifiedDiff('/a', text, [{ file: '/b', startLine: 1, endLine: 1, newLines: [] }])).toBe('');
  });
});

describe('applyEdits', () => {
  it('keeps a missing final newline missing', () => {
    expect(applyEdits('a\nb', [{ file: 'f', startLine: 2, endLine: 2, newLines: ['#b'] }])).toBe('a\n#b');
  });
});

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseRaw, recogniseLine } from '../../../src/evidence/logs/recognise.js';
import { haproxyRecogniser } from '../../../src/evidence/logs/recognisers/haproxy.js';
import { socketForEvent } from '../../../src/explain/explain.js';
import { RootFs } from '../../../src/fs/root-fs.js';
import { readHaproxy } from '../../../src/readers/haproxy/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, '..', '..', 'integration', 'recorded', 'haproxy');
const rec = (line: string) => recogniseRaw(line, { file: 'stderr', line: 1 }, [haproxyRecogniser])?.event ?? null;
const recorded = (scenario: string) => readFileSync(join(RECORDED, scenario, 'stderr.txt'), 'utf8').split('\n').filter(Boolean);

describe("haproxy recogniser on the real daemon's recorded lines", () => {
  it('EADDRINUSE: the listener is named as the reader names it (frontend NAME ADDR:PORT)', () => {
    const line = recorded('held-port').find((l) => l.includes('Binding ['));
    expect(line).toMatch(/^\[ALERT\] {4}\(\d+\) : Binding \[\/etc\/haproxy\/haproxy\.cfg:7\] for frontend web: cannot bind socket \(Address already in use\) for \[0\.0\.0\.0:80\]$/);
    expect(rec(line as string)).toMatchObject({ kind: 'bind-failed', daemon: 'haproxy', listenerName: 'frontend web 0.0.0.0:80', proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, errno: 'EADDRINUSE' });
  });

  it('IPv6 without brackets: the port is after the last colon; EADDRNOTAVAIL; then gave-up with exit 1', () => {
    const events = recorded('not-local').map(rec).filter((e) => e !== null);
    expect(events.map((e) => `${e.kind} ${e.listenerName ?? ''} ${e.errno ?? ''}`.trim())).toEqual([
      'bind-failed frontend web [2001:db8::99]:80 EADDRNOTAVAIL',
      'bind-failed frontend web 192.0.2.99:80 EADDRNOTAVAIL',
      'gave-up',
    ]);
    expect(events[2]?.exitStatus).toBe(1);
  });

  it('EACCES when started without privileges; a file of a -f directory', () => {
    expect(rec(recorded('non-root').find((l) => l.includes('Binding [')) as string)).toMatchObject({ errno: 'EACCES', port: 80 });
    expect(rec(recorded('two-files').find((l) => l.includes('Binding [')) as string)).toMatchObject({ listenerName: 'frontend again 0.0.0.0:25', errno: 'EADDRINUSE' });
  });

  it('the stats socket is "frontend GLOBAL", a bind in a backend "backend NAME" (lines copied from a run of haproxy 2.6.12)', () => {
    expect(rec('[ALERT]    (31450) : Binding [t.cfg:2] for frontend GLOBAL: cannot bind socket (Cannot assign requested address) for [192.0.2.99:9999]')).toMatchObject({ listenerName: 'frontend GLOBAL 192.0.2.99:9999', errno: 'EADDRNOTAVAIL' });
    expect(rec('[ALERT]    (31450) : Binding [t.cfg:9] for backend be: cannot bind socket (Cannot assign requested address) for [192.0.2.98:86]')).toMatchObject({ listenerName: 'backend be 192.0.2.98:86' });
  });

  it('the journal form (haproxy[PID]: …) is recognised by the whole registry; notices and warnings are not taken', () => {
    const e = recogniseLine('Nov 27 07:40:01 host haproxy[812]: [ALERT]    (812) : Binding [/etc/haproxy/haproxy.cfg:22] for proxy stats: cannot bind socket (Address already in use) for [::1:9000]');
    expect(e).toMatchObject({ kind: 'bind-failed', daemon: 'haproxy', program: 'haproxy', pid: 812, listenerName: 'proxy stats [::1]:9000', address: '::1', port: 9000 });
    for (const l of recorded('backend-and-disabled')) expect(rec(l)).toBeNull();
    expect(rec('[ALERT]    (9) : Starting [/etc/haproxy/haproxy.cfg:3] for frontend fe: cannot listen to socket for [0.0.0.0:80]')).toMatchObject({ kind: 'listen-failed', listenerName: 'frontend fe 0.0.0.0:80' });
  });
});

describe('why: a recorded failure line leads back to its bind line', () => {
  // The recorded scenario's own config, rebuilt as a root; the plan from the reader; the event from the line.
  for (const scenario of ['not-local', 'two-files', 'held-port', 'noreuseport-dual-stack']) {
    it(scenario, () => {
      const meta = JSON.parse(readFileSync(join(RECORDED, scenario, 'scenario.json'), 'utf8')) as { config: Record<string, string[]>; fArgs: string[] };
      const root = mkdtempSync(join(tmpdir(), 'bindcheck-haproxy-why-'));
      try {
        for (const [name, lines] of Object.entries(meta.config)) {
          const p = join(root, 'etc', 'haproxy', name);
          mkdirSync(dirname(p), { recursive: true });
          writeFileSync(p, lines.join('\n') + '\n');
        }
        const plan = readHaproxy(new RootFs(root), { argv: ['/usr/sbin/haproxy', ...meta.fArgs.flatMap((f) => ['-f', f])] }).plans[0];
        const lines = recorded(scenario).filter((l) => l.includes('Binding ['));
        expect(lines.length).toBeGreaterThan(0);
        for (const l of lines) {
          const ev = rec(l);
          const hit = ev && plan ? socketForEvent(ev, plan) : undefined;
          const where = /Binding \[(.+?):(\d+)\]/.exec(l);
          expect(hit?.socket.name, l).toBe(ev?.listenerName);
          expect(`${hit?.socket.source.file}:${hit?.socket.source.line}`).toBe(`${where?.[1]}:${where?.[2]}`);
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});

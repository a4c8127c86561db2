import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseRaw } from '../../../src/evidence/logs/recognise.js';
import { nginxRecogniser } from '../../../src/evidence/logs/recognisers/nginx.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RECORDED = join(HERE, '..', '..', 'integration', 'recorded', 'nginx');
const rec = (line: string) => recogniseRaw(line, { file: 'stderr', line: 1 }, [nginxRecogniser])?.event ?? null;
const recorded = (scenario: string, file: string) => readFileSync(join(RECORDED, scenario, file), 'utf8').split('\n').filter(Boolean);

describe("nginx recogniser on the real daemon's recorded lines", () => {
  it('stderr: nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)', () => {
    const [line] = recorded('held-port', 'stderr.txt');
    expect(line).toBe('nginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)');
    expect(rec(line as string)).toMatchObject({ kind: 'bind-failed', daemon: 'nginx', listenerName: '0.0.0.0:80', proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 80, errno: 'EADDRINUSE' });
  });

  it('error_log: the same line with time and pid#tid', () => {
    const [line] = recorded('held-port', 'error.log');
    expect(rec(line as string)).toMatchObject({ kind: 'bind-failed', address: '0.0.0.0', port: 80, errno: 'EADDRINUSE' });
  });

  it('EADDRNOTAVAIL for a non-local address', () => {
    const [line] = recorded('not-local', 'stderr.txt');
    expect(rec(line as string)).toMatchObject({ kind: 'bind-failed', address: '192.0.2.99', port: 80, errno: 'EADDRNOTAVAIL' });
  });

  it('the whole retry loop: five bind failures, then still could not bind() (exit 1)', () => {
    const events = recorded('retry-loop', 'error.log').map(rec);
    expect(events.map((e) => e && `${e.kind} ${e.address ?? ''}:${e.port ?? ''} ${e.errno ?? ''}`.trim())).toEqual([
      ...Array(5).fill('bind-failed 0.0.0.0:80 EADDRINUSE'),
      'gave-up :',
    ]);
    expect(events[5]?.exitStatus).toBe(1);
  });

  it('IPv6 addresses in brackets; unrelated lines are not taken', () => {
    expect(rec('nginx: [emerg] bind() to [::]:80 failed (98: Address already in use)')).toMatchObject({ family: 'inet6', address: '::', port: 80 });
    expect(rec('nginx: [emerg] listen() to 0.0.0.0:80, backlog 511 failed (98: Address already in use)')).toMatchObject({ kind: 'listen-failed', port: 80 });
    expect(rec('2026/11/27 05:39:52 [warn] 10#10: conflicting server name "" on 0.0.0.0:80, ignored')).toBeNull();
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_RECOGNISERS, recogniseLine, recogniseRaw } from '../../../src/evidence/logs/recognise.js';
import { dockerRecogniser } from '../../../src/evidence/logs/recognisers/docker.js';
import { COMPOSE_BEHAVIOUR } from '../../../src/readers/compose/index.js';

const RECORDED = join(import.meta.dirname, '..', '..', 'integration', 'recorded', 'docker-proxy');
const rec = (line: string) => recogniseRaw(line, { file: 'log', line: 1 }, [dockerRecogniser])?.event ?? null;

/** Every error the real docker-proxy wrote on its status pipe in the recorded scenarios. */
const proxyErrors = readdirSync(RECORDED).flatMap((d) =>
  readFileSync(join(RECORDED, d, 'proxy-status.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { container: string; ok: boolean; status: string })
    .filter((s) => !s.ok)
    .map((s) => ({ scenario: d, container: s.container, text: s.status.replace(/^1\n/, '') })),
);

describe('docker recogniser', () => {
  it('the recorded scenarios hold proxy errors to test against', () => {
    expect(proxyErrors.map((e) => e.scenario).sort()).toEqual(['held-dual-stack', 'held-udp', 'held-v4', 'held-v6only', 'not-local', 'two-services']);
  });

  it.each(proxyErrors)("$scenario: docker-proxy's own error, as compose prints dockerd's reply", ({ container, text }) => {
    const line = `Error response from daemon: driver failed programming external connectivity on endpoint ${container} (5c0ffee): Error starting userland proxy: ${text}`;
    const m = /^listen (tcp|udp)([46]) (\S+):(\d+): bind: (.+)$/.exec(text);
    expect(m, text).not.toBeNull();
    expect(rec(line)).toMatchObject({
      kind: 'bind-failed',
      daemon: 'docker',
      listenerName: container,
      proto: m?.[1],
      family: m?.[2] === '6' ? 'inet6' : 'inet',
      port: Number(m?.[4]),
      errno: m?.[5] === 'address already in use' ? 'EADDRINUSE' : 'EADDRNOTAVAIL',
    });
  });

  it("dockerd's journal line (logrus) and IPv6 text", () => {
    const l =
      'Nov 27 07:00:01 host dockerd[812]: time="2026-11-27T07:00:01.1Z" level=error msg="Handler for POST /v1.41/containers/abc/start returned error: driver failed programming external connectivity on endpoint shop-web-1 (9f2a): Error starting userland proxy: listen tcp6 [::]:8080: bind: address already in use"';
    expect(recogniseLine(l)).toMatchObject({ kind: 'bind-failed', daemon: 'docker', program: 'dockerd', pid: 812, family: 'inet6', address: '::', port: 8080, errno: 'EADDRINUSE', listenerName: 'shop-web-1' });
  });

  it('the port allocator: "port is already allocated" names no errno — the kernel was never asked', () => {
    const text = COMPOSE_BEHAVIOUR.messages.alreadyAllocated.replace('{ip}', '0.0.0.0').replace('{port}', '8080');
    const e = rec(`ERROR: for web  Cannot start service web: driver failed programming external connectivity on endpoint shop_web_1 (0f45): ${text}`);
    expect(e).toMatchObject({ kind: 'socket-problem', daemon: 'docker', address: '0.0.0.0', port: 8080, listenerName: 'shop_web_1' });
    expect(e?.errno).toBeUndefined();
    expect(rec('Bind for :::8443 failed: port is already allocated')).toMatchObject({ family: 'inet6', address: '::', port: 8443 });
  });

  it('userland-proxy off: the same text from dockerd itself, without the proxy prefix', () => {
    expect(rec('driver failed programming external connectivity on endpoint x-y-1 (aa): listen udp4 127.0.0.1:53: bind: permission denied')).toMatchObject({
      kind: 'bind-failed',
      proto: 'udp',
      address: '127.0.0.1',
      port: 53,
      errno: 'EACCES',
    });
  });

  it('is registered before the generic recogniser, and quiet on unrelated Docker lines', () => {
    const ids = LOG_RECOGNISERS.map((r) => r.id);
    expect(ids.indexOf('docker')).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf('docker')).toBeLessThan(ids.indexOf('generic'));
    expect(rec('Programming external connectivity on endpoint shop-web-1 (9f2a)')).toBeNull();
    expect(rec('driver failed programming external connectivity on endpoint a (b): iptables failed: No chain/target/match by that name')).toBeNull();
    expect(recogniseLine('dockerd[1]: level=info msg="Loading containers: done."')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { daemonStarts, replayDaemon, type Holder } from '../../src/analysis/startup.js';
import { SimulatedNamespace, type SimSocketView } from '../../src/kernel/index.js';
import { failurePolicy, type DaemonPlan, type PlannedSocket } from '../../src/model/planned.js';

// A daemon's reaction to a failed socket can depend on the error (nginx: EADDRINUSE goes on to the next socket,
// anything else ends the start at once). The replay must stop exactly where the policy for that errno says.

function sock(address: string, port: number): PlannedSocket {
  return {
    daemon: 'd',
    name: `${address}:${port}`,
    proto: 'tcp',
    family: address.includes(':') ? 'inet6' : 'inet',
    address,
    port,
    reuseAddr: true,
    reusePort: false,
    uid: 0,
    listens: true,
    source: { file: '/etc/d.conf', line: 1 },
    derivation: [],
  };
}

const nginxLike = (sockets: PlannedSocket[]): DaemonPlan => ({
  daemon: 'd',
  config: '/etc/d.conf',
  files: ['/etc/d.conf'],
  sockets,
  startup: 'bind-listen-each',
  units: [],
  processNames: ['d'],
  onFailure: 'exit',
  onFailureByErrno: { EADDRINUSE: 'exit-after-all' },
});

function run(plan: DaemonPlan, held: [string, number][] = []) {
  const ns = new SimulatedNamespace({ localAddresses: ['127.0.0.1', '::1'] });
  for (const [a, p] of held) {
    const s = ns.socket({ proto: 'tcp', family: 'inet' });
    ns.bind(s, a, p);
    ns.listen(s);
  }
  const outcomes = replayDaemon(ns, plan, 0, new Map<SimSocketView, Holder>());
  return { outcomes: outcomes.map((o) => (o.ok ? 'ok' : o.call === 'none' ? 'none' : `${o.call} ${o.errno}`)), starts: daemonStarts(plan, outcomes) };
}

describe('per-errno failure policy', () => {
  it('picks the errno override, else the default', () => {
    const plan = nginxLike([]);
    expect(failurePolicy(plan, 'EADDRINUSE')).toBe('exit-after-all');
    expect(failurePolicy(plan, 'EADDRNOTAVAIL')).toBe('exit');
    expect(failurePolicy(plan, undefined)).toBe('exit');
    expect(failurePolicy({ onFailure: 'continue' }, 'EADDRINUSE')).toBe('continue');
    // Inherited object keys are not errnos.
    expect(failurePolicy(plan, 'toString')).toBe('exit');
  });

  it('EADDRNOTAVAIL stops the start: later sockets are never created', () => {
    const r = run(nginxLike([sock('192.0.2.9', 80), sock('0.0.0.0', 8080)]));
    expect(r).toEqual({ outcomes: ['bind EADDRNOTAVAIL', 'none'], starts: false });
  });

  it('EADDRINUSE goes on to the later sockets, and the daemon still does not start', () => {
    const r = run(nginxLike([sock('0.0.0.0', 80), sock('0.0.0.0', 8080)]), [['127.0.0.1', 80]]);
    expect(r).toEqual({ outcomes: ['bind EADDRINUSE', 'ok'], starts: false });
  });

  it('a daemon that carries on only after EADDRINUSE still starts on its other sockets', () => {
    const plan: DaemonPlan = { ...nginxLike([sock('0.0.0.0', 80), sock('0.0.0.0', 8080)]), onFailureByErrno: { EADDRINUSE: 'continue' } };
    expect(run(plan, [['127.0.0.1', 80]])).toEqual({ outcomes: ['bind EADDRINUSE', 'ok'], starts: true });
    const bad: DaemonPlan = { ...plan, sockets: [sock('0.0.0.0', 80), sock('192.0.2.9', 81)] };
    expect(run(bad, [['127.0.0.1', 80]])).toEqual({ outcomes: ['bind EADDRINUSE', 'bind EADDRNOTAVAIL'], starts: false });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AdoptSpec,
  type BindResult,
  SimulatedNamespace,
  addressesOverlap,
  canonicalAddress,
  describeConflict,
  isLoopback,
  isWildcard,
  tryCanonicalAddress,
} from '../../src/kernel/index.js';

const key = (r: BindResult): string => (r.ok === true ? 'ok' : r.ok === false ? r.errno : `unknown:${r.errno}`);

describe('address predicates', () => {
  it('canonicalises', () => {
    expect(canonicalAddress('[::FFFF:7f00:1]')).toBe('::ffff:127.0.0.1');
    expect(canonicalAddress('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(tryCanonicalAddress('010.0.0.1')).toBeUndefined();
    expect(() => canonicalAddress('localhost')).toThrow();
  });
  it('classifies', () => {
    expect(isWildcard('0.0.0.0') && isWildcard('::')).toBe(true);
    expect(isWildcard('::ffff:0.0.0.0')).toBe(false);
    expect(isLoopback('127.9.9.9') && isLoopback('::1') && isLoopback('::ffff:127.0.0.1')).toBe(true);
  });
  it('overlaps as inet_rcv_saddr_equal does', () => {
    expect(addressesOverlap('inet6', '::', false, 'inet', '127.0.0.1', false)).toBe(true);
    expect(addressesOverlap('inet6', '::', true, 'inet', '127.0.0.1', false)).toBe(false);
    expect(addressesOverlap('inet6', '::', true, 'inet6', '::', false)).toBe(true);
    expect(addressesOverlap('inet', '0.0.0.0', false, 'inet6', '::1', false)).toBe(false);
    expect(addressesOverlap('inet6', '::ffff:127.0.0.1', false, 'inet', '127.0.0.1', false)).toBe(true);
    expect(addressesOverlap('inet', '127.0.0.1', false, 'inet', '127.0.0.2', false)).toBe(false);
  });
});

describe('SimulatedNamespace', () => {
  it('sendmail: both binds succeed with SO_REUSEADDR, listen on the second fails once the first listens', () => {
    const ns = new SimulatedNamespace();
    const mta = ns.socket({ proto: 'tcp', family: 'inet', reuseAddr: true, label: 'MTA' });
    const msa = ns.socket({ proto: 'tcp', family: 'inet', reuseAddr: true, label: 'MSA' });
    expect(ns.bind(mta, '0.0.0.0', 25)).toEqual({ ok: true });
    expect(ns.bind(msa, '127.0.0.1', 25)).toEqual({ ok: true });
    expect(ns.listen(mta)).toEqual({ ok: true });
    const r = ns.listen(msa);
    expect(r.ok).toBe(false);
    if (r.ok !== false) return;
    expect(r.errno).toBe('EADDRINUSE');
    expect(r.conflictsWith).toBe(mta);
    expect(r.reason).toContain('MTA (0.0.0.0:25 (wildcard)) covers MSA (127.0.0.1:25)');
    expect(r.reason).toContain('listening, so SO_REUSEADDR does not help');
    expect(msa.state).toBe('bound');
  });

  it('orders errors as __inet_bind (address before privilege) and __inet6_bind (privilege before address)', () => {
    const ns = new SimulatedNamespace();
    const v4 = ns.socket({ proto: 'tcp', family: 'inet', uid: 1000 });
    const v6 = ns.socket({ proto: 'tcp', family: 'inet6', uid: 1000 });
    expect(key(ns.bind(v4, '192.0.2.99', 80))).toBe('EADDRNOTAVAIL');
    expect(key(ns.bind(v6, '2001:db8::99', 80))).toBe('EACCES');
    expect(key(ns.bind(v6, '127.0.0.1', 8080))).toBe('EINVAL');
    expect(key(ns.bind(v4, '::1', 8080))).toBe('EAFNOSUPPORT');
  });

  it('rejects a v4-mapped address on a V6ONLY socket', () => {
    const ns = new SimulatedNamespace();
    const s = ns.socket({ proto: 'udp', family: 'inet6', v6Only: true });
    expect(key(ns.bind(s, '::ffff:127.0.0.1', 5353))).toBe('EINVAL');
  });

  it('says unknown when a live holder’s SO_REUSEADDR decides', () => {
    const ns = new SimulatedNamespace();
    ns.adopt({ proto: 'udp', family: 'inet', address: '0.0.0.0', port: 5353, state: 'bound', uid: 0, reusePort: false, label: 'avahi' });
    const s = ns.socket({ proto: 'udp', family: 'inet', reuseAddr: true });
    const r = ns.bind(s, '0.0.0.0', 5353);
    expect(r).toMatchObject({ ok: 'unknown', errno: 'EADDRINUSE', dependsOn: ['avahi SO_REUSEADDR'] });
  });

  it('stays exact when the unknown cannot matter (TCP listener: SO_REUSEADDR never helps)', () => {
    const ns = new SimulatedNamespace();
    ns.adopt({ proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 25, state: 'listening', uid: 0, reusePort: false });
    const s = ns.socket({ proto: 'tcp', family: 'inet', reuseAddr: true });
    expect(key(ns.bind(s, '127.0.0.1', 25))).toBe('EADDRINUSE');
  });

  it('describeConflict names the rule', () => {
    const s = describeConflict(
      { proto: 'tcp', family: 'inet', address: '127.0.0.1', port: 25, reuseAddr: true, reusePort: false, v6Only: false, uid: 0, state: 'unbound' },
      { proto: 'tcp', family: 'inet', address: '0.0.0.0', port: 25, reuseAddr: true, reusePort: false, v6Only: false, uid: 0, state: 'listening' },
    );
    expect(s).toBe('0.0.0.0:25 (wildcard) covers 127.0.0.1:25, and the holder is listening, so SO_REUSEADDR does not help.');
  });

  /** Property: with unknown flags, the verdict is 'unknown' exactly when the concrete choices disagree. */
  it('unknown verdicts appear exactly when concrete assignments disagree', () => {
    const addrs: [('inet' | 'inet6'), string][] = [['inet', '0.0.0.0'], ['inet', '127.0.0.1'], ['inet6', '::'], ['inet6', '::1'], ['inet6', '::ffff:127.0.0.1']];
    const tri = fc.constantFrom<boolean | 'unknown'>(true, false, 'unknown');
    const holder = fc.record({
      addr: fc.nat(addrs.length - 1),
      state: fc.constantFrom<AdoptSpec['state']>('bound', 'listening', 'time-wait', 'established'),
      uid: fc.constantFrom(0, 65534),
      reuseAddr: tri,
      reusePort: tri,
      v6Only: tri,
    });
    const arb = fc.record({
      proto: fc.constantFrom<'tcp' | 'udp'>('tcp', 'udp'),
      holders: fc.array(holder, { minLength: 1, maxLength: 3 }),
      me: fc.record({ addr: fc.nat(addrs.length - 1), reuseAddr: fc.boolean(), reusePort: fc.boolean(), uid: fc.constantFrom(0, 65534) }),
    });
    fc.assert(
      fc.property(arb, ({ proto, holders, me }) => {
        const run = (resolve: (v: boolean | 'unknown', i: number, f: string) => boolean | 'unknown'): string[] => {
          const ns = new SimulatedNamespace();
          holders.forEach((h, i) => {
            const [family, address] = addrs[h.addr] ?? ['inet', '0.0.0.0'];
            const state = proto === 'udp' ? 'bound' : h.state;
            ns.adopt({ proto, family, address, port: 4000, state, uid: h.uid, reuseAddr: resolve(h.reuseAddr, i, 'ra'), reusePort: resolve(h.reusePort, i, 'rp'), v6Only: resolve(h.v6Only, i, 'v6') });
          });
          const [family, address] = addrs[me.addr] ?? ['inet', '0.0.0.0'];
          const s = ns.socket({ proto, family, reuseAddr: me.reuseAddr, reusePort: me.reusePort, uid: me.uid });
          const out = [key(ns.bind(s, address, 4000))];
          if (proto === 'tcp') out.push(key(ns.listen(s)));
          return out;
        };
        const slots: [number, string][] = [];
        holders.forEach((h, i) => {
          if (h.reuseAddr === 'unknown') slots.push([i, 'ra']);
          if (h.reusePort === 'unknown') slots.push([i, 'rp']);
          if (h.v6Only === 'unknown') slots.push([i, 'v6']);
        });
        const withUnknown = run((v) => v);
        const concrete: string[][] = [];
        for (let mask = 0; mask < 1 << slots.length; mask++) {
          concrete.push(run((v, i, f) => (v !== 'unknown' ? v : ((mask >> slots.findIndex(([j, g]) => j === i && g === f)) & 1) === 1)));
        }
        withUnknown.forEach((v, step) => {
          const seen = new Set(concrete.map((c) => c[step]));
          if (seen.size === 1) expect(v).toBe([...seen][0]);
          else {
            expect(v.startsWith('unknown:')).toBe(true);
            expect(seen.has(v.slice('unknown:'.length))).toBe(true);
          }
        });
      }),
      { seed: 7, numRuns: 400 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { isLocalAddress, SimulatedNamespace } from '../../src/kernel/index.js';

// One rule for "is this address the host's own": the kernel model's bind() uses it (checked against the real kernel in
// kernel-oracle.test.ts), and checks that ask the question (BC405) call the same function.

const FACTS = ['127.0.0.0/8', '10.0.0.7', '2001:db8::1'];

describe('isLocalAddress', () => {
  it('127.0.0.0/8 and ::1 always; otherwise only the single addresses the host has (the kernel has no local ranges)', () => {
    expect(isLocalAddress('127.9.9.9', [])).toBe(true);
    expect(isLocalAddress('::1', [])).toBe(true);
    expect(isLocalAddress('10.0.0.7', FACTS)).toBe(true);
    expect(isLocalAddress('2001:db8:0::1', FACTS)).toBe(true);
    // A range in the list is not a local table entry: 10.1.2.3 inside 10.0.0.0/8 is not local.
    expect(isLocalAddress('10.1.2.3', ['10.0.0.0/8'])).toBe(false);
    expect(isLocalAddress('192.0.2.1', FACTS)).toBe(false);
    expect(isLocalAddress('not-an-address', FACTS)).toBe(false);
  });

  it('agrees with the kernel model: bind() without IP_FREEBIND gets EADDRNOTAVAIL exactly for non-local addresses', () => {
    for (const address of ['127.0.0.1', '127.3.2.1', '10.0.0.7', '10.0.0.8', '192.0.2.1', '::1', '2001:db8::1', '2001:db8::2']) {
      const ns = new SimulatedNamespace({ localAddresses: FACTS });
      const s = ns.socket({ proto: 'tcp', family: address.includes(':') ? 'inet6' : 'inet' });
      const r = ns.bind(s, address, 8080);
      expect(r.ok === true ? 'ok' : r.errno, address).toBe(isLocalAddress(address, FACTS) ? 'ok' : 'EADDRNOTAVAIL');
    }
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base60Value, isGoIp, parseLongPort, parseShortPort, type PortBinding } from '../../../src/readers/compose/index.js';

const b = (hostIp: string, hostPortStart: number, hostPortEnd: number, target: number, proto = 'tcp'): PortBinding => ({ hostIp, hostPortStart, hostPortEnd, target, proto } as PortBinding);

describe('short syntax (nat.ParsePortSpec)', () => {
  it.each<[string, PortBinding[]]>([
    ['80', [b('', 0, 0, 80)]],
    ['8080:80', [b('', 8080, 8080, 80)]],
    ['127.0.0.1:8080:80', [b('127.0.0.1', 8080, 8080, 80)]],
    ['[::1]:8080:80', [b('::1', 8080, 8080, 80)]],
    ['8080-8081:80-81', [b('', 8080, 8080, 80), b('', 8081, 8081, 81)]],
    ['8080-8090:80', [b('', 8080, 8090, 80)]],
    ['127.0.0.1::80', [b('127.0.0.1', 0, 0, 80)]],
    ['80-81', [b('', 0, 0, 80), b('', 0, 0, 81)]],
    ['53:53/udp', [b('', 53, 53, 53, 'udp')]],
    ['53:53/UDP', [b('', 53, 53, 53, 'udp')]],
    ['9:9/sctp', [b('', 9, 9, 9, 'sctp')]],
    ['8080:80/', [b('', 8080, 8080, 80)]],
    ['0.0.0.0:443:443/tcp', [b('0.0.0.0', 443, 443, 443)]],
  ])('%s', (spec, want) => {
    expect(parseShortPort(spec)).toEqual({ ok: true, bindings: want });
  });

  it.each<[string, RegExp]>([
    ['', /No port specified/],
    ['8080:', /No port specified/],
    ['bad:80', /Invalid hostPort: bad/],
    ['8080:http', /Invalid containerPort: http/],
    ['70000:80', /Invalid hostPort: 70000/],
    ['8080:80/icmp', /Invalid proto: icmp/],
    ['::1:8080:80', /Invalid ip address/],
    ['localhost:8080:80', /Invalid ip address: localhost/],
    ['8080-8081:80-82', /Invalid ranges specified/],
    ['8081-8080:80', /Invalid hostPort/],
    ['-1:80', /Invalid hostPort/],
  ])('refuses %j', (spec, msg) => {
    const r = parseShortPort(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(msg);
  });

  it('never throws, and every binding it returns is in range', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789:-/.[]abudtcp '.split('')), maxLength: 24 }), (s) => {
        const r = parseShortPort(s);
        if (r.ok) for (const x of r.bindings) {
          expect(x.target).toBeLessThanOrEqual(65535);
          expect(x.hostPortEnd).toBeGreaterThanOrEqual(x.hostPortStart);
        }
      }),
    );
  });
});

describe('long syntax', () => {
  it('target, published (number or string, or a range), host_ip, protocol, mode', () => {
    expect(parseLongPort({ target: 80, published: 8080 })).toEqual({ ok: true, bindings: [b('', 8080, 8080, 80)] });
    expect(parseLongPort({ target: 80, published: '8080-8082', host_ip: '127.0.0.1', protocol: 'udp', mode: 'host' })).toEqual({
      ok: true,
      bindings: [{ ...b('127.0.0.1', 8080, 8082, 80, 'udp'), mode: 'host' }],
    });
    expect(parseLongPort({ target: '80' })).toEqual({ ok: true, bindings: [b('', 0, 0, 80)] });
  });
  it.each<[Record<string, unknown>, RegExp]>([
    [{ published: 8080 }, /target is required/],
    [{ target: 'http' }, /target must be a port number/],
    [{ target: 80, published: 'x' }, /Invalid hostPort/],
    [{ target: 80, host_ip: 'example.org' }, /Invalid ip address/],
    [{ target: 80, protocol: 'icmp' }, /Invalid proto/],
    [{ target: 80, mode: 'bridge' }, /mode must be host or ingress/],
    [{ target: 80, hostport: 8080 }, /additional property hostport/],
  ])('refuses %j', (f, msg) => {
    const r = parseLongPort(f);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(msg);
  });
});

describe('helpers', () => {
  it('YAML 1.1 base 60: 22:22 is 1342, 2222:22 is 133342, 8080:80 is not a number', () => {
    expect(base60Value('22:22')).toBe(1342);
    expect(base60Value('2222:22')).toBe(133342);
    expect(base60Value('8080:80')).toBeUndefined();
    expect(base60Value('127.0.0.1:22:22')).toBeUndefined();
    expect(base60Value('1:2:3')).toBe(3723);
  });
  it("Go's net.ParseIP", () => {
    for (const ok of ['127.0.0.1', '0.0.0.0', '::', '::1', 'fe80::1', '::ffff:1.2.3.4', '2001:db8:0:0:0:0:0:1']) expect(isGoIp(ok), ok).toBe(true);
    for (const bad of ['010.0.0.1', '256.0.0.1', 'localhost', '1::2::3', 'fe80::1%lo', '1.2.3', '']) expect(isGoIp(bad), bad).toBe(false);
  });
});

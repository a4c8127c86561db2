import type { HostFacts } from '../model/live.js';

/**
 * Linux defaults for every host fact, each marked assumed: what a scan uses when it must not (or cannot) read
 * ROOT/proc. Loopback is always local (127.0.0.0/8 is a local route on every Linux host, ::1 with IPv6 on).
 */
export function assumedHostFacts(): HostFacts {
  return {
    localAddresses: { value: ['127.0.0.0/8', '::1'], origin: 'assumed', source: '/proc/net/fib_trie' },
    bindV6Only: { value: false, origin: 'assumed', source: '/proc/sys/net/ipv6/bindv6only' },
    unprivilegedPortStart: { value: 1024, origin: 'assumed', source: '/proc/sys/net/ipv4/ip_unprivileged_port_start' },
    ipNonlocalBind: { value: false, origin: 'assumed', source: '/proc/sys/net/ipv4/ip_nonlocal_bind' },
    ipv6NonlocalBind: { value: false, origin: 'assumed', source: '/proc/sys/net/ipv6/ip_nonlocal_bind' },
    ipv6: { value: true, origin: 'assumed', source: '/proc/net/if_inet6' },
  };
}

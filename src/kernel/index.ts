/**
 * The one source of truth for bind()/listen() verdicts. See docs/kernel-model.md for every rule and the Linux
 * function behind it; test/kernel/kernel-oracle.test.ts checks the model against the running kernel.
 */
export {
  InvalidAddressError,
  LOOPBACK4_IPV6,
  addressFamily,
  addressesOverlap,
  canonicalAddress,
  claimsAllIPv4,
  describeAddress,
  effectiveV6Only,
  embeddedIPv4,
  isLinkLocalV6,
  isLocalAddress,
  isLocalIn,
  isLoopback,
  localAddressSet,
  isMulticast,
  needsScopeId,
  isV4Mapped,
  isWildcard,
  kernelAddress,
  parseAddress,
  rcvSaddrEqual,
  tryCanonicalAddress,
} from './address.js';
export type { KernelAddress, LocalAddresses, ParsedAddress } from './address.js';
export { describeConflict } from './describe.js';
export type { ConflictParty } from './describe.js';
export { MAX_ENUMERATED_UNKNOWNS, SimSocket, SimulatedNamespace } from './namespace.js';
export type {
  AdoptSpec,
  BindErrno,
  BindFailure,
  BindOk,
  BindResult,
  BindUnknown,
  NamespaceConfig,
  ResolvedOptions,
  SimSocketState,
  SimSocketView,
  SocketOptions,
  Tristate,
} from './types.js';

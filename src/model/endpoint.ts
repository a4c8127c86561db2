export type Proto = 'tcp' | 'udp';
export type Family = 'inet' | 'inet6';

/** An address and port as bind() sees them. `address` is canonical text (`0.0.0.0`, `::`, `::ffff:127.0.0.1`). */
export interface Endpoint {
  proto: Proto;
  address: string;
  port: number;
}

export function formatEndpoint(e: { proto?: Proto; address: string; port: number }): string {
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  return e.proto ? `${e.proto}/${host}:${e.port}` : `${host}:${e.port}`;
}

// Small, dependency-free address helpers for validation: CIDR parsing, overlap and "open to everyone" checks.

export interface Ipv4Cidr {
  base: number;
  prefix: number;
}

const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses an IPv4 CIDR whose address is the network address (`10.42.0.0/16`, not `10.42.1.0/16`). */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const m = V4_RE.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return undefined;
  return { base, prefix };
}

/** True when two IPv4 ranges share any address. */
export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const aEnd = a.base + 2 ** (32 - a.prefix);
  const bEnd = b.base + 2 ** (32 - b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** A loose IPv6 CIDR check, enough to accept operator ranges such as `2001:db8::/32`. */
export function isIpv6Cidr(text: string): boolean {
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(text);
  return m !== null && m[1].includes(":") && Number(m[2]) <= 128;
}

/** True for a range that admits every address on the internet (`0.0.0.0/0`, `::/0`, or any `/0`). */
export function isOpenToAll(cidr: string): boolean {
  return /\/0$/.test(cidr.trim());
}

/** A hostname, IPv4 or bracket-free IPv6 address, optionally with a port: what `system-default-registry` takes. */
export function isHostPort(text: string): boolean {
  return /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/.test(text);
}

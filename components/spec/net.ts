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

/** An IPv6 CIDR such as `2001:db8::/32` (any address inside the range is taken as naming it). */
export function isIpv6Cidr(text: string): boolean {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(text);
  return m !== null && m[1].includes(":") && parseIpv6(m[1]) !== undefined && Number(m[2]) <= 128;
}

/** A hostname, IPv4 or bracket-free IPv6 address, optionally with a port: what `system-default-registry` takes. */
export function isHostPort(text: string): boolean {
  return /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$/.test(text);
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An IPv4 address as a number, or undefined. */
export function parseIpv4(text: string): number | undefined {
  const m = IPV4_RE.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

/** An IPv6 address (with `::` and an optional dotted IPv4 tail) as a 128-bit number, or undefined. */
export function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || (text.match(/::/g) ?? []).length > 1) return undefined;
  let groups: string[];
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const part = (s: string | undefined) => (s ? s.split(":") : []);
  let hexGroups = [...part(head), ...(tail === undefined ? [] : ["::", ...part(tail)])];
  const last = hexGroups[hexGroups.length - 1];
  if (last?.includes(".")) {
    const v4 = parseIpv4(last);
    if (v4 === undefined) return undefined;
    hexGroups = [...hexGroups.slice(0, -1), (v4 >>> 16).toString(16), (v4 & 0xffff).toString(16)];
  }
  const explicit = hexGroups.filter((g) => g !== "::");
  if (explicit.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  if (tail === undefined) {
    if (explicit.length !== 8) return undefined;
    groups = explicit;
  } else {
    if (explicit.length > 7) return undefined;
    const i = hexGroups.indexOf("::");
    groups = [
      ...hexGroups.slice(0, i),
      ...Array<string>(8 - explicit.length).fill("0"),
      ...hexGroups.slice(i + 1),
    ];
  }
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** A DNS name as RKE2 and the API certificate take it: dot-separated labels of letters, digits and '-'. */
export function isDnsName(text: string): boolean {
  return (
    text.length <= 253 &&
    text.split(".").every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l)) &&
    !/^[0-9.]+$/.test(text)
  );
}

/** An IP address (v4 or v6) or a DNS name. */
export function isAddress(text: string): boolean {
  return parseIpv4(text) !== undefined || parseIpv6(text) !== undefined || isDnsName(text);
}

/** [start, end) of a CIDR in its family's address space, or undefined when it is not a CIDR. */
function cidrRange(cidr: string): { v6: boolean; start: bigint; end: bigint } | undefined {
  const m = /^(.+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m) return undefined;
  const prefix = Number(m[2]);
  const v4 = parseIpv4(m[1]);
  if (v4 !== undefined && prefix <= 32) {
    const size = 1n << BigInt(32 - prefix);
    const start = (BigInt(v4) / size) * size;
    return { v6: false, start, end: start + size };
  }
  const v6 = parseIpv6(m[1]);
  if (v6 !== undefined && prefix <= 128) {
    const size = 1n << BigInt(128 - prefix);
    const start = (v6 / size) * size;
    return { v6: true, start, end: start + size };
  }
  return undefined;
}

/**
 * True when the ranges together admit every address of the internet in either family: a `/0` in any spelling
 * (`0.0.0.0/0`, `::/0`, `0:0::0/0`, `1.2.3.4/0`) or a set such as `0.0.0.0/1` + `128.0.0.0/1`.
 */
export function coversInternet(cidrs: readonly string[]): boolean {
  return [false, true].some((v6) => {
    const ranges = cidrs
      .map(cidrRange)
      .filter((r): r is NonNullable<typeof r> => r !== undefined && r.v6 === v6)
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let reached = 0n;
    for (const r of ranges) {
      if (r.start > reached) return false;
      if (r.end > reached) reached = r.end;
    }
    return reached === 1n << (v6 ? 128n : 32n);
  });
}

// Section "pod security and namespaces": Pod Security Admission exemptions (CIS 5.2) and the namespaces the stack
// owns, each with its PSA level and the NetworkPolicy peers it may talk to (CIS 5.3.2).
import { z } from "zod";
import { BUILTIN_NAMESPACES } from "./constants";
import { anyCidr, dnsLabel, labels, port } from "./fields";
import { fmt, type Path, type Problems } from "./problems";
import { section } from "./section";

const portSpec = z.strictObject({
  port,
  protocol: z.enum(["TCP", "UDP"]).default("TCP"),
});
const peer = z.strictObject({
  namespace: dnsLabel(63).optional(),
  podLabels: labels,
  cidr: anyCidr.optional(),
  ports: z.array(portSpec).default([]),
});

export type Port = z.output<typeof portSpec>;
export type PodSecurityLevel = z.output<typeof namespace>["podSecurity"];

const namespace = z.strictObject({
  name: dnsLabel(63),
  podSecurity: z.enum(["restricted", "baseline", "privileged"]).default("restricted"),
  /** Why the namespace runs below `restricted`; required whenever it does. */
  podSecurityReason: z.string().min(1).optional(),
  allowIngressFrom: z.array(peer).default([]),
  allowEgressTo: z.array(peer).default([]),
});

export const podSecurityShape = {
  podSecurity: z
    .strictObject({
      exemptions: z.array(z.strictObject({ namespace: dnsLabel(63), reason: z.string().min(1) })).default([]),
    })
    .prefault({}),
  namespaces: z.array(namespace).default([]),
};

const cidrPeer = (cidr: string, ports: Port[]) => ({ cidr, ports });
const namespacePeer = (namespace: string, podLabels: Record<string, string>, ports: Port[]) => ({
  namespace,
  podLabels,
  ports,
});

/** A NetworkPolicy peer: pods of a namespace (optionally only those with the labels), or an address range. */
function buildPeer(problems: Problems, path: Path, p: z.output<typeof peer>) {
  if ((p.namespace === undefined) === (p.cidr === undefined)) {
    problems.add(
      path,
      `${fmt(p)} must name exactly one of namespace or cidr; allowed: {namespace: <name>} or {cidr: <range>}`,
    );
    return undefined;
  }
  if (p.cidr !== undefined) {
    if (Object.keys(p.podLabels).length > 0) {
      problems.add(
        [...path, "podLabels"],
        `${fmt(p.podLabels)} cannot go with cidr; allowed: podLabels only with namespace`,
      );
    }
    return cidrPeer(p.cidr, p.ports);
  }
  return namespacePeer(p.namespace ?? "", p.podLabels, p.ports);
}

export type Peer = NonNullable<ReturnType<typeof buildPeer>>;

function buildNamespace(problems: Problems, ns: z.output<typeof namespace>, i: number, seen: Set<string>) {
  const path: Path = ["namespaces", i];
  if ((BUILTIN_NAMESPACES as readonly string[]).includes(ns.name)) {
    problems.add(
      [...path, "name"],
      `${fmt(ns.name)} is a namespace RKE2 owns (hardened by the stack already); ` +
        "allowed: a namespace of your own",
    );
  } else if (seen.has(ns.name)) {
    problems.add([...path, "name"], `${fmt(ns.name)} is listed twice; allowed: unique namespace names`);
  }
  seen.add(ns.name);
  if (ns.podSecurity !== "restricted" && ns.podSecurityReason === undefined) {
    problems.add(
      [...path, "podSecurityReason"],
      `missing for podSecurity ${fmt(ns.podSecurity)}; allowed: a reason ` +
        "saying why this namespace runs below restricted (CIS 5.2), or podSecurity: restricted",
    );
  }
  const peers = (list: z.output<typeof peer>[], key: string) =>
    list.map((p, j) => buildPeer(problems, [...path, key, j], p)).filter((p): p is Peer => p !== undefined);
  return {
    name: ns.name,
    podSecurity: ns.podSecurity,
    podSecurityReason: ns.podSecurityReason,
    allowIngressFrom: peers(ns.allowIngressFrom, "allowIngressFrom"),
    allowEgressTo: peers(ns.allowEgressTo, "allowEgressTo"),
  };
}

export type ManagedNamespace = ReturnType<typeof buildNamespace>;

export const podSecurity = section({
  shape: podSecurityShape,
  build(raw, { problems }) {
    const before = problems.list.length;
    const seenExemptions = new Set<string>();
    raw.podSecurity.exemptions.forEach((e, i) => {
      if (seenExemptions.has(e.namespace)) {
        problems.add(
          ["podSecurity", "exemptions", i, "namespace"],
          `${fmt(e.namespace)} is listed twice; allowed: unique namespaces`,
        );
      }
      seenExemptions.add(e.namespace);
    });
    const seen = new Set<string>();
    const namespaces = raw.namespaces.map((ns, i) => buildNamespace(problems, ns, i, seen));
    if (problems.list.length > before) return undefined;
    return { value: { podSecurity: raw.podSecurity, namespaces }, secrets: [] };
  },
});

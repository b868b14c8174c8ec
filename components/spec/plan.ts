// Planning: which nodes a spec asks for, in bootstrap order, and the address the cluster registers through. Pure;
// the render, the node sources and the bootstrap all read it, so the join order and the registration rule live once.
import type { ClusterSpec, NodesSpec, Role } from "./types";

/** A node as the spec plans it, before any address is known. */
export interface PlannedNode {
  /** Unique node name, also the Kubernetes node name. */
  name: string;
  role: Role;
  /** Position in bootstrap order among servers (0 bootstraps the cluster); agents count within their pool. */
  index: number;
  /** `server`, an agent pool name, or `agent` for existing hosts. */
  pool: string;
  labels: Record<string, string>;
  taints: string[];
}

/** A planned node with the address other nodes reach it on. */
export interface NodeFacts extends PlannedNode {
  privateAddress: string;
  /** The first server on a machine that replaced its first one: it joins through the registration address. */
  rejoins?: boolean;
}

/** Servers first, in join order, then agents. */
export function planNodes(spec: ClusterSpec): PlannedNode[] {
  const nodes = spec.nodes;
  switch (nodes.source) {
    case "aws": {
      const servers = Array.from({ length: nodes.servers.count }, (_, i) => ({
        name: `server-${i}`,
        role: "server" as const,
        index: i,
        pool: "server",
        labels: {},
        taints: [],
      }));
      const agents = nodes.agentPools.flatMap((pool) =>
        Array.from({ length: pool.count }, (_, i) => ({
          name: `${pool.name}-${i}`,
          role: "agent" as const,
          index: i,
          pool: pool.name,
          labels: pool.labels,
          taints: pool.taints,
        })),
      );
      return [...servers, ...agents];
    }
    case "existing": {
      let servers = 0;
      let agents = 0;
      return nodes.hosts.map((h) => ({
        name: h.name,
        role: h.role,
        index: h.role === "server" ? servers++ : agents++,
        pool: h.role,
        labels: h.labels,
        taints: h.taints,
      }));
    }
    default: {
      const never: never = nodes;
      throw new Error(`unknown node source ${JSON.stringify(never)}`);
    }
  }
}

/** What the offline render writes for an AWS address that exists only after `pulumi up`. */
export function addressPlaceholder(what: string): string {
  return `<aws:${what}>`;
}

/** Nodes with the addresses the render knows: existing hosts' own, placeholders for AWS. */
export function offlineFacts(spec: ClusterSpec): NodeFacts[] {
  const nodes = spec.nodes;
  return planNodes(spec).map((n) => ({
    ...n,
    privateAddress:
      nodes.source === "existing"
        ? (nodes.hosts.find((h) => h.name === n.name)?.privateAddress ?? n.name)
        : addressPlaceholder(`${n.name}.private-ip`),
  }));
}

/**
 * The fixed address every joining node and the kubeconfig use: a configured address, else the load balancer when
 * there is one, else the first server's private address. Generic over the address type so that the render (plain
 * strings) and the node sources (Outputs) share the one rule.
 */
export function registrationAddressOf<A>(
  spec: ClusterSpec,
  nodes: readonly { role: Role; index: number; privateAddress: A }[],
  how: { fixed: (address: string) => A; loadBalancer?: () => A },
): A {
  if (spec.nodes.source === "existing" && spec.nodes.registrationAddress !== undefined) {
    return how.fixed(spec.nodes.registrationAddress);
  }
  if (spec.nodes.source === "aws" && spec.nodes.loadBalancer) {
    if (!how.loadBalancer) throw new Error("the spec asks for a load balancer but none was given");
    return how.loadBalancer();
  }
  const first = nodes.find((n) => n.role === "server" && n.index === 0);
  if (!first) throw new Error("a cluster needs a first server");
  return first.privateAddress;
}

/** The registration address as the offline render knows it (`loadBalancerAddress` is the NLB's DNS name on AWS). */
export function registrationAddress(
  spec: ClusterSpec,
  nodes: NodeFacts[],
  loadBalancerAddress?: string,
): string {
  return registrationAddressOf(spec, nodes, {
    fixed: (address) => address,
    loadBalancer: () => loadBalancerAddress ?? addressPlaceholder("nlb.dns-name"),
  });
}

/**
 * Where the operator's machine (the kubeconfig, the stack's Kubernetes provider, the verification) reaches the API:
 * the registration address (existing hosts, or AWS nodes reached from inside the VPC), the first server's public
 * address (one public server, no load balancer) or an internet-facing NLB open only to `apiCidrs`. Nodes always join
 * through the registration address, over private addresses.
 */
export type ApiEntry = "registration" | "first-server-public" | "public-load-balancer";

export function apiEntryOf(n: NodesSpec): ApiEntry {
  if (n.source !== "aws" || n.apiAccess === "private") return "registration";
  return n.publicIp && !n.loadBalancer ? "first-server-public" : "public-load-balancer";
}

/** The operator's API address as the offline render knows it (placeholders for AWS addresses made at `up`). */
export function apiAddress(spec: ClusterSpec, registration: string): string {
  const entry = apiEntryOf(spec.nodes);
  switch (entry) {
    case "registration":
      return registration;
    case "first-server-public":
      return addressPlaceholder("server-0.public-ip");
    case "public-load-balancer":
      return addressPlaceholder("api-nlb.dns-name");
    default: {
      const never: never = entry;
      throw new Error(`unknown API entry ${String(never)}`);
    }
  }
}

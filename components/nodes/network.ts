// Pure network rules for the AWS node source: the ports RKE2 needs (docs: install/requirements) and which security
// group may reach which. Kept apart from the resources so the exact rules are table-tested.
import type { AwsNodes, ClusterSpec, Cni } from "../spec/types";
import { parseIpv4Cidr } from "../spec/net";
import { apiEntryOf } from "../spec/plan";

/** The cluster's security groups: nodes by role, the registration NLB, the operator's public API NLB, the bastion. */
export type Group = "server" | "agent" | "nlb" | "api" | "bastion";

export interface Rule {
  /** The group the rule admits traffic into. */
  to: Group;
  protocol: "tcp" | "udp" | "icmp";
  fromPort: number;
  toPort: number;
  /** Where traffic may come from: another group of the cluster, or an address range. */
  from: { group: Group } | { cidr: string };
  description: string;
}

/** Ports each CNI needs between nodes (RKE2 requirements page). VXLAN is never opened beyond the cluster. */
export function cniPorts(cni: Cni): Omit<Rule, "to" | "from">[] {
  switch (cni) {
    case "canal":
      return [
        { protocol: "udp", fromPort: 8472, toPort: 8472, description: "canal VXLAN" },
        { protocol: "tcp", fromPort: 9099, toPort: 9099, description: "canal health checks" },
        { protocol: "udp", fromPort: 51820, toPort: 51821, description: "canal WireGuard" },
      ];
    case "calico":
      return [
        { protocol: "tcp", fromPort: 179, toPort: 179, description: "calico BGP" },
        { protocol: "udp", fromPort: 4789, toPort: 4789, description: "calico VXLAN" },
        { protocol: "tcp", fromPort: 5473, toPort: 5473, description: "calico Typha" },
        { protocol: "tcp", fromPort: 9098, toPort: 9099, description: "calico Typha and node health" },
      ];
    case "cilium":
      return [
        { protocol: "icmp", fromPort: 8, toPort: 0, description: "cilium health (ICMP echo)" },
        { protocol: "tcp", fromPort: 4240, toPort: 4240, description: "cilium health checks" },
        { protocol: "udp", fromPort: 8472, toPort: 8472, description: "cilium VXLAN" },
        { protocol: "udp", fromPort: 51871, toPort: 51871, description: "cilium WireGuard" },
      ];
    case "flannel":
      // K3s's flannel VXLAN (docs.k3s.io installation/requirements: 8472/udp between nodes). K3s on AWS is refused
      // by the spec for now; the case keeps this switch exhaustive.
      return [{ protocol: "udp", fromPort: 8472, toPort: 8472, description: "flannel VXLAN" }];
    default: {
      const never: never = cni;
      throw new Error(`unknown cni ${String(never)}`);
    }
  }
}

const tcp = (port: number, toPort = port) => ({ protocol: "tcp" as const, fromPort: port, toPort });

/**
 * Every ingress rule of the cluster's security groups. SSH comes only from the operator ranges; the API and the
 * registration port from the operator ranges and the cluster; etcd only between servers; kubelet, NodePorts and the
 * CNI only inside the cluster. With a load balancer the servers take 6443/9345 from the NLB's own group, and the NLB
 * takes them from the operator ranges and the nodes.
 */
export function securityGroupRules(cni: Cni, src: AwsNodes): Rule[] {
  const rules: Rule[] = [];
  const nodeGroups: Group[] = ["server", "agent"];
  // With a bastion only the bastion takes SSH from the operator ranges; the nodes take it from the bastion alone.
  for (const cidr of src.bastion ? src.sshCidrs : [])
    rules.push({ to: "bastion", ...tcp(22), from: { cidr }, description: "SSH from the operator" });
  for (const to of nodeGroups) {
    if (src.bastion)
      rules.push({ to, ...tcp(22), from: { group: "bastion" }, description: "SSH from the bastion" });
    else
      for (const cidr of src.sshCidrs)
        rules.push({ to, ...tcp(22), from: { cidr }, description: "SSH from the operator" });
  }
  const registrationEntry: Group = src.loadBalancer ? "nlb" : "server";
  // An internet-facing API NLB takes only 6443, only from the operator ranges; registration stays inside the VPC.
  const publicApi = apiEntryOf(src) === "public-load-balancer";
  if (publicApi) {
    for (const cidr of src.apiCidrs)
      rules.push({
        to: "api",
        ...tcp(6443),
        from: { cidr },
        description: "Kubernetes API from the operator",
      });
    rules.push({
      to: "server",
      ...tcp(6443),
      from: { group: "api" },
      description: "Kubernetes API through the public load balancer",
    });
  }
  for (const port of [6443, 9345]) {
    const what = port === 6443 ? "Kubernetes API" : "RKE2 registration";
    for (const cidr of publicApi ? [] : src.apiCidrs)
      rules.push({
        to: registrationEntry,
        ...tcp(port),
        from: { cidr },
        description: `${what} from the operator`,
      });
    for (const group of nodeGroups)
      rules.push({ to: "server", ...tcp(port), from: { group }, description: `${what} from ${group}s` });
    if (src.loadBalancer) {
      for (const group of nodeGroups)
        rules.push({ to: "nlb", ...tcp(port), from: { group }, description: `${what} from ${group}s` });
      rules.push({
        to: "server",
        ...tcp(port),
        from: { group: "nlb" },
        description: `${what} through the load balancer`,
      });
    }
  }
  rules.push({
    to: "server",
    ...tcp(2379, 2381),
    from: { group: "server" },
    description: "etcd client, peer and metrics between servers",
  });
  for (const to of nodeGroups) {
    for (const group of nodeGroups) {
      rules.push({ to, ...tcp(10250), from: { group }, description: `kubelet from ${group}s` });
      rules.push({ to, ...tcp(30000, 32767), from: { group }, description: `NodePorts from ${group}s` });
      for (const p of cniPorts(cni))
        rules.push({ to, ...p, from: { group }, description: `${p.description} from ${group}s` });
    }
  }
  return rules;
}

/** Where a group's outbound traffic may go: the VPC, the S3 gateway endpoint's prefix list, or one address. */
export interface EgressRule {
  from: Group;
  protocol: "tcp" | "-1";
  port?: number;
  to: { vpc: true } | { s3PrefixList: true } | { cidr: string };
  description: string;
}

/** host and port of a registry endpoint URL (`https://h:p`) or `host[:port]`; IPv4 literals only are pinnable. */
function ipv4Endpoint(endpoint: string): { ip: string; port: number } | undefined {
  const m = /^(?:(https?):\/\/)?(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?(?:\/.*)?$/.exec(endpoint);
  if (!m) return undefined;
  return { ip: m[2], port: m[3] !== undefined ? Number(m[3]) : m[1] === "http" ? 80 : 443 };
}

/**
 * Outbound rules. Online: nodes fetch the RKE2 release, so they may reach anywhere. Air-gapped (MISSION: no outbound
 * connection from any node): only the VPC (each other, the load balancer, the VPC's DNS resolver), S3 through the
 * gateway endpoint when snapshots go there, and each registry given as an IP address outside the VPC (a registry
 * named by DNS must resolve inside the VPC, which the VPC rule covers). Load balancers and the bastion only reach the
 * VPC; the bastion only its SSH port.
 */
export function egressRules(spec: ClusterSpec, groups: Group[]): EgressRule[] {
  const rules: EgressRule[] = [];
  const nodeGroups = groups.filter((g) => g === "server" || g === "agent");
  const airgap = spec.install.mode === "airgap";
  for (const from of nodeGroups) {
    if (!airgap) {
      rules.push({
        from,
        protocol: "-1",
        to: { cidr: "0.0.0.0/0" },
        description: "all outbound (online install)",
      });
      continue;
    }
    rules.push({ from, protocol: "-1", to: { vpc: true }, description: "inside the VPC" });
    if (spec.etcdSnapshots.s3 && from === "server")
      rules.push({
        from,
        protocol: "tcp",
        port: 443,
        to: { s3PrefixList: true },
        description: "etcd snapshots to S3",
      });
    const registries = [
      ...(spec.registries.systemDefaultRegistry !== undefined ? [spec.registries.systemDefaultRegistry] : []),
      ...Object.values(spec.registries.mirrors).flatMap((m) => m.endpoints),
    ];
    const seen = new Set<string>();
    for (const r of registries) {
      const e = ipv4Endpoint(r);
      if (!e || seen.has(`${e.ip}:${e.port}`)) continue;
      seen.add(`${e.ip}:${e.port}`);
      rules.push({
        from,
        protocol: "tcp",
        port: e.port,
        to: { cidr: `${e.ip}/32` },
        description: `registry mirror ${e.ip}:${e.port}`,
      });
    }
  }
  for (const from of groups.filter((g) => g === "nlb" || g === "api"))
    rules.push({ from, protocol: "-1", to: { vpc: true }, description: "to the servers" });
  if (groups.includes("bastion"))
    rules.push({
      from: "bastion",
      protocol: "tcp",
      port: 22,
      to: { vpc: true },
      description: "SSH to the nodes",
    });
  return rules;
}

/** The /20 subnets of a new VPC: public subnets first, private ones from index 8 (room for 8 zones each). */
export function subnetCidr(vpcCidr: string, index: number): string {
  const net = parseIpv4Cidr(vpcCidr);
  if (!net || net.prefix > 20 || index >= 2 ** (20 - net.prefix)) {
    throw new Error(`vpcCidr ${vpcCidr} has no room for /20 subnet number ${index}; use a /16 or larger`);
  }
  const base = net.base + index * 2 ** 12;
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256);
  return `${octets.join(".")}/20`;
}

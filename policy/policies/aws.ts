// EC2 and security group policies (CIS-adjacent host exposure rules of the hardening guides and AWS best practice),
// and the air-gap rule: an air-gapped stack on AWS has no way out of its VPC.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { envOf } from "./files";
import { known, nodeViews } from "./nodes";

const INSTANCE = "aws:ec2/instance:Instance";

export const imdsv2Required: ResourceValidationPolicy = {
  name: "ec2-imdsv2-required",
  description: "EC2 instances require IMDSv2 session tokens.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== INSTANCE) return;
    const tokens = (args.props.metadataOptions as { httpTokens?: string } | undefined)?.httpTokens;
    if (tokens !== "required") {
      report(
        `instance ${args.name}: metadataOptions.httpTokens is ${JSON.stringify(tokens)}; set it to "required" (IMDSv2 only)`,
      );
    }
  },
};

export const rootVolumeEncrypted: ResourceValidationPolicy = {
  name: "ec2-root-volume-encrypted",
  description: "EC2 root volumes are encrypted.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== INSTANCE) return;
    const encrypted = (args.props.rootBlockDevice as { encrypted?: boolean } | undefined)?.encrypted;
    if (encrypted !== true)
      report(`instance ${args.name}: rootBlockDevice.encrypted is not true; encrypt the root volume`);
  },
};

export const noPublicIpOnServers: ResourceValidationPolicy = {
  name: "ec2-no-public-ip-on-servers",
  description: "RKE2 servers get no public address unless the pack's config allows it.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { allowPublicServers: { type: "boolean", default: false } } },
  validateResource: (args, report) => {
    if (args.type !== INSTANCE) return;
    const tags = (args.props.tags ?? {}) as Record<string, string>;
    const allowed = args.getConfig<{ allowPublicServers?: boolean }>().allowPublicServers === true;
    if (tags["hardened-rke2/role"] === "server" && args.props.associatePublicIpAddress === true && !allowed) {
      report(
        `server ${args.name} has a public address; set nodes.publicIp: false (or allowPublicServers in the pack config for dev)`,
      );
    }
  },
};

/** Ports that must never be open to the internet: SSH, the API, registration, kubelet and etcd. */
const GUARDED: [number, number][] = [
  [22, 22],
  [6443, 6443],
  [9345, 9345],
  [10250, 10250],
  [2379, 2381],
];

export const noPublicClusterPorts: ResourceValidationPolicy = {
  name: "security-group-no-public-cluster-ports",
  description:
    "No security group rule opens SSH, the API, registration, kubelet or etcd to 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") return;
    const p = args.props as {
      cidrIpv4?: string;
      cidrIpv6?: string;
      fromPort?: number;
      toPort?: number;
      ipProtocol?: string;
    };
    const open = p.cidrIpv4 === "0.0.0.0/0" || p.cidrIpv6 === "::/0";
    const all = p.ipProtocol === "-1";
    const from = p.fromPort ?? 0;
    const to = p.toPort ?? 65535;
    const hit = GUARDED.find(([lo, hi]) => all || (from <= hi && to >= lo));
    if (open && hit) {
      report(
        `rule ${args.name} opens port ${hit[0]}${hit[1] !== hit[0] ? `-${hit[1]}` : ""} to ${p.cidrIpv4 ?? p.cidrIpv6}; restrict it to the operator's ranges`,
      );
    }
  },
};

const OPEN = new Set(["0.0.0.0/0", "::/0"]);

/** What in `r` gives an air-gapped stack a way out of the VPC, or "" when nothing does. */
function routeOut(r: { type: string; props: Record<string, unknown> }): string {
  const p = r.props;
  switch (r.type) {
    case "aws:ec2/internetGateway:InternetGateway":
    case "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway":
    case "aws:ec2/natGateway:NatGateway":
      return "is a gateway to the internet";
    case "aws:ec2/routeTable:RouteTable": {
      const routes = (p.routes ?? []) as { cidrBlock?: string; ipv6CidrBlock?: string }[];
      const open = routes.find((x) => OPEN.has(x.cidrBlock ?? "") || OPEN.has(x.ipv6CidrBlock ?? ""));
      return open ? `routes ${open.cidrBlock ?? open.ipv6CidrBlock} out of the VPC` : "";
    }
    case "aws:ec2/route:Route":
      return OPEN.has(String(p.destinationCidrBlock)) || OPEN.has(String(p.destinationIpv6CidrBlock))
        ? "is a default route out of the VPC"
        : "";
    case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
      return OPEN.has(String(p.cidrIpv4)) || OPEN.has(String(p.cidrIpv6))
        ? `allows outbound traffic to ${String(p.cidrIpv4 ?? p.cidrIpv6)}`
        : "";
    case INSTANCE:
      return p.associatePublicIpAddress === true ? "has a public address" : "";
    case "aws:lb/loadBalancer:LoadBalancer":
      return p.internal === false ? "is internet-facing" : "";
    default:
      return "";
  }
}

export const airgapNoRouteOut: StackValidationPolicy = {
  name: "aws-airgap-no-route-out",
  description:
    "An air-gapped stack on AWS has no internet or NAT gateway, no default route, no all-outbound rule and nothing public.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    // Air-gapped: the node env a node receives says so (the same record the nodes read; its plan on a first preview).
    const airgap = nodeViews(args.resources).some((n) => envOf(n.files).INSTALL_MODE === "airgap");
    if (!airgap) return;
    for (const r of args.resources) {
      // A rule whose range is not known yet (a first preview: the VPC's range comes from this update) is judged on
      // the next preview; the rest of the stack is judged now.
      const why = known(() => routeOut(r));
      if (why)
        report(
          `${r.name} ${why}, but the stack is air-gapped (install.mode airgap: no outbound connection from any node); remove it`,
        );
    }
  },
};

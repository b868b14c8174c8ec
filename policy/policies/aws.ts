// EC2 and security group policies (CIS-adjacent host exposure rules of the hardening guides and AWS best practice).
import type { ResourceValidationPolicy } from "@pulumi/policy";

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

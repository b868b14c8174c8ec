// Node source "aws": a VPC (or given subnets), one security group per role with only RKE2's ports, EC2 instances with
// IMDSv2 required and encrypted gp3 root volumes, pinned SSH host keys, and an NLB as the fixed registration address
// for HA control planes.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { GeneratedHostKey } from "../bootstrap/generated";
import { knownAtPreview } from "../bootstrap/remote";
import { planNodes, registrationAddressOf, type PlannedNode } from "../spec/plan";
import type { AwsNodes, ClusterSpec } from "../spec/types";
import { securityGroupRules, subnetCidr, type Group } from "./network";
import type { Node, NodeSet } from "./types";

export interface AwsNodeSourceArgs {
  /** The validated cluster spec. */
  spec: ClusterSpec;
  /** Its `nodes` section (source aws). */
  source: AwsNodes;
  /** The operator's SSH private key (secret), used by the bootstrap to reach the instances. */
  privateKey: pulumi.Output<string>;
}

interface Network {
  vpcId: pulumi.Output<string>;
  vpcCidr: pulumi.Output<string>;
  /** Subnets instances go in, one per zone (round robin). */
  nodeSubnets: pulumi.Output<string>[];
  /** Subnets the load balancer spans. */
  lbSubnets: pulumi.Output<string>[];
}

/** cloud-init that installs the stack's host key instead of generated ones, so the pinned key is the real one. */
export function hostKeyCloudInit(privateKeyPem: string, publicKey: string): string {
  return `#cloud-config\n${stringify({
    ssh_deletekeys: true,
    ssh_genkeytypes: [],
    ssh_keys: { ecdsa_private: privateKeyPem, ecdsa_public: publicKey },
  })}`;
}

export class AwsNodeSource extends pulumi.ComponentResource implements NodeSet {
  readonly nodes: Node[];
  readonly registrationAddress: pulumi.Output<string>;
  readonly securityGroupIds: Record<Group, pulumi.Output<string> | undefined>;

  constructor(name: string, args: AwsNodeSourceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rke2:nodes:AwsNodeSource", name, {}, opts);
    const { spec, source } = args;
    const tags = { ...source.tags, "hardened-rke2/cluster": spec.name };
    const parent = { parent: this };

    const network = this.network(name, source, tags);
    const groups = this.securityGroups(name, spec, source, network, tags);
    this.securityGroupIds = { server: groups.server.id, agent: groups.agent.id, nlb: groups.nlb?.id };

    const keyPair = new aws.ec2.KeyPair(`${name}-key`, { publicKey: source.publicKey, tags }, parent);
    const amiId =
      "id" in source.ami
        ? pulumi.output(source.ami.id)
        : aws.ec2
            .getAmiOutput(
              {
                mostRecent: true,
                owners: [source.ami.owner],
                filters: [
                  { name: "name", values: [source.ami.namePattern] },
                  { name: "architecture", values: [spec.install.arch === "arm64" ? "arm64" : "x86_64"] },
                ],
              },
              parent,
            )
            .apply((ami) => ami.id);

    this.nodes = planNodes(spec).map((planned, i) =>
      this.instance(name, planned, i, {
        source,
        groups,
        network,
        keyPair,
        amiId,
        tags,
        privateKey: args.privateKey,
      }),
    );
    const servers = this.nodes.filter((n) => n.role === "server");
    this.registrationAddress = registrationAddressOf(spec, this.nodes, {
      fixed: (address) => pulumi.output(address),
      loadBalancer: () => this.loadBalancer(name, source, network, groups.nlb, servers, tags),
    });
    this.registerOutputs({ registrationAddress: this.registrationAddress });
  }

  private network(name: string, source: AwsNodes, tags: Record<string, string>): Network {
    const parent = { parent: this };
    if ("subnetIds" in source.network) {
      const vpcId = source.network.vpcId;
      const subnets = source.network.subnetIds.map((id) => pulumi.output(id));
      return {
        vpcId: pulumi.output(vpcId),
        vpcCidr: aws.ec2.getVpcOutput({ id: vpcId }, parent).cidrBlock,
        nodeSubnets: subnets,
        lbSubnets: subnets,
      };
    }
    const { vpcCidr, zones } = source.network;
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags },
      parent,
    );
    const azs = aws.getAvailabilityZonesOutput({ state: "available" }, parent).names;
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags }, parent);
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags },
      parent,
    );
    const subnet = (kind: "public" | "private", zone: number, routeTable: aws.ec2.RouteTable) => {
      const s = new aws.ec2.Subnet(
        `${name}-${kind}-${zone}`,
        {
          vpcId: vpc.id,
          cidrBlock: subnetCidr(vpcCidr, (kind === "public" ? 0 : 8) + zone),
          availabilityZone: azs[zone],
          // Addresses are given per instance (publicIp), never by default to everything in the subnet.
          mapPublicIpOnLaunch: false,
          tags: { ...tags, Name: `${name}-${kind}-${zone}` },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-${kind}-${zone}`,
        { subnetId: s.id, routeTableId: routeTable.id },
        parent,
      );
      return s.id;
    };
    const publicSubnets = Array.from({ length: zones }, (_, z) => subnet("public", z, publicRoutes));
    if (source.publicIp) {
      return { vpcId: vpc.id, vpcCidr: vpc.cidrBlock, nodeSubnets: publicSubnets, lbSubnets: publicSubnets };
    }
    // Nodes without public addresses reach the RKE2 release (online install) through one NAT gateway.
    const eip = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags }, parent);
    const nat = new aws.ec2.NatGateway(
      `${name}-nat`,
      { allocationId: eip.id, subnetId: publicSubnets[0], tags },
      parent,
    );
    const privateRoutes = new aws.ec2.RouteTable(
      `${name}-private`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags },
      parent,
    );
    const privateSubnets = Array.from({ length: zones }, (_, z) => subnet("private", z, privateRoutes));
    return { vpcId: vpc.id, vpcCidr: vpc.cidrBlock, nodeSubnets: privateSubnets, lbSubnets: privateSubnets };
  }

  private securityGroups(
    name: string,
    spec: ClusterSpec,
    source: AwsNodes,
    network: Network,
    tags: Record<string, string>,
  ) {
    const parent = { parent: this };
    const group = (role: Group, description: string) => {
      const sg = new aws.ec2.SecurityGroup(
        `${name}-${role}`,
        { vpcId: network.vpcId, description, tags: { ...tags, Name: `${name}-${role}` } },
        parent,
      );
      // Nodes reach the RKE2 release, registries and each other; egress is not what the CIS benchmark restricts.
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-${role}-egress`,
        { securityGroupId: sg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all outbound" },
        parent,
      );
      return sg;
    };
    const groups = {
      server: group("server", "RKE2 servers: only the ports RKE2 needs"),
      agent: group("agent", "RKE2 agents: only the ports RKE2 needs"),
      nlb: source.loadBalancer ? group("nlb", "RKE2 registration load balancer") : undefined,
    };
    const idOf = (g: Group) => {
      const sg = groups[g];
      if (!sg) throw new Error(`rule refers to security group ${g}, which this stack does not create`);
      return sg.id;
    };
    securityGroupRules(spec.cni, source).forEach((rule, i) => {
      const from = rule.from;
      const ipv6 = "cidr" in from && from.cidr.includes(":");
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${rule.to}-in-${i}`,
        {
          securityGroupId: idOf(rule.to),
          ipProtocol: rule.protocol,
          fromPort: rule.fromPort,
          toPort: rule.toPort,
          description: rule.description,
          ...("group" in from ? { referencedSecurityGroupId: idOf(from.group) } : {}),
          ...("cidr" in from ? (ipv6 ? { cidrIpv6: from.cidr } : { cidrIpv4: from.cidr }) : {}),
        },
        parent,
      );
    });
    return groups;
  }

  private instance(
    name: string,
    planned: PlannedNode,
    i: number,
    ctx: {
      source: AwsNodes;
      groups: { server: aws.ec2.SecurityGroup; agent: aws.ec2.SecurityGroup };
      network: Network;
      keyPair: aws.ec2.KeyPair;
      amiId: pulumi.Output<string>;
      tags: Record<string, string>;
      privateKey: pulumi.Output<string>;
    },
  ): Node {
    const { source, groups, network } = ctx;
    const parent = { parent: this };
    const pool =
      planned.role === "server" ? source.servers : source.agentPools.find((p) => p.name === planned.pool);
    if (!pool) throw new Error(`node ${planned.name} belongs to no pool`);
    const hostKey = new GeneratedHostKey(`${name}-${planned.name}-hostkey`, parent);
    const userData = pulumi.secret(
      pulumi
        .all([hostKey.privateKeyPem, hostKey.publicKey])
        .apply(([pem, pub]) => hostKeyCloudInit(pem, pub)),
    );
    const instance = new aws.ec2.Instance(
      `${name}-${planned.name}`,
      {
        ami: ctx.amiId,
        instanceType: pool.instanceType,
        subnetId: network.nodeSubnets[i % network.nodeSubnets.length],
        vpcSecurityGroupIds: [planned.role === "server" ? groups.server.id : groups.agent.id],
        keyName: ctx.keyPair.keyName,
        associatePublicIpAddress: source.publicIp,
        // IMDSv2 only; hop limit 1 keeps pods (one hop further) away from the instance credentials.
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: {
          volumeType: "gp3",
          volumeSize: pool.rootVolumeGb,
          encrypted: true,
          deleteOnTermination: true,
        },
        userData,
        tags: { ...ctx.tags, Name: `${name}-${planned.name}`, "hardened-rke2/role": planned.role },
      },
      parent,
    );
    return {
      ...planned,
      privateAddress: instance.privateIp,
      connection: {
        host: knownAtPreview(
          source.publicIp ? instance.publicIp : instance.privateIp,
          "address-known-after-create",
        ),
        port: 22,
        user: source.sshUser,
        hostKey: knownAtPreview(hostKey.publicKey, "host-key-known-after-create"),
        privateKey: ctx.privateKey,
        // SSH keeps failing while the instance boots and cloud-init installs its host key: 60 tries of 10 s at most.
        dialErrorLimit: 60,
        perDialTimeout: 10,
        // The key is generated by the stack and installed by cloud-init: there is nothing to compare before boot.
        checkHostKey: false,
      },
      machine: instance,
    };
  }

  private loadBalancer(
    name: string,
    source: AwsNodes,
    network: Network,
    group: aws.ec2.SecurityGroup | undefined,
    servers: Node[],
    tags: Record<string, string>,
  ): pulumi.Output<string> {
    const parent = { parent: this };
    const nlb = new aws.lb.LoadBalancer(
      `${name}-nlb`,
      {
        loadBalancerType: "network",
        internal: !source.publicIp,
        subnets: network.lbSubnets,
        securityGroups: group ? [group.id] : [],
        enableCrossZoneLoadBalancing: true,
        tags,
      },
      parent,
    );
    for (const port of [6443, 9345]) {
      const tg = new aws.lb.TargetGroup(
        `${name}-${port}`,
        {
          port,
          protocol: "TCP",
          vpcId: network.vpcId,
          targetType: "instance",
          // A server joining through the NLB may be routed to itself; with the client address preserved that
          // hairpin connection would hang, so targets see the NLB's address (admitted by the NLB's group only).
          preserveClientIp: "false",
          healthCheck: { protocol: "TCP", port: String(port) },
          tags,
        },
        parent,
      );
      new aws.lb.Listener(
        `${name}-${port}`,
        {
          loadBalancerArn: nlb.arn,
          port,
          protocol: "TCP",
          defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
        },
        parent,
      );
      servers.forEach((s) => {
        if (!s.machine) throw new Error(`server ${s.name} has no instance`);
        new aws.lb.TargetGroupAttachment(
          `${name}-${port}-${s.name}`,
          { targetGroupArn: tg.arn, targetId: s.machine.id, port },
          parent,
        );
      });
    }
    return nlb.dnsName;
  }
}

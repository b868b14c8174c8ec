// Section "nodes": where the machines come from. `aws` creates them (VPC or given subnets, one security group per
// role, an NLB for HA); `existing` adopts hosts reached over SSH with pinned host keys.
import { z } from "zod";
import { anyCidr, dnsLabel, ipv4Cidr, labels, port, taints } from "./fields";
import { coversInternet, isAddress, parseIpv4Cidr } from "./net";
import { sshKeyProblem } from "./ssh-key";
import { bad, fmt, isRecord, type Path, type Problems } from "./problems";
import { section } from "./section";

const PUBLIC_KEY_HINT = "allowed: '<type> <base64> [comment]' of an ssh-ed25519 (preferred) or ssh-rsa key";
// EC2 key pairs import only ED25519 and RSA keys (AWS ImportKeyPair).
const EC2_KEY_TYPES = "is an ECDSA key, which EC2 cannot import as a key pair";

/** An IP address or DNS name, for the key `what` describes. */
const address = (what: string) =>
  z
    .string({ error: bad(`is not an address; allowed: ${what}, an IP address or a DNS name`) })
    .refine(isAddress, {
      error: bad(
        `is not an IP address or a DNS name; allowed: ${what}, e.g. 192.0.2.10 or node1.example.com`,
      ),
    });

const awsNodes = z.strictObject({
  source: z.literal("aws"),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: bad("is not an AWS region; allowed: e.g. eu-west-1") }),
  vpcCidr: ipv4Cidr.optional(),
  zones: z.number().int().min(1).max(6).default(3),
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]+$/, { error: bad("is not a VPC id; allowed: vpc-<hex>") })
    .optional(),
  subnetIds: z
    .array(
      z.string().regex(/^subnet-[0-9a-f]+$/, { error: bad("is not a subnet id; allowed: subnet-<hex>") }),
    )
    .optional(),
  sshCidrs: z
    .array(anyCidr)
    .min(1, { error: bad("is empty; allowed: the operator ranges that may reach SSH") }),
  apiCidrs: z.array(anyCidr).optional(),
  allowPublicSsh: z.boolean().default(false),
  allowPublicApi: z.boolean().default(false),
  publicIp: z.boolean().default(false),
  amiId: z
    .string()
    .regex(/^ami-[0-9a-f]+$/, { error: bad("is not an AMI id; allowed: ami-<hex>") })
    .optional(),
  amiOwner: z.string().default("099720109477"),
  /** Canonical's Ubuntu 22.04 image for install.arch when unset (see defaultAmiNamePattern). */
  amiNamePattern: z.string().optional(),
  /** Any text; the image found on the first `up` is kept until this changes (then the newest is looked up again). */
  amiRefresh: z.string().optional(),
  /** An AWS CLI profile for the stack's AWS provider (else the usual credential chain). */
  profile: z.string().min(1).optional(),
  /** A role the stack's AWS provider assumes. */
  assumeRoleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, {
      error: bad("is not an IAM role ARN; allowed: arn:aws:iam::<account>:role/<name>"),
    })
    .optional(),
  /** Where the operator's machine reaches the API: a public address, or the registration address inside the VPC. */
  apiAccess: z.enum(["public", "private"]).optional(),
  /** A jump host in a public subnet that every SSH connection goes through (nodes without public addresses). */
  bastion: z
    .strictObject({
      instanceType: z.string().optional(),
      rootVolumeGb: z.number().int().min(8).max(16384).default(20),
    })
    .optional(),
  sshUser: z.string().default("ubuntu"),
  /** The operator's SSH public key, imported as the EC2 key pair. */
  publicKey: z.string({ error: bad(PUBLIC_KEY_HINT) }).check((ctx) => {
    const problem = sshKeyProblem(ctx.value) ?? (ctx.value.startsWith("ecdsa-") ? EC2_KEY_TYPES : undefined);
    if (problem)
      ctx.issues.push({
        code: "custom",
        input: ctx.value,
        message: `${fmt(ctx.value)} ${problem}; ${PUBLIC_KEY_HINT}`,
      });
  }),
  servers: z.strictObject({
    count: z.number({ error: bad("is not a number; allowed: 1, 3, 5 or 7") }).int(),
    instanceType: z.string().default("m6i.xlarge"),
    rootVolumeGb: z.number().int().min(20).max(16384).default(100),
  }),
  agentPools: z
    .array(
      z.strictObject({
        name: dnsLabel(30),
        count: z.number().int().min(0).max(500),
        instanceType: z.string().default("m6i.large"),
        rootVolumeGb: z.number().int().min(20).max(16384).default(100),
        labels,
        taints,
      }),
    )
    .default([]),
  /** An NLB in front of the servers as the fixed registration address (default for 3+ servers). */
  loadBalancer: z.boolean().optional(),
  tags: z.record(z.string(), z.string()).default({}),
});

const HOST_KEY_HINT =
  "allowed: the host's SSH public key as '<type> <base64>', e.g. from `ssh-keyscan -t ed25519 <address>` checked " +
  "out of band; host-key checking is never turned off";
const existingNodes = z.strictObject({
  source: z.literal("existing"),
  sshUser: z.string().default("root"),
  /** A fixed address (VIP or DNS name) in front of the servers; the first server's private address when unset. */
  registrationAddress: address("the fixed address in front of the servers").optional(),
  hosts: z
    .array(
      z.strictObject({
        name: dnsLabel(63),
        /** Where SSH reaches the host. */
        address: address("where SSH reaches the host"),
        /** The address other nodes use; the SSH address when unset. */
        privateAddress: address("the address other nodes reach the host on").optional(),
        port: port.default(22),
        user: z.string().optional(),
        role: z.enum(["server", "agent"]),
        /** The pinned SSH host public key, `<type> <base64>`. */
        hostKey: z.string({ error: bad(HOST_KEY_HINT) }).check((ctx) => {
          const problem = sshKeyProblem(ctx.value);
          if (problem)
            ctx.issues.push({
              code: "custom",
              input: ctx.value,
              message: `${fmt(ctx.value)} ${problem}; ${HOST_KEY_HINT}`,
            });
        }),
        labels,
        taints,
      }),
    )
    .min(1, { error: bad("is empty; allowed: at least one server host") }),
});

/** The two node sources; `nodes.source` picks one before the rest is parsed, so errors name the right keys. */
export const nodeSchemas = { aws: awsNodes, existing: existingNodes };

export const nodesShape = { nodes: z.unknown() };

/** etcd needs a majority of servers to agree, so 2 servers tolerate no more failures than 1 and any even count
 * only adds risk: allowed counts are 1 (no HA) or an odd number from 3. */
function serverCountProblem(count: number, what: string): string | undefined {
  if (count > 7) {
    return `${what} ${count}, more than 7 (etcd advises at most 7 members: each one more slows every write); allowed: 1, 3, 5 or 7`;
  }
  if (count >= 1 && count % 2 === 1) return undefined;
  const why =
    count < 1 ? "a cluster needs at least one server" : "an even count adds no etcd fault tolerance";
  return `${what} ${count}, ${count < 1 ? "too few" : "an even count"} (${why}); allowed: 1, 3, 5 or 7`;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const field = (v: unknown, key: string): unknown => (isRecord(v) ? v[key] : undefined);

/** Every name in `items` used once. */
function checkUnique(
  problems: Problems,
  items: unknown[],
  path: Path,
  allowed: string,
  reserved: string[] = [],
) {
  const seen = new Set<unknown>(reserved);
  items.forEach((item, i) => {
    const name = field(item, "name");
    if (typeof name === "string" && seen.has(name)) {
      problems.add([...path, i, "name"], `${fmt(name)} ${allowed}`);
    }
    seen.add(name);
  });
}

/** A range list that admits the whole internet, in one range or together, needs the explicit opt-in. */
function checkPublic(
  problems: Problems,
  path: Path,
  cidrs: unknown[],
  optIn: unknown,
  optInKey: string,
  what: string,
) {
  if (optIn === true) return;
  const strings = cidrs.filter((c): c is string => typeof c === "string");
  const allow = `allowed: the operator's own ranges, or set nodes.${optInKey}: true to accept the exposure explicitly`;
  const open = cidrs.flatMap((c, i) => (typeof c === "string" && coversInternet([c]) ? [i] : []));
  for (const i of open)
    problems.add([...path, i], `${fmt(cidrs[i])} opens ${what} to the whole internet; ${allow}`);
  if (open.length === 0 && coversInternet(strings)) {
    problems.add(path, `${fmt(strings)} together open ${what} to the whole internet; ${allow}`);
  }
}

/** The AWS rules that span fields. They read the raw value, so a bad sibling (a taint, a region) never hides them. */
function checkAws(problems: Problems, n: Record<string, unknown>) {
  const count = field(n.servers, "count");
  const countProblem =
    typeof count === "number" ? serverCountProblem(count, "the server count is") : undefined;
  if (countProblem) problems.add(["nodes", "servers", "count"], countProblem);
  const hasSubnets = n.subnetIds !== undefined || n.vpcId !== undefined;
  if (hasSubnets && n.vpcCidr !== undefined) {
    problems.add(
      ["nodes", "vpcCidr"],
      `${fmt(n.vpcCidr)} conflicts with vpcId/subnetIds; allowed: either a new VPC ` +
        "(vpcCidr) or existing subnets (vpcId and subnetIds), not both",
    );
  }
  if (hasSubnets && (n.vpcId === undefined || list(n.subnetIds).length === 0)) {
    problems.add(
      ["nodes", "subnetIds"],
      `${fmt(n.subnetIds)} is incomplete; allowed: vpcId together with at least one subnet id`,
    );
  }
  const vpc = typeof n.vpcCidr === "string" ? parseIpv4Cidr(n.vpcCidr) : undefined;
  if (vpc && vpc.prefix > 16) {
    problems.add(
      ["nodes", "vpcCidr"],
      `${fmt(n.vpcCidr)} is too small; allowed: a /16 or larger (the stack carves a ` +
        "public and a private /20 subnet for each of up to 8 zones)",
    );
  }
  const ssh = list(n.sshCidrs);
  checkPublic(problems, ["nodes", "sshCidrs"], ssh, n.allowPublicSsh, "allowPublicSsh", "SSH (22)");
  checkPublic(
    problems,
    ["nodes", n.apiCidrs !== undefined ? "apiCidrs" : "sshCidrs"],
    n.apiCidrs !== undefined ? list(n.apiCidrs) : ssh,
    n.allowPublicApi,
    "allowPublicApi",
    "the Kubernetes API (6443) and registration (9345)",
  );
  for (const key of ["amiRefresh", "amiNamePattern"] as const) {
    if (n.amiId !== undefined && n[key] !== undefined)
      problems.add(
        ["nodes", key],
        `${fmt(n[key])} has no effect with amiId ${fmt(n.amiId)} (no image is looked up); allowed: remove one of them`,
      );
  }
  if (n.bastion !== undefined && n.publicIp === true) {
    problems.add(
      ["nodes", "bastion"],
      `${fmt(n.bastion)} is set together with publicIp: true, where SSH reaches the nodes directly; allowed: remove ` +
        "nodes.bastion, or set nodes.publicIp: false so that SSH goes through the bastion",
    );
  }
  checkUnique(
    problems,
    list(n.agentPools),
    ["nodes", "agentPools"],
    'is used twice; allowed: a unique pool name other than "server"',
    ["server"],
  );
}

const addressOf = (h: unknown) => {
  const a = field(h, "address");
  return typeof a === "string" ? a : "<address>";
};

function checkExisting(problems: Problems, n: Record<string, unknown>) {
  const hosts = list(n.hosts);
  const servers = hosts.filter((h) => field(h, "role") === "server").length;
  const countProblem = serverCountProblem(servers, "the number of hosts with role server is");
  if (hosts.length > 0 && countProblem) problems.add(["nodes", "hosts"], countProblem);
  checkUnique(problems, hosts, ["nodes", "hosts"], "is used twice; allowed: unique host names");
  hosts.forEach((h, i) => {
    const key = field(h, "hostKey");
    if (typeof key === "string" && key.startsWith("ssh-rsa ") && sshKeyProblem(key) === undefined) {
      problems.add(
        ["nodes", "hosts", i, "hostKey"],
        `${fmt(key)} is an ssh-rsa key: the command provider pins it and offers only its SHA-1 ssh-rsa signature, ` +
          "which OpenSSH 8.8 and later refuse by default, so no connection would succeed; allowed: the host's ed25519 " +
          `key, from \`ssh-keyscan -t ed25519 ${addressOf(h)}\` checked out of band`,
      );
    }
  });
}

const givenSubnets = (vpcId: string, subnetIds: string[]) => ({ vpcId, subnetIds });
const newVpc = (vpcCidr: string, zones: number) => ({ vpcCidr, zones });

const amiById = (id: string) => ({ id });
/** The newest image matching the pattern, looked up once and kept until `refresh` changes. */
const amiByName = (owner: string, namePattern: string | undefined, refresh: string | undefined) => ({
  owner,
  /** Unset: Canonical's Ubuntu 22.04 for the install's architecture (defaultAmiNamePattern). */
  namePattern,
  refresh,
});

/** Canonical's Ubuntu 22.04 server image names, which carry the architecture (amd64 or arm64). */
export function defaultAmiNamePattern(arch: "amd64" | "arm64"): string {
  return `ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-${arch}-server-*`;
}

/** The bastion's instance type: the smallest general-purpose type of the image's architecture. */
export function defaultBastionType(arch: "amd64" | "arm64"): string {
  return arch === "arm64" ? "t4g.micro" : "t3.micro";
}

function awsSpec(n: z.output<typeof awsNodes>) {
  const hasSubnets = n.subnetIds !== undefined || n.vpcId !== undefined;
  return {
    source: "aws" as const,
    region: n.region,
    /** A new VPC with this CIDR (one public and one private subnet per zone), or existing subnets. */
    network: hasSubnets
      ? givenSubnets(n.vpcId ?? "", n.subnetIds ?? [])
      : newVpc(n.vpcCidr ?? "10.0.0.0/16", n.zones),
    /** Operator ranges allowed to reach SSH (22). */
    sshCidrs: n.sshCidrs,
    /** Ranges allowed to reach the Kubernetes API (6443) and, for joining nodes outside the VPC, 9345. */
    apiCidrs: n.apiCidrs ?? n.sshCidrs,
    /** Whether nodes get public addresses (dev); otherwise SSH reaches private addresses (bastion or VPN). */
    publicIp: n.publicIp,
    /**
     * Where the operator's machine (kubeconfig, the stack's Kubernetes provider, the verification) reaches the API:
     * `public` is the first server's public address (one server, no load balancer) or an internet-facing NLB open to
     * apiCidrs only; `private` is the registration address, reached from inside the VPC or over a VPN.
     */
    apiAccess: n.apiAccess ?? (n.publicIp ? ("public" as const) : ("private" as const)),
    /** A jump host every SSH connection goes through; unset: SSH reaches the nodes' own addresses. */
    bastion: n.bastion,
    profile: n.profile,
    assumeRoleArn: n.assumeRoleArn,
    ami: n.amiId !== undefined ? amiById(n.amiId) : amiByName(n.amiOwner, n.amiNamePattern, n.amiRefresh),
    sshUser: n.sshUser,
    publicKey: n.publicKey,
    servers: n.servers,
    agentPools: n.agentPools,
    // One server needs no load balancer; for 3+ the registration address must outlive any single server.
    loadBalancer: n.loadBalancer ?? n.servers.count >= 3,
    tags: n.tags,
  };
}

function existingSpec(n: z.output<typeof existingNodes>) {
  // Servers first, in the order given: the first server bootstraps the cluster and the others join one by one.
  const hosts = [...n.hosts]
    .sort((a, b) => (a.role === b.role ? 0 : a.role === "server" ? -1 : 1))
    .map((h) => ({ ...h, privateAddress: h.privateAddress ?? h.address, user: h.user ?? n.sshUser }));
  return { source: "existing" as const, hosts, registrationAddress: n.registrationAddress };
}

export type AwsNodes = ReturnType<typeof awsSpec>;
export type ExistingNodes = ReturnType<typeof existingSpec>;
export type ExistingHost = ExistingNodes["hosts"][number];
export type AgentPool = AwsNodes["agentPools"][number];
export type Role = ExistingHost["role"];
export type NodesSpec = AwsNodes | ExistingNodes;
const sshKey = {
  key: "sshPrivateKey",
  purpose: "the SSH private key that reaches every node",
  required: true,
};

export const nodes = section<typeof nodesShape, { nodes: NodesSpec }>({
  shape: nodesShape,
  build({ nodes: raw }, { problems }) {
    const source = isRecord(raw) ? raw.source : undefined;
    if (!isRecord(raw) || (source !== "aws" && source !== "existing")) {
      problems.add(["nodes", "source"], `${fmt(source)} is not a node source; allowed: aws, existing`);
      return undefined;
    }
    const before = problems.list.length;
    if (source === "aws") {
      const n = problems.parse(awsNodes, raw, ["nodes"]);
      checkAws(problems, raw);
      return n && problems.list.length === before
        ? { value: { nodes: awsSpec(n) }, secrets: [sshKey] }
        : undefined;
    }
    const n = problems.parse(existingNodes, raw, ["nodes"]);
    checkExisting(problems, raw);
    return n && problems.list.length === before
      ? { value: { nodes: existingSpec(n) }, secrets: [sshKey] }
      : undefined;
  },
});

// The schema of the stack config key `hardened-rke2:cluster`, as written in stacks/Pulumi.<env>.yaml.
// Each object is strict: an unknown key (a typo) is an error, never a silent fall back to a default.
// Defaults live here; cross-field rules (server counts, CIDR overlaps, version/profile) live in validate.ts.
import { z } from "zod";
import { isHostPort, isIpv6Cidr, parseIpv4Cidr } from "./net";

/** Renders a config value for an error message (values here are never secrets: secrets live in their own keys). */
export function fmt(value: unknown): string {
  if (value === undefined) return "nothing";
  // JSON.stringify gives undefined only for functions and symbols, which YAML config never holds.
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A custom error: "<value> <what>", so every message names the bad value and what is allowed. */
const bad =
  (what: string) =>
  (iss: { input?: unknown }): string =>
    iss.input === undefined ? `missing; ${what.replace(/^is [^;]*; /, "")}` : `${fmt(iss.input)} ${what}`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (max: number) =>
  z
    .string({ error: bad("is not a name; allowed: lower-case letters, digits and '-'") })
    .max(max, { error: bad(`is too long; allowed: at most ${max} characters`) })
    .regex(DNS_LABEL, { error: bad("is not a DNS label; allowed: lower-case letters, digits and '-'") });

const ipv4Cidr = z.string().refine((s) => parseIpv4Cidr(s) !== undefined, {
  error: bad(
    "is not an IPv4 network; allowed: a CIDR whose address is the network address, such as 10.42.0.0/16",
  ),
});
const anyCidr = z.string().refine((s) => parseIpv4Cidr(s) !== undefined || isIpv6Cidr(s), {
  error: bad("is not a network; allowed: an IPv4 or IPv6 CIDR such as 203.0.113.0/24"),
});

// Kubernetes label keys/values and taints as the API server accepts them.
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const labels = z
  .record(
    z.string().regex(LABEL_KEY, { error: bad("is not a label key; allowed: [prefix/]name") }),
    z
      .string()
      .regex(LABEL_VALUE, { error: bad("is not a label value; allowed: up to 63 letters, digits, '-_.'") }),
  )
  .default({});
const taints = z
  .array(
    z.string().regex(/^[^=:\s]+(=[^=:\s]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, {
      error: bad("is not a taint; allowed: key[=value]:NoSchedule|PreferNoSchedule|NoExecute"),
    }),
  )
  .default([]);

const SECRET_KEY_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** A reference to a secret stack config key (set with `pulumi config set --secret <key>`). */
const secretKeyName = z.string().regex(SECRET_KEY_RE, {
  error: bad("is not a config key name; allowed: the name of a secret config key such as registryPassword"),
});

const port = z.number().int().min(1).max(65535);
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
  amiNamePattern: z.string().default("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"),
  sshUser: z.string().default("ubuntu"),
  publicKey: z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+( .*)?$/, {
    error: bad("is not an SSH public key; allowed: '<type> <base64> [comment]' (ssh-ed25519 preferred)"),
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
  loadBalancer: z.boolean().optional(),
  tags: z.record(z.string(), z.string()).default({}),
});

const HOST_KEY_HINT =
  "allowed: the host's SSH public key as '<type> <base64>', e.g. from `ssh-keyscan -t ed25519 <address>` checked " +
  "out of band; host-key checking is never turned off";
const existingNodes = z.strictObject({
  source: z.literal("existing"),
  sshUser: z.string().default("root"),
  registrationAddress: z.string().min(1).optional(),
  hosts: z
    .array(
      z.strictObject({
        name: dnsLabel(63),
        address: z.string().min(1),
        privateAddress: z.string().min(1).optional(),
        port: port.default(22),
        user: z.string().optional(),
        role: z.enum(["server", "agent"]),
        hostKey: z
          .string({ error: bad(HOST_KEY_HINT) })
          .regex(/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+$/, {
            error: bad(`is not a host key; ${HOST_KEY_HINT}`),
          }),
        labels,
        taints,
      }),
    )
    .min(1, { error: bad("is empty; allowed: at least one server host") }),
});

const installSchema = z.strictObject({
  mode: z.enum(["online", "airgap"]).default("online"),
  arch: z.enum(["amd64", "arm64"]).default("amd64"),
  artifactsDir: z.string().min(1).optional(),
  artifactUrl: z
    .string()
    .regex(/^https:\/\/[^\s]+$/, {
      error: bad("is not an https URL; allowed: https://… (TLS is always verified)"),
    })
    .default("https://github.com/rancher/rke2/releases/download"),
  tarballSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, { error: bad("is not a sha256; allowed: 64 lower-case hex digits") })
    .optional(),
});

const registriesSchema = z.strictObject({
  systemDefaultRegistry: z
    .string()
    .refine(isHostPort, { error: bad("is not a registry host; allowed: host[:port], no scheme or path") })
    .optional(),
  disableDefaultEndpoint: z.boolean().optional(),
  mirrors: z
    .record(
      z.string(),
      z.strictObject({
        endpoints: z
          .array(
            z.string().regex(/^https?:\/\/[^\s]+$/, {
              error: bad("is not an endpoint URL; allowed: https://host[:port][/path]"),
            }),
          )
          .optional(),
        rewrites: z.record(z.string(), z.string()).default({}),
      }),
    )
    .default({}),
  configs: z
    .record(
      z.string(),
      z.strictObject({
        auth: z
          .strictObject({
            username: z.string().min(1),
            passwordSecret: secretKeyName.optional(),
            // Present only so that a plain-text password gets its own error (without echoing the value).
            password: z.unknown().optional(),
          })
          .optional(),
        tls: z
          .strictObject({
            caFile: z.string().min(1).optional(),
            certFile: z.string().min(1).optional(),
            keyFile: z.string().min(1).optional(),
          })
          .optional(),
      }),
    )
    .default({}),
});

const CRON = /^(\S+\s+){4}\S+$/;
const etcdSnapshotsSchema = z.strictObject({
  schedule: z
    .string()
    .regex(CRON, { error: bad("is not a cron expression; allowed: five fields, e.g. '0 */12 * * *'") })
    .default("0 */12 * * *"),
  retention: z.number().int().min(1).max(1000).default(5),
  s3: z
    .strictObject({
      bucket: z.string().min(3),
      region: z.string().default("us-east-1"),
      endpoint: z.string().default("s3.amazonaws.com"),
      folder: z.string().optional(),
      endpointCaFile: z.string().optional(),
      accessKeySecret: secretKeyName.default("etcdS3AccessKey"),
      secretKeySecret: secretKeyName.default("etcdS3SecretKey"),
    })
    .optional(),
});

// The CIS minimums (1.2.17–1.2.19 in CIS 1.9+, 1.2.18–1.2.20 in rke2-cis-1.8): lower values are refused.
const auditSchema = z.strictObject({
  policyFile: z.string().min(1).optional(),
  logPath: z
    .string()
    // A plain absolute path: it reaches the API server's flags and the node's commands.
    .regex(/^\/[A-Za-z0-9/._-]+$/, {
      error: bad(
        "is not a plain absolute path; allowed: letters, digits, '/', '.', '_' and '-', e.g. /var/lib/rancher/rke2/server/logs/audit.log",
      ),
    })
    .default("/var/lib/rancher/rke2/server/logs/audit.log"),
  maxAge: z
    .number()
    .int()
    .min(30, { error: bad("is below the CIS minimum; allowed: 30 or more days") })
    .default(30),
  maxBackup: z
    .number()
    .int()
    .min(10, { error: bad("is below the CIS minimum; allowed: 10 or more files") })
    .default(10),
  maxSize: z
    .number()
    .int()
    .min(100, { error: bad("is below the CIS minimum; allowed: 100 or more MB") })
    .default(100),
});

const namespaceSchema = z.strictObject({
  name: dnsLabel(63),
  podSecurity: z.enum(["restricted", "baseline", "privileged"]).default("restricted"),
  podSecurityReason: z.string().min(1).optional(),
  allowIngressFrom: z.array(peer).default([]),
  allowEgressTo: z.array(peer).default([]),
});

/** Top-level fields. `nodes` and `install` are parsed by validate.ts, which picks the variant first. */
export const clusterFields = {
  name: dnsLabel(40),
  distribution: z.enum(["rke2", "k3s"]).default("rke2"),
  version: z.string({
    error: bad("is not a version; allowed: a pinned RKE2 release such as v1.33.5+rke2r1"),
  }),
  profile: z.string().optional(),
  cni: z
    .enum(["canal", "calico", "cilium"], {
      error: bad(
        "is not a supported CNI; allowed: canal, calico, cilium (each enforces NetworkPolicy, CIS 5.3.1)",
      ),
    })
    .default("canal"),
  selinux: z.boolean().default(false),
  clusterCidr: ipv4Cidr.default("10.42.0.0/16"),
  serviceCidr: ipv4Cidr.default("10.43.0.0/16"),
  tlsSan: z.array(z.string().min(1)).default([]),
  nodes: z.unknown(),
  install: z.unknown(),
  registries: registriesSchema.default({ mirrors: {}, configs: {} }),
  secretsEncryption: z
    .literal(true, {
      error: bad(
        "cannot turn secrets encryption off; allowed: true (CIS 1.2.27/1.2.28; RKE2 forces it on servers)",
      ),
    })
    .default(true),
  etcdSnapshots: etcdSnapshotsSchema.default({ schedule: "0 */12 * * *", retention: 5 }),
  audit: auditSchema.default({
    logPath: "/var/lib/rancher/rke2/server/logs/audit.log",
    maxAge: 30,
    maxBackup: 10,
    maxSize: 100,
  }),
  podSecurity: z
    .strictObject({
      exemptions: z.array(z.strictObject({ namespace: dnsLabel(63), reason: z.string().min(1) })).default([]),
    })
    .default({ exemptions: [] }),
  namespaces: z.array(namespaceSchema).default([]),
  admissionGuard: z
    .strictObject({
      enabled: z.boolean().optional(),
      mode: z.enum(["deny", "warn"]).default("deny"),
    })
    .default({ mode: "deny" }),
  verification: z.enum(["enforce", "report"]).default("enforce"),
};

export const nodeSchemas = { aws: awsNodes, existing: existingNodes };
export { installSchema };

export type RawAwsNodes = z.infer<typeof awsNodes>;
export type RawExistingNodes = z.infer<typeof existingNodes>;
export type RawInstall = z.infer<typeof installSchema>;
export type RawRegistries = z.infer<typeof registriesSchema>;
export type RawEtcdSnapshots = z.infer<typeof etcdSnapshotsSchema>;
export type RawNamespace = z.infer<typeof namespaceSchema>;
export type RawPeer = z.infer<typeof peer>;

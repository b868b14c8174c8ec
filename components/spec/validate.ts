// Turns the raw `hardened-rke2:cluster` value into a ClusterSpec, or throws a ConfigError listing every problem at
// once. Each top-level field is parsed on its own, so one bad field never hides the problems of another, and each
// cross-field rule runs whenever the fields it reads parsed.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { checkAirgapFolder } from "./artifacts";
import { isOpenToAll, overlaps, parseIpv4Cidr } from "./net";
import {
  clusterFields,
  fmt,
  installSchema,
  nodeSchemas,
  type RawAwsNodes,
  type RawExistingNodes,
  type RawInstall,
  type RawNamespace,
  type RawPeer,
  type RawRegistries,
  type RawEtcdSnapshots,
} from "./schema";
import type {
  AwsNodes,
  ClusterSpec,
  ExistingNodes,
  InstallSpec,
  ManagedNamespace,
  Peer,
  RegistriesSpec,
  SecretRef,
  EtcdSnapshotSpec,
} from "./types";
import {
  ALL_PROFILES,
  CIS_PROFILES,
  OLDEST_SUPPORTED_MINOR,
  acceptedProfiles,
  benchmarkFor,
  defaultProfile,
  parseRke2Version,
  supportsDisableDefaultRegistryEndpoint,
  supportsValidatingAdmissionPolicy,
  type Profile,
  type Rke2Version,
} from "./version";

/** The project's config namespace: stack keys are `hardened-rke2:<key>`. */
export const PROJECT = "hardened-rke2";
export const CLUSTER_KEY = `${PROJECT}:cluster`;

/** Namespaces every RKE2 cluster has; the stack hardens them but never creates or deletes them. */
export const BUILTIN_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

export interface ConfigProblem {
  /** Where, as a config path: `cluster.nodes.hosts[1].hostKey`. */
  path: string;
  /** What is wrong and what is allowed. */
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface LoadContext {
  /** Every config key set on the stack (without the project prefix) and whether it is stored as a secret. */
  configKeys: ReadonlyMap<string, { secret: boolean }>;
  /** What relative paths in the config (artifacts folder, policy and TLS files) are resolved against. */
  baseDir: string;
  /** `pulumi up` needs every required secret; the offline render does not (it writes placeholders). */
  requireSecrets: boolean;
}

type Path = (string | number)[];

function pathText(path: Path): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(part) ? `${acc}.${part}` : `${acc}[${JSON.stringify(part)}]`;
  }, "cluster");
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(
        row[j] + 1,
        row[j - 1] + 1,
        prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
      );
      prev = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

/** "unknown key; did you mean …?" with the closest allowed key when one is close enough to be a typo. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const best = [...allowed].sort((x, y) => editDistance(key, x) - editDistance(key, y))[0];
  const hint =
    best !== undefined && editDistance(key, best) <= Math.max(2, Math.floor(key.length / 3))
      ? ` did you mean ${JSON.stringify(best)}?`
      : "";
  return `unknown key ${JSON.stringify(key)};${hint} allowed: ${allowed.join(", ")}`;
}

const KEY_SEPARATOR = "\u0000";

interface MapIssue {
  code?: string | undefined;
  input?: unknown;
  expected?: string;
  values?: unknown[];
  keys?: string[];
  minimum?: unknown;
  maximum?: unknown;
  origin?: string;
  inst?: unknown;
}

/** Messages for the issues a schema does not word itself: always the value and what is allowed. */
function defaultMessage(iss: MapIssue): string | undefined {
  const got = fmt(iss.input);
  switch (iss.code) {
    case "invalid_type":
      return iss.input === undefined
        ? `missing; allowed: a ${iss.expected}`
        : `${got} is not a ${iss.expected}; allowed: a ${iss.expected}`;
    case "invalid_value":
      return `${got} is not allowed; allowed: ${(iss.values ?? []).map((v) => String(v)).join(", ")}`;
    case "too_small":
      return iss.origin === "array"
        ? `${got} has too few entries; allowed: at least ${String(iss.minimum)}`
        : `${got} is too small; allowed: at least ${String(iss.minimum)}`;
    case "too_big":
      return iss.origin === "array"
        ? `${got} has too many entries; allowed: at most ${String(iss.maximum)}`
        : `${got} is too large; allowed: at most ${String(iss.maximum)}`;
    case "unrecognized_keys": {
      const def = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod
        ?.def;
      const allowed = Object.keys(def?.shape ?? {});
      return (iss.keys ?? []).map((k) => unknownKeyMessage(k, allowed)).join(KEY_SEPARATOR);
    }
    default:
      return undefined;
  }
}

class Problems {
  readonly list: ConfigProblem[] = [];
  add(path: Path, message: string): void {
    this.list.push({ path: pathText(path), message });
  }
  /** Parses `value` with `schema`; records every issue under `base` and returns the value when it parsed. */
  parse<T>(schema: z.ZodType<T>, value: unknown, base: Path): T | undefined {
    const result = schema.safeParse(value, {
      reportInput: true,
      error: (iss) => defaultMessage(iss),
    });
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const path = [...base, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
      if (issue.code === "unrecognized_keys") {
        issue.message
          .split(KEY_SEPARATOR)
          .forEach((message, i) => this.add([...path, issue.keys[i]], message));
      } else {
        this.add(path, issue.message);
      }
    }
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses and validates the whole cluster config; throws ConfigError with every problem found. */
export function buildClusterSpec(raw: unknown, ctx: LoadContext): ClusterSpec {
  const problems = new Problems();
  if (!isRecord(raw)) {
    problems.add(
      [],
      `${fmt(raw)} is not an object; allowed: a structured value under the key ${CLUSTER_KEY}`,
    );
    throw new ConfigError(problems.list);
  }

  const allowed = Object.keys(clusterFields);
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) problems.add([key], unknownKeyMessage(key, allowed));
  }
  const f = {
    name: problems.parse(clusterFields.name, raw.name, ["name"]),
    distribution: problems.parse(clusterFields.distribution, raw.distribution, ["distribution"]),
    version: problems.parse(clusterFields.version, raw.version, ["version"]),
    profile: problems.parse(clusterFields.profile, raw.profile, ["profile"]),
    cni: problems.parse(clusterFields.cni, raw.cni, ["cni"]),
    selinux: problems.parse(clusterFields.selinux, raw.selinux, ["selinux"]),
    clusterCidr: problems.parse(clusterFields.clusterCidr, raw.clusterCidr, ["clusterCidr"]),
    serviceCidr: problems.parse(clusterFields.serviceCidr, raw.serviceCidr, ["serviceCidr"]),
    tlsSan: problems.parse(clusterFields.tlsSan, raw.tlsSan, ["tlsSan"]),
    registries: problems.parse(clusterFields.registries, raw.registries, ["registries"]),
    secretsEncryption: problems.parse(clusterFields.secretsEncryption, raw.secretsEncryption, [
      "secretsEncryption",
    ]),
    etcdSnapshots: problems.parse(clusterFields.etcdSnapshots, raw.etcdSnapshots, ["etcdSnapshots"]),
    audit: problems.parse(clusterFields.audit, raw.audit, ["audit"]),
    podSecurity: problems.parse(clusterFields.podSecurity, raw.podSecurity, ["podSecurity"]),
    namespaces: problems.parse(clusterFields.namespaces, raw.namespaces, ["namespaces"]),
    admissionGuard: problems.parse(clusterFields.admissionGuard, raw.admissionGuard, ["admissionGuard"]),
    verification: problems.parse(clusterFields.verification, raw.verification, ["verification"]),
    install: problems.parse(installSchema, raw.install ?? {}, ["install"]),
  };

  if (f.distribution === "k3s") {
    problems.add(
      ["distribution"],
      `"k3s" is not supported yet; allowed: rke2 (K3s follows once RKE2 is complete)`,
    );
  }
  const version = checkVersion(problems, f.version);
  const profile = version && checkProfile(problems, version, f.profile);
  const nodes = parseNodes(problems, raw.nodes);

  const secrets: SecretRef[] = [
    {
      key: "clusterToken",
      purpose: "the RKE2 cluster token (generated by the stack when unset)",
      required: false,
    },
    { key: "sshPrivateKey", purpose: "the SSH private key that reaches every node", required: true },
  ];
  const registries = f.registries && buildRegistries(problems, f.registries, secrets, version);
  const etcdSnapshots = f.etcdSnapshots && buildEtcdSnapshots(f.etcdSnapshots, secrets);
  const namespaces = f.namespaces && buildNamespaces(problems, f.namespaces);
  checkCidrs(problems, f.clusterCidr, f.serviceCidr, nodes);
  checkExemptions(problems, f.podSecurity?.exemptions ?? []);
  const admissionGuard =
    f.admissionGuard && version && buildAdmissionGuard(problems, f.admissionGuard, version);
  const install = f.install && buildInstall(problems, f.install, ctx, f.cni, registries);
  checkSecrets(problems, secrets, ctx);
  checkOperatorFiles(problems, ctx, f.audit?.policyFile, f.registries, f.etcdSnapshots);

  if (
    problems.list.length > 0 ||
    !f.name ||
    !version ||
    !profile ||
    !nodes ||
    !install ||
    !registries ||
    !etcdSnapshots ||
    !namespaces ||
    !f.cni ||
    f.selinux === undefined ||
    !f.clusterCidr ||
    !f.serviceCidr ||
    !f.tlsSan ||
    !f.audit ||
    !f.podSecurity ||
    !admissionGuard ||
    !f.verification
  ) {
    throw new ConfigError(problems.list);
  }
  return {
    name: f.name,
    distribution: "rke2",
    version,
    profile,
    benchmark: benchmarkFor(version),
    cni: f.cni,
    selinux: f.selinux,
    clusterCidr: f.clusterCidr,
    serviceCidr: f.serviceCidr,
    tlsSan: f.tlsSan,
    nodes,
    install,
    registries,
    etcdSnapshots,
    audit: f.audit,
    podSecurity: f.podSecurity,
    namespaces,
    admissionGuard,
    verification: f.verification,
    secrets,
  };
}

function buildAdmissionGuard(
  problems: Problems,
  raw: { enabled?: boolean; mode: "deny" | "warn" },
  v: Rke2Version,
): ClusterSpec["admissionGuard"] | undefined {
  const supported = supportsValidatingAdmissionPolicy(v);
  if (raw.enabled === true && !supported) {
    problems.add(
      ["admissionGuard", "enabled"],
      `true needs ValidatingAdmissionPolicy, GA from Kubernetes 1.30, but ` +
        `RKE2 ${v.raw} is older; allowed: false, or a v1.30+ release`,
    );
    return undefined;
  }
  return { enabled: raw.enabled ?? supported, mode: raw.mode };
}

function checkVersion(problems: Problems, raw: string | undefined): Rke2Version | undefined {
  if (raw === undefined) return undefined;
  const v = parseRke2Version(raw);
  if (!v) {
    problems.add(
      ["version"],
      `${fmt(raw)} is not an RKE2 release; allowed: a pinned release such as v1.33.5+rke2r1`,
    );
    return undefined;
  }
  if (v.major !== 1 || v.minor < OLDEST_SUPPORTED_MINOR) {
    problems.add(
      ["version"],
      `${fmt(raw)} is older than the oldest supported line; allowed: v1.${OLDEST_SUPPORTED_MINOR}.0+rke2r1 or later ` +
        "(older RKE2 lines rely on PodSecurityPolicy and are end of life)",
    );
    return undefined;
  }
  return v;
}

function checkProfile(problems: Problems, v: Rke2Version, raw: string | undefined): Profile | undefined {
  const accepted = acceptedProfiles(v);
  const cisAccepted = accepted.filter((p) => CIS_PROFILES.includes(p));
  if (raw === undefined) return defaultProfile(v);
  const known = (ALL_PROFILES as readonly string[]).includes(raw);
  if (known && accepted.includes(raw as Profile) && !CIS_PROFILES.includes(raw as Profile)) {
    problems.add(
      ["profile"],
      `${fmt(raw)} is accepted by RKE2 ${v.raw} but is not a CIS profile (no kernel-parameter check, no restricted ` +
        `pod security); allowed: ${cisAccepted.join(", ")}`,
    );
    return undefined;
  }
  if (!known || !accepted.includes(raw as Profile)) {
    problems.add(
      ["profile"],
      `${fmt(raw)} is not accepted by RKE2 ${v.raw} (it would refuse to start); allowed: ${cisAccepted.join(", ")}` +
        " (or leave profile unset to derive it from the version)",
    );
    return undefined;
  }
  return raw as Profile;
}

function parseNodes(problems: Problems, raw: unknown): AwsNodes | ExistingNodes | undefined {
  const source = isRecord(raw) ? raw.source : undefined;
  if (source !== "aws" && source !== "existing") {
    problems.add(["nodes", "source"], `${fmt(source)} is not a node source; allowed: aws, existing`);
    return undefined;
  }
  if (source === "aws") {
    const n = problems.parse(nodeSchemas.aws, raw, ["nodes"]);
    return n && buildAwsNodes(problems, n);
  }
  const n = problems.parse(nodeSchemas.existing, raw, ["nodes"]);
  return n && buildExistingNodes(problems, n);
}

/** etcd needs a majority of servers to agree, so 2 servers tolerate no more failures than 1 and any even count
 * only adds risk: allowed counts are 1 (no HA) or an odd number from 3. */
function serverCountProblem(count: number, what: string): string | undefined {
  if (count >= 1 && count % 2 === 1) return undefined;
  const why =
    count < 1 ? "a cluster needs at least one server" : "an even count adds no etcd fault tolerance";
  return `${what} ${count}, ${count < 1 ? "too few" : "an even count"} (${why}); allowed: 1, 3, 5 or 7`;
}

function checkPublic(
  problems: Problems,
  path: Path,
  cidrs: string[],
  optIn: boolean,
  optInKey: string,
  what: string,
) {
  cidrs.forEach((cidr, i) => {
    if (isOpenToAll(cidr) && !optIn) {
      problems.add(
        [...path, i],
        `${fmt(cidr)} opens ${what} to the whole internet; allowed: the operator's own ranges, or set ` +
          `nodes.${optInKey}: true to accept the exposure explicitly`,
      );
    }
  });
}

function buildAwsNodes(problems: Problems, n: RawAwsNodes): AwsNodes | undefined {
  const before = problems.list.length;
  const countProblem = serverCountProblem(n.servers.count, "the server count is");
  if (countProblem) problems.add(["nodes", "servers", "count"], countProblem);
  const hasSubnets = n.subnetIds !== undefined || n.vpcId !== undefined;
  if (hasSubnets && n.vpcCidr !== undefined) {
    problems.add(
      ["nodes", "vpcCidr"],
      `${fmt(n.vpcCidr)} conflicts with vpcId/subnetIds; allowed: either a new VPC ` +
        "(vpcCidr) or existing subnets (vpcId and subnetIds), not both",
    );
  }
  if (hasSubnets && (n.vpcId === undefined || (n.subnetIds ?? []).length === 0)) {
    problems.add(
      ["nodes", "subnetIds"],
      `${fmt(n.subnetIds)} is incomplete; allowed: vpcId together with at least one subnet id`,
    );
  }
  const vpc = n.vpcCidr === undefined ? undefined : parseIpv4Cidr(n.vpcCidr);
  if (vpc && vpc.prefix > 16) {
    problems.add(
      ["nodes", "vpcCidr"],
      `${fmt(n.vpcCidr)} is too small; allowed: a /16 or larger (the stack carves a ` +
        "public and a private /20 subnet for each of up to 8 zones)",
    );
  }
  const apiCidrs = n.apiCidrs ?? n.sshCidrs;
  checkPublic(problems, ["nodes", "sshCidrs"], n.sshCidrs, n.allowPublicSsh, "allowPublicSsh", "SSH (22)");
  checkPublic(
    problems,
    ["nodes", n.apiCidrs ? "apiCidrs" : "sshCidrs"],
    apiCidrs,
    n.allowPublicApi,
    "allowPublicApi",
    "the Kubernetes API (6443) and registration (9345)",
  );
  const poolNames = new Set<string>();
  n.agentPools.forEach((p, i) => {
    if (poolNames.has(p.name) || p.name === "server") {
      problems.add(
        ["nodes", "agentPools", i, "name"],
        `${fmt(p.name)} is used twice; allowed: a unique pool name other than "server"`,
      );
    }
    poolNames.add(p.name);
  });
  if (problems.list.length > before) return undefined;
  return {
    source: "aws",
    region: n.region,
    network: hasSubnets
      ? { vpcId: n.vpcId ?? "", subnetIds: n.subnetIds ?? [] }
      : { vpcCidr: n.vpcCidr ?? "10.0.0.0/16", zones: n.zones },
    sshCidrs: n.sshCidrs,
    apiCidrs,
    publicIp: n.publicIp,
    ami: n.amiId !== undefined ? { id: n.amiId } : { owner: n.amiOwner, namePattern: n.amiNamePattern },
    sshUser: n.sshUser,
    publicKey: n.publicKey,
    servers: n.servers,
    agentPools: n.agentPools,
    // One server needs no load balancer; for 3+ the registration address must outlive any single server.
    loadBalancer: n.loadBalancer ?? n.servers.count >= 3,
    tags: n.tags,
  };
}

function buildExistingNodes(problems: Problems, n: RawExistingNodes): ExistingNodes | undefined {
  const servers = n.hosts.filter((h) => h.role === "server").length;
  const countProblem = serverCountProblem(servers, "the number of hosts with role server is");
  if (countProblem) problems.add(["nodes", "hosts"], countProblem);
  const names = new Set<string>();
  n.hosts.forEach((h, i) => {
    if (names.has(h.name))
      problems.add(["nodes", "hosts", i, "name"], `${fmt(h.name)} is used twice; allowed: unique host names`);
    names.add(h.name);
  });
  if (countProblem) return undefined;
  // Servers first, in the order given: the first server bootstraps the cluster and the others join one by one.
  const hosts = [...n.hosts]
    .sort((a, b) => (a.role === b.role ? 0 : a.role === "server" ? -1 : 1))
    .map((h) => ({
      name: h.name,
      address: h.address,
      privateAddress: h.privateAddress ?? h.address,
      port: h.port,
      user: h.user ?? n.sshUser,
      role: h.role,
      hostKey: h.hostKey,
      labels: h.labels,
      taints: h.taints,
    }));
  return { source: "existing", hosts, registrationAddress: n.registrationAddress };
}

function checkCidrs(
  problems: Problems,
  clusterCidr: string | undefined,
  serviceCidr: string | undefined,
  nodes: AwsNodes | ExistingNodes | undefined,
) {
  const ranges: [Path, string | undefined][] = [
    [["clusterCidr"], clusterCidr],
    [["serviceCidr"], serviceCidr],
  ];
  if (nodes?.source === "aws" && "vpcCidr" in nodes.network)
    ranges.push([["nodes", "vpcCidr"], nodes.network.vpcCidr]);
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [pa, a] = ranges[i];
      const [pb, b] = ranges[j];
      const ca = a === undefined ? undefined : parseIpv4Cidr(a);
      const cb = b === undefined ? undefined : parseIpv4Cidr(b);
      if (ca && cb && overlaps(ca, cb)) {
        problems.add(
          pb,
          `${fmt(b)} overlaps ${pathText(pa)} ${fmt(a)}; allowed: a range that shares no address with it`,
        );
      }
    }
  }
}

function buildInstall(
  problems: Problems,
  raw: RawInstall,
  ctx: LoadContext,
  cni: string | undefined,
  registries: RegistriesSpec | undefined,
): InstallSpec | undefined {
  if (raw.mode === "online") {
    if (raw.artifactsDir !== undefined) {
      problems.add(
        ["install", "artifactsDir"],
        `${fmt(raw.artifactsDir)} is only used by mode airgap; allowed: ` +
          "remove it, or set install.mode: airgap",
      );
      return undefined;
    }
    return { mode: "online", arch: raw.arch, artifactUrl: raw.artifactUrl, tarballSha256: raw.tarballSha256 };
  }
  if (raw.artifactsDir === undefined) {
    problems.add(
      ["install", "artifactsDir"],
      "missing; allowed: the operator folder holding the RKE2 tarball, " +
        `images and sha256sum-${raw.arch}.txt (required by mode airgap)`,
    );
    return undefined;
  }
  // Without a private registry every image must come from a tarball, including the chosen CNI's.
  const imagesFromRegistry = registries?.systemDefaultRegistry !== undefined;
  const result = checkAirgapFolder(
    ctx.baseDir,
    raw.artifactsDir,
    raw.arch,
    cni ?? "canal",
    imagesFromRegistry,
  );
  for (const message of result.problems) problems.add(["install", "artifactsDir"], message);
  if (result.problems.length > 0) return undefined;
  return {
    mode: "airgap",
    arch: raw.arch,
    artifactsDir: raw.artifactsDir,
    checksumFile: result.checksumFile,
    artifacts: result.artifacts,
  };
}

function buildRegistries(
  problems: Problems,
  raw: RawRegistries,
  secrets: SecretRef[],
  version: Rke2Version | undefined,
): RegistriesSpec {
  const canDisable = version === undefined || supportsDisableDefaultRegistryEndpoint(version);
  if (raw.disableDefaultEndpoint === true && !canDisable) {
    problems.add(
      ["registries", "disableDefaultEndpoint"],
      `true is not supported by RKE2 ${version?.raw ?? ""}; ` +
        "allowed: false, or a release from v1.26.13, v1.27.10, v1.28.6, v1.29.1 or v1.30 on",
    );
  }
  const mirrors: RegistriesSpec["mirrors"] = {};
  for (const [name, m] of Object.entries(raw.mirrors)) {
    if (!m.endpoints || m.endpoints.length === 0) {
      problems.add(
        ["registries", "mirrors", name, "endpoints"],
        `${m.endpoints === undefined ? "missing" : "[] is empty"}: the mirror has no endpoint; ` +
          "allowed: at least one URL such as https://registry.example.com:5000",
      );
      continue;
    }
    mirrors[name] = { endpoints: m.endpoints, rewrites: m.rewrites };
  }
  const configs: RegistriesSpec["configs"] = {};
  for (const [host, c] of Object.entries(raw.configs)) {
    const path: Path = ["registries", "configs", host, "auth"];
    let auth: RegistriesSpec["configs"][string]["auth"];
    if (c.auth) {
      if (c.auth.password !== undefined) {
        // The value is never echoed: it is the secret the operator just exposed.
        problems.add(
          [...path, "password"],
          "a plain-text password is not accepted (it would sit unencrypted in the " +
            "stack file and state); allowed: passwordSecret: <key>, with the value set by `pulumi config set --secret <key>`",
        );
      } else if (c.auth.passwordSecret === undefined) {
        problems.add(
          [...path, "passwordSecret"],
          "missing; allowed: the name of a secret config key holding the password",
        );
      } else {
        const ref = {
          key: c.auth.passwordSecret,
          purpose: `the password of registry ${host}`,
          required: true,
        };
        secrets.push(ref);
        auth = { username: c.auth.username, password: ref };
      }
    }
    configs[host] = { auth, tls: c.tls };
  }
  return {
    systemDefaultRegistry: raw.systemDefaultRegistry,
    // With a system default registry the cluster is meant to pull only from it: no silent fallback upstream.
    disableDefaultEndpoint:
      raw.disableDefaultEndpoint ?? (raw.systemDefaultRegistry !== undefined && canDisable),
    mirrors,
    configs,
  };
}

function buildEtcdSnapshots(raw: RawEtcdSnapshots, secrets: SecretRef[]): EtcdSnapshotSpec {
  if (!raw.s3) return { schedule: raw.schedule, retention: raw.retention };
  const accessKey = {
    key: raw.s3.accessKeySecret,
    purpose: "the etcd snapshot S3 access key",
    required: true,
  };
  const secretKey = {
    key: raw.s3.secretKeySecret,
    purpose: "the etcd snapshot S3 secret key",
    required: true,
  };
  secrets.push(accessKey, secretKey);
  return {
    schedule: raw.schedule,
    retention: raw.retention,
    s3: {
      bucket: raw.s3.bucket,
      region: raw.s3.region,
      endpoint: raw.s3.endpoint,
      folder: raw.s3.folder,
      endpointCaFile: raw.s3.endpointCaFile,
      accessKey,
      secretKey,
    },
  };
}

function buildPeer(problems: Problems, path: Path, p: RawPeer): Peer | undefined {
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
    return { cidr: p.cidr, ports: p.ports };
  }
  return { namespace: p.namespace ?? "", podLabels: p.podLabels, ports: p.ports };
}

function buildNamespaces(problems: Problems, raw: RawNamespace[]): ManagedNamespace[] {
  const seen = new Set<string>();
  return raw.map((ns, i) => {
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
    const peers = (list: RawPeer[], key: string) =>
      list.map((p, j) => buildPeer(problems, [...path, key, j], p)).filter((p): p is Peer => p !== undefined);
    return {
      name: ns.name,
      podSecurity: ns.podSecurity,
      podSecurityReason: ns.podSecurityReason,
      allowIngressFrom: peers(ns.allowIngressFrom, "allowIngressFrom"),
      allowEgressTo: peers(ns.allowEgressTo, "allowEgressTo"),
    };
  });
}

function checkExemptions(problems: Problems, exemptions: { namespace: string; reason: string }[]) {
  const seen = new Set<string>();
  exemptions.forEach((e, i) => {
    if (seen.has(e.namespace)) {
      problems.add(
        ["podSecurity", "exemptions", i, "namespace"],
        `${fmt(e.namespace)} is listed twice; allowed: unique namespaces`,
      );
    }
    seen.add(e.namespace);
  });
}

function checkSecrets(problems: Problems, secrets: SecretRef[], ctx: LoadContext) {
  for (const ref of secrets) {
    const entry = ctx.configKeys.get(ref.key);
    if (entry && !entry.secret) {
      problems.add(
        ["secrets", ref.key],
        `the config key ${PROJECT}:${ref.key} (${ref.purpose}) is stored in plain text; ` +
          `allowed: a secret value, set with \`pulumi config set --secret ${ref.key}\``,
      );
    } else if (!entry && ref.required && ctx.requireSecrets) {
      problems.add(
        ["secrets", ref.key],
        `the secret config key ${PROJECT}:${ref.key} (${ref.purpose}) is not set; ` +
          `allowed: set it with \`pulumi config set --secret ${ref.key}\``,
      );
    }
  }
}

function readOperatorFile(
  problems: Problems,
  where: Path,
  ctx: LoadContext,
  file: string,
): string | undefined {
  const abs = path.resolve(ctx.baseDir, file);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) {
    problems.add(
      where,
      `${fmt(file)} is not a readable file (resolved to ${abs}); allowed: a path relative to ${ctx.baseDir} or absolute`,
    );
    return undefined;
  }
  return fs.readFileSync(abs, "utf8");
}

/** An audit policy that logs nothing is RKE2's own empty default, which CIS 3.2.1 exists to catch. */
function auditPolicyProblem(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return `is not YAML (${(err as Error).message.split("\n")[0]}); allowed: an audit.k8s.io/v1 Policy`;
  }
  const policy = doc as { apiVersion?: unknown; kind?: unknown; rules?: { level?: unknown }[] } | null;
  if (policy?.apiVersion !== "audit.k8s.io/v1" || policy.kind !== "Policy") {
    return "is not an audit policy; allowed: apiVersion audit.k8s.io/v1, kind Policy";
  }
  if (!Array.isArray(policy.rules) || !policy.rules.some((r) => r.level !== "None")) {
    return "logs nothing (every rule is level None, like RKE2's empty default); allowed: a policy with at least one rule at Metadata or above (CIS 3.2.1)";
  }
  return undefined;
}

/** Operator files named in the config exist; private keys are only looked for when they will be read (pulumi up). */
function checkOperatorFiles(
  problems: Problems,
  ctx: LoadContext,
  auditPolicyFile: string | undefined,
  registries: RawRegistries | undefined,
  snapshots: RawEtcdSnapshots | undefined,
) {
  if (auditPolicyFile !== undefined) {
    const text = readOperatorFile(problems, ["audit", "policyFile"], ctx, auditPolicyFile);
    const problem = text === undefined ? undefined : auditPolicyProblem(text);
    if (problem) problems.add(["audit", "policyFile"], `${fmt(auditPolicyFile)} ${problem}`);
  }
  for (const [host, c] of Object.entries(registries?.configs ?? {})) {
    const where: Path = ["registries", "configs", host, "tls"];
    if (c.tls?.caFile !== undefined) readOperatorFile(problems, [...where, "caFile"], ctx, c.tls.caFile);
    if (c.tls?.certFile !== undefined)
      readOperatorFile(problems, [...where, "certFile"], ctx, c.tls.certFile);
    if (c.tls?.keyFile !== undefined && ctx.requireSecrets) {
      readOperatorFile(problems, [...where, "keyFile"], ctx, c.tls.keyFile);
    }
    if ((c.tls?.certFile === undefined) !== (c.tls?.keyFile === undefined)) {
      problems.add(
        where,
        "names only one of certFile and keyFile; allowed: both (client certificate auth) or neither",
      );
    }
  }
  const ca = snapshots?.s3?.endpointCaFile;
  if (ca !== undefined) readOperatorFile(problems, ["etcdSnapshots", "s3", "endpointCaFile"], ctx, ca);
}

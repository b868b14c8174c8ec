// Turns the raw `hardened-rke2:cluster` value into a ClusterSpec, or throws a ConfigError listing every problem at
// once. Each section (one file each) parses its own keys, every key on its own, so one bad key never hides the
// problems of another; then the rules that span sections run on whatever the sections built.
import { CLUSTER_KEY, PROJECT } from "./constants";
import { addons } from "./addons";
import { admissionGuard } from "./admission-guard";
import { audit } from "./audit";
import { cluster, clusterShape, release } from "./core";
import type { Distribution } from "./distribution";
import { etcdSnapshots } from "./etcd-snapshots";
import { fips } from "./fips";
import { install } from "./install";
import { overlaps, parseIpv4Cidr } from "./net";
import { network } from "./network";
import { nodes } from "./nodes";
import { podSecurity } from "./pod-security";
import { ConfigError, fmt, isRecord, pathText, Problems, unknownKeyMessage, type Path } from "./problems";
import { registries } from "./registries";
import { upgrade } from "./upgrade";
import type { BuildContext, Built, LoadContext, SecretRef, Section } from "./section";
import type { ClusterSpec } from "./types";

/** In order: a section may read what an earlier one built (the release for version rules, the CNI and the system
 * default registry for the air-gap folder check). */
const SECTIONS = [
  cluster,
  release,
  network,
  nodes,
  registries,
  install,
  etcdSnapshots,
  audit,
  podSecurity,
  admissionGuard,
  fips,
  addons,
  upgrade,
] as const;

/** Every top-level key of `hardened-rke2:cluster`, from the sections that own them. */
export const CLUSTER_KEYS = SECTIONS.flatMap((s) => Object.keys(s.shape));

function runSection(
  s: Section<Record<string, never>, object>,
  raw: Record<string, unknown>,
  ctx: BuildContext,
): Built<object> | undefined {
  const before = ctx.problems.list.length;
  const parsed: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(s.shape)) {
    parsed[key] = ctx.problems.parse(schema, raw[key], [key]);
  }
  return ctx.problems.list.length > before ? undefined : s.build(parsed as never, ctx);
}

/** Parses and validates the whole cluster config; throws ConfigError with every problem found. */
export function buildClusterSpec(raw: unknown, load: LoadContext): ClusterSpec {
  const problems = new Problems();
  if (!isRecord(raw)) {
    problems.add(
      [],
      `${fmt(raw)} is not an object; allowed: a structured value under the key ${CLUSTER_KEY}`,
    );
    throw new ConfigError(problems.list);
  }
  for (const key of Object.keys(raw)) {
    if (!CLUSTER_KEYS.includes(key)) problems.add([key], unknownKeyMessage(key, CLUSTER_KEYS));
  }
  const spec: Partial<ClusterSpec> = {};
  const secrets: SecretRef[] = [];
  let complete = true;
  for (const s of SECTIONS) {
    const earlier = {
      // Read on its own when the cluster section failed for another key, so a bad name never hides the rules
      // that follow the distribution (the version, the CNI).
      distribution: spec.distribution ?? distributionOf(raw),
      version: spec.version,
      cni: spec.cni,
      systemDefaultRegistry: spec.registries?.systemDefaultRegistry,
    };
    const built = runSection(s as unknown as Section<Record<string, never>, object>, raw, {
      problems,
      load,
      earlier,
    });
    if (built === undefined) complete = false;
    Object.assign(spec, built?.value);
    secrets.push(...(built?.secrets ?? []));
  }
  checkCidrs(problems, spec);
  checkAirgapAws(problems, spec);
  checkK3s(problems, spec);
  checkSecrets(problems, secrets, load);
  if (!complete || problems.list.length > 0) throw new ConfigError(problems.list);
  return { ...(spec as Omit<ClusterSpec, "secrets">), secrets };
}

/** The `distribution` key alone, when it parses (its default when unset). */
function distributionOf(raw: Record<string, unknown>): Distribution | undefined {
  const parsed = clusterShape.distribution.safeParse(raw["distribution"]);
  return parsed.success ? parsed.data : undefined;
}

/** Pod, service and VPC ranges never overlap: RKE2 would route one of them into the other. */
function checkCidrs(problems: Problems, spec: Partial<ClusterSpec>) {
  const ranges: [Path, string | undefined][] = [
    [["clusterCidr"], spec.clusterCidr],
    [["serviceCidr"], spec.serviceCidr],
  ];
  if (spec.nodes?.source === "aws" && "vpcCidr" in spec.nodes.network)
    ranges.push([["nodes", "vpcCidr"], spec.nodes.network.vpcCidr]);
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

/**
 * Air-gapped on AWS means no route out of the VPC: no public address on a node, no internet-facing load balancer and
 * no bastion (each needs an internet gateway). The operator reaches the nodes and the API from inside the VPC.
 */
function checkAirgapAws(problems: Problems, spec: Partial<ClusterSpec>) {
  const n = spec.nodes;
  if (n?.source !== "aws" || spec.install?.mode !== "airgap") return;
  const fix =
    "the air-gapped layout has no internet gateway; reach the VPC over a VPN or Direct Connect instead";
  if (n.publicIp)
    problems.add(["nodes", "publicIp"], `true with install.mode airgap; allowed: false (${fix})`);
  if (n.bastion)
    problems.add(["nodes", "bastion"], `is set with install.mode airgap; allowed: no bastion (${fix})`);
  if (n.apiAccess === "public" && !n.publicIp)
    problems.add(["nodes", "apiAccess"], `"public" with install.mode airgap; allowed: "private" (${fix})`);
  // Snapshots reach S3 through the VPC's gateway endpoint, which serves only the VPC's own region, by its regional
  // name (the global s3.amazonaws.com resolves to us-east-1 addresses, outside the endpoint's prefix list).
  const s3 = spec.etcdSnapshots?.s3;
  const regional = `s3.${n.region}.amazonaws.com`;
  if (s3 && s3.region !== n.region)
    problems.add(
      ["etcdSnapshots", "s3", "region"],
      `${fmt(s3.region)} with install.mode airgap on AWS; allowed: ${fmt(n.region)} (nodes.region: the S3 gateway ` +
        "endpoint serves only the VPC's region)",
    );
  else if (s3 && s3.endpoint !== regional)
    problems.add(
      ["etcdSnapshots", "s3", "endpoint"],
      `${fmt(s3.endpoint)} with install.mode airgap on AWS; allowed: ${fmt(regional)} (the regional name the S3 ` +
        "gateway endpoint routes)",
    );
}

/**
 * What a K3s stack cannot have yet, each refused by its key rather than rendered half right: the AWS node source
 * (its security groups open RKE2's ports: 9345, canal), FIPS (the checks look for RKE2's BoringCrypto build; K3s
 * publishes no FIPS build), SELinux (the install step checks for rke2-selinux, not k3s-selinux) and add-on overrides
 * (they name RKE2's bundled charts; K3s bundles Traefik, CoreDNS, metrics-server and local-path).
 */
function checkK3s(problems: Problems, spec: Partial<ClusterSpec>) {
  if (spec.distribution !== "k3s") return;
  const not = "is not supported with distribution k3s yet";
  if (spec.nodes?.source === "aws")
    problems.add(
      ["nodes", "source"],
      `"aws" ${not} (the security groups open RKE2's ports); allowed: existing (K3s on existing hosts)`,
    );
  if (spec.fips) problems.add(["fips"], `true ${not} (K3s publishes no FIPS build); allowed: false`);
  if (spec.selinux)
    problems.add(["selinux"], `true ${not} (the install checks for rke2-selinux); allowed: false`);
  for (const chart of Object.keys(spec.addons ?? {}))
    problems.add(
      ["addons", chart],
      `${fmt(chart)} is an RKE2 bundled chart; allowed: no addons with distribution k3s (K3s bundles Traefik, CoreDNS, metrics-server and local-path, not these charts)`,
    );
}

/** Every secret key a section references is stored as a secret, and set when `pulumi up` will read it. */
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

export { ConfigError, type ConfigProblem } from "./problems";
export type { LoadContext } from "./section";

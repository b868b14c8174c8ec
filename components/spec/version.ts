// Version rules: which CIS `profile` values each RKE2 release accepts, which benchmark its control IDs come
// from, and which flags a release needs spelled out because RKE2 does not add them itself.
// Sources are in ../shared/research/FACTS.md §1 and §7 (taken from rancher/rke2's code at each tag); K3s's are cited
// where its rules differ.
import { DISTRIBUTION, type Distribution } from "./distribution";

/** A parsed RKE2 release such as `v1.33.5+rke2r1`, or a K3s release such as `v1.33.5+k3s1`. */
export interface Rke2Version {
  /** The version string as written in the stack, e.g. `v1.33.5+rke2r1`. */
  raw: string;
  /** Whose release it is: the version rules below differ per distribution. */
  distribution: Distribution;
  major: number;
  minor: number;
  patch: number;
  /** The RKE2 or K3s revision (`rke2r1` → 1, `k3s2` → 2). */
  revision: number;
}

/** Every `profile` value any RKE2 release has accepted. */
export const ALL_PROFILES = ["cis-1.5", "cis-1.6", "cis-1.23", "cis", "etcd"] as const;
export type Profile = (typeof ALL_PROFILES)[number];

/** Profiles that make RKE2 enforce the CIS host checks (sysctl, etcd user) and restricted pod security. */
export const CIS_PROFILES: readonly Profile[] = ["cis-1.5", "cis-1.6", "cis-1.23", "cis"];

/** The oldest Kubernetes minor this product renders for: PodSecurityPolicy left in 1.25 and the product's pod
 * security comes from the Pod Security Admission configuration file, which RKE2 ≤1.24 does not use. */
export const OLDEST_SUPPORTED_MINOR = 25;

/** Parses `v1.33.5+rke2r1`; returns undefined for anything else (pre-releases are not pinned releases). */
export function parseRke2Version(raw: string): Rke2Version | undefined {
  return parseVersion(raw, "rke2");
}

/** Parses a pinned release of `distribution` (`v1.33.5+rke2r1`, `v1.33.5+k3s1`); a K3s version is not an RKE2 one. */
export function parseVersion(raw: string, distribution: Distribution): Rke2Version | undefined {
  const suffix = DISTRIBUTION[distribution].versionSuffix;
  const m = new RegExp(`^v(\\d+)\\.(\\d+)\\.(\\d+)\\+${suffix}(\\d+)$`).exec(raw);
  if (!m) return undefined;
  const [major, minor, patch, revision] = m.slice(1).map(Number);
  return { raw, distribution, major, minor, patch, revision };
}

/** First patch of each minor line that accepts the generic `cis` alongside `cis-1.23` (rke2 #4708). */
const GENERIC_CIS_SINCE: Record<number, number> = { 25: 15, 26: 10, 27: 7, 28: 2, 29: 0 };
/** First patch of each minor line that accepts `profile: etcd` and drops `cis-1.23` (rke2 #8349). */
const ETCD_PROFILE_SINCE: Record<number, number> = { 30: 14, 31: 10, 32: 6, 33: 2, 34: 1 };

/**
 * The `profile` values RKE2 `v` accepts at start. `cis-1.23` on v1.30.0–v1.33.1 passes RKE2's flag validation but
 * then exits with "cis-1.23 profile is deprecated", so it is not listed as accepted there.
 */
export function acceptedProfiles(v: Rke2Version): Profile[] {
  // K3s has no `profile` flag: every CIS item is spelled out in its config (K3s hardening guide).
  if (v.distribution === "k3s") return [];
  if (v.major !== 1 || v.minor < 18) return [];
  if (v.minor <= 19 || (v.minor === 20 && v.patch < 5)) return ["cis-1.5"];
  if (v.minor <= 24) return ["cis-1.5", "cis-1.6"];
  if (v.minor <= 29) {
    return v.patch >= (GENERIC_CIS_SINCE[v.minor] ?? 0) ? ["cis-1.23", "cis"] : ["cis-1.23"];
  }
  if (v.minor <= 34) {
    return v.patch >= (ETCD_PROFILE_SINCE[v.minor] ?? 0) ? ["cis", "etcd"] : ["cis"];
  }
  return ["cis", "etcd"];
}

/** The CIS profile a release should run with when the stack does not name one: the newest CIS value it takes. */
export function defaultProfile(v: Rke2Version): Profile | undefined {
  const accepted = acceptedProfiles(v).filter((p) => CIS_PROFILES.includes(p));
  return accepted[accepted.length - 1];
}

/**
 * The benchmark an auditor runs against a release: the one Rancher's compliance operator (the successor of the CIS
 * operator) picks for its Kubernetes minor, from rancher/security-scan's package/cfg (rancher/compliance-operator
 * chart/templates/benchmark-rke2-cis-*.yaml: rke2-cis-1.9 for v1.27, 1.10 for v1.28, 1.11 for v1.29–v1.31, 1.12
 * from v1.32). The operator has no RKE2 benchmark for v1.25/v1.26: there it is kube-bench's own (kubeBenchFor).
 */
export type Benchmark =
  | "rke2-cis-1.7"
  | "rke2-cis-1.8"
  | "rke2-cis-1.9"
  | "rke2-cis-1.10"
  | "rke2-cis-1.11"
  | "rke2-cis-1.12"
  | K3sBenchmark;

/**
 * K3s's own benchmark lines, as its CIS self-assessment guides name them (docs.k3s.io security/self-assessment-*):
 * 1.7 for v1.25, 1.8 for "v1.26-v1.29", 1.10 for "v1.28-v1.33", 1.12 for "v1.32-v1.36". Where two guides cover a line
 * the newer one applies. Each is the CIS Kubernetes Benchmark of that number with K3s's audits, so its control IDs are
 * those of the same-numbered RKE2 benchmark (cis-catalogue.ts); K3s marks some other controls Not Applicable.
 */
export type K3sBenchmark = "k3s-cis-1.7" | "k3s-cis-1.8" | "k3s-cis-1.10" | "k3s-cis-1.12";

export function benchmarkFor(v: Rke2Version): Benchmark {
  if (v.distribution === "k3s") {
    if (v.minor <= 25) return "k3s-cis-1.7";
    if (v.minor <= 27) return "k3s-cis-1.8";
    if (v.minor <= 31) return "k3s-cis-1.10";
    return "k3s-cis-1.12";
  }
  if (v.minor <= 26) return kubeBenchFor(v);
  if (v.minor === 27) return "rke2-cis-1.9";
  if (v.minor === 28) return "rke2-cis-1.10";
  if (v.minor <= 31) return "rke2-cis-1.11";
  return "rke2-cis-1.12";
}

/**
 * The benchmark plain kube-bench auto-detects for a release (aquasecurity/kube-bench cmd/util.go rke2Benchmark):
 * rke2-cis-1.7 for v1.25 and rke2-cis-1.8 for every later line; its files stop there and number several controls
 * differently (the audit log path is 1.2.17 in rke2-cis-1.8, 1.2.16 in rke2-cis-1.12).
 */
export function kubeBenchFor(v: Rke2Version): Benchmark {
  // The scanners' K3s files (rancher/security-scan package/cfg): k3s-cis-1.7 for v1.25, k3s-cis-1.8 for v1.26+.
  if (v.distribution === "k3s") return v.minor <= 25 ? "k3s-cis-1.7" : "k3s-cis-1.8";
  return v.minor <= 25 ? "rke2-cis-1.7" : "rke2-cis-1.8";
}

/** First patch per minor line where RKE2 adds `--service-account-extend-token-expiration=false` itself in CIS
 * mode (rke2 commit 89947de4a); older releases need it through `kube-apiserver-arg`. */
const EXTEND_TOKEN_FLAG_SINCE: Record<number, number> = { 31: 14, 32: 10, 33: 6, 34: 2 };

export function needsExplicitTokenExpirationFlag(v: Rke2Version): boolean {
  // K3s never adds it itself: its hardening guide lists the flag for v1.29 and newer.
  if (v.distribution === "k3s") return true;
  if (v.minor >= 35) return false;
  const since = EXTEND_TOKEN_FLAG_SINCE[v.minor];
  return since === undefined || v.patch < since;
}

/** First patch per minor line with `disable-default-registry-endpoint` (January 2024 releases; the option comes from
 * the K3s agent code RKE2 embeds: docs.k3s.io private-registry "Version Gate"). */
const DISABLE_DEFAULT_ENDPOINT_SINCE: Record<number, number> = { 26: 13, 27: 10, 28: 6, 29: 1 };

export function supportsDisableDefaultRegistryEndpoint(v: Rke2Version): boolean {
  if (v.minor >= 30) return true;
  const since = DISABLE_DEFAULT_ENDPOINT_SINCE[v.minor];
  return since !== undefined && v.patch >= since;
}

/** ValidatingAdmissionPolicy is GA (admissionregistration.k8s.io/v1) from Kubernetes 1.30. */
export function supportsValidatingAdmissionPolicy(v: Rke2Version): boolean {
  return v.minor >= 30;
}

/**
 * Why the cluster may not go from the release it runs to `to`, or undefined when it may. RKE2 (like Kubernetes, whose
 * version skew policy it follows) supports upgrades one minor at a time and no downgrade: etcd's data and the API
 * server's stored objects are migrated forward only (docs.rke2.io, "Upgrades": "upgrade one minor version at a time";
 * kubernetes.io/releases/version-skew-policy).
 */
export function upgradePathProblem(from: string, to: string): string | undefined {
  const a = parseRke2Version(from) ?? parseVersion(from, "k3s");
  const b = parseRke2Version(to) ?? parseVersion(to, "k3s");
  if (!a || !b || from === to) return undefined;
  const order = (v: Rke2Version) => [v.major, v.minor, v.patch, v.revision];
  const cmp = order(b)
    .map((x, i) => x - order(a)[i])
    .find((d) => d !== 0);
  if (cmp !== undefined && cmp < 0)
    return `${to} is older than ${from}, which the cluster runs or was last rolled to; RKE2 does not support downgrades (restore an etcd snapshot taken before the upgrade instead: README, "Restoring from a snapshot")`;
  if (b.major !== a.major || b.minor > a.minor + 1)
    return `${to} skips a Kubernetes minor after ${from}; upgrade one minor at a time (first the newest v${a.major}.${a.minor + 1}.x release, then ${to})`;
  return undefined;
}

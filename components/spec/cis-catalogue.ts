// The one CIS catalogue: every control the product satisfies or checks, under a stable key, with its ID in each
// benchmark the product supports, its title, its minimum where it has one, and how the product satisfies and checks
// it. CIS.md, the host checks, the in-cluster verification, the schema's minimums and the policy pack all read it,
// so one control shows one ID in every output of a stack: the ID of that stack's benchmark. IDs come from kube-bench
// and rancher/security-scan (../shared/research/FACTS.md §7): the audit and encryption rows shift between benchmark
// versions, the others do not.
import type { Benchmark } from "./version";

/** Every benchmark a supported RKE2 line maps to (version.ts benchmarkFor). */
export const BENCHMARKS: readonly Benchmark[] = [
  "rke2-cis-1.7",
  "rke2-cis-1.8",
  "cis-1.9",
  "cis-1.10",
  "cis-1.11",
  "cis-1.12",
];

/** How the stack satisfies a control. */
export type Means = "RKE2 profile" | "rendered file" | "in-cluster object" | "operator";
/** What checks it: the operator-side host checks, the in-cluster verification, the config schema, the policy pack. */
export type Checker = "host check" | "verification" | "schema" | "policy";

export interface Control {
  /** Its ID in each supported benchmark. */
  ids: Record<Benchmark, string>;
  title: string;
  /** The benchmark's lower bound for the value, where it has one. */
  minimum?: number;
  satisfiedBy: Means;
  checkedBy: readonly Checker[];
  /** False for the parts of a listed control that outputs name on their own (CIS.md lists the whole control). */
  listed: boolean;
}

/** IDs in [rke2-cis-1.7, rke2-cis-1.8, CIS 1.9–1.12]. */
function ids(v17: string, v18: string, v19up: string): Record<Benchmark, string> {
  return {
    "rke2-cis-1.7": v17,
    "rke2-cis-1.8": v18,
    "cis-1.9": v19up,
    "cis-1.10": v19up,
    "cis-1.11": v19up,
    "cis-1.12": v19up,
  };
}
const same = (id: string) => ids(id, id, id);

type Row = Omit<Control, "listed"> & { listed?: false };

const rows = {
  podManifests: {
    ids: same("1.1.1–1.1.8"),
    title: "Control-plane static pod manifests are 600 and root:root",
    satisfiedBy: "RKE2 profile",
    checkedBy: [],
  },
  etcdDataDirMode: {
    ids: same("1.1.11"),
    title: "etcd data directory is 700",
    satisfiedBy: "RKE2 profile",
    checkedBy: [],
  },
  etcdDataDirOwner: {
    ids: same("1.1.12"),
    title: "etcd data directory is owned by etcd:etcd",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
  },
  credentialKubeconfigs: {
    ids: same("1.1.13–1.1.18"),
    title: "admin, scheduler and controller-manager kubeconfigs are 600 and root:root",
    satisfiedBy: "RKE2 profile",
    checkedBy: [],
  },
  pki: {
    ids: same("1.1.19–1.1.21"),
    title: "PKI directory root-owned, certificates 644, keys 600",
    satisfiedBy: "RKE2 profile",
    checkedBy: [],
  },
  productFiles: {
    // The benchmark's 1.1.x asks the same of RKE2's own files; these are the product's.
    ids: same("1.1.x"),
    title: "The product's node files holding configuration or secrets are 600 and root:root",
    satisfiedBy: "rendered file",
    checkedBy: ["host check"],
    listed: false,
  },
  auditLogPath: {
    ids: ids("1.2.18", "1.2.17", "1.2.16"),
    title: "--audit-log-path is set",
    satisfiedBy: "rendered file",
    checkedBy: ["host check", "policy"],
  },
  auditLogMaxAge: {
    ids: ids("1.2.19", "1.2.18", "1.2.17"),
    title: "--audit-log-maxage is 30 or more",
    minimum: 30,
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "host check", "policy"],
  },
  auditLogMaxBackup: {
    ids: ids("1.2.20", "1.2.19", "1.2.18"),
    title: "--audit-log-maxbackup is 10 or more",
    minimum: 10,
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "host check", "policy"],
  },
  auditLogMaxSize: {
    ids: ids("1.2.21", "1.2.20", "1.2.19"),
    title: "--audit-log-maxsize is 100 or more",
    minimum: 100,
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "host check", "policy"],
  },
  encryption: {
    ids: ids("1.2.29", "1.2.28", "1.2.27–1.2.28"),
    title: "--encryption-provider-config is set and its providers are appropriate",
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "host check"],
  },
  terminatedPodGc: {
    ids: same("1.3.1"),
    title: "--terminated-pod-gc-threshold is set",
    satisfiedBy: "rendered file",
    checkedBy: ["host check"],
  },
  etcdTls: {
    ids: same("2.1–2.7"),
    title: "etcd serves and peers over TLS with client-certificate auth and its own CA",
    satisfiedBy: "RKE2 profile",
    checkedBy: [],
  },
  auditPolicy: {
    ids: same("3.2.1"),
    title: "A minimal audit policy is created",
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "host check", "verification", "policy"],
  },
  auditPolicyCoverage: {
    ids: same("3.2.2"),
    title: "The audit policy covers key security concerns",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  kubeletFiles: {
    ids: ids("4.1.x", "4.1.1–4.1.10", "4.1.1–4.1.10"),
    title: "kubelet service, kubeconfig and client CA files are 600 and root:root",
    satisfiedBy: "RKE2 profile",
    checkedBy: [],
  },
  kubeletFlags: {
    ids: same("4.2.x"),
    title: "kubelet: anonymous auth off, Webhook authorization, client CA, read-only port 0, iptables chains",
    satisfiedBy: "RKE2 profile",
    checkedBy: [],
  },
  protectKernelDefaults: {
    // kubelet --protect-kernel-defaults is 4.2.6 only in rke2-cis-1.23/1.24, older than any supported benchmark; the
    // CIS profile still needs it (RKE2 refuses to start with it off).
    ids: same("4.2.6 in older benchmarks"),
    title: "kubelet --protect-kernel-defaults is true",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
    listed: false,
  },
  kernelParameters: {
    ids: same("host"),
    title:
      "Kernel parameters vm.panic_on_oom=0, vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1 (RKE2 refuses to start under the CIS profile without them)",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
  },
  fips: {
    // Not a CIS control: FIPS 140-2 (mission row 25), reported beside the controls so one output holds both.
    ids: same("FIPS"),
    title:
      "FIPS 140-2: the kernel is in FIPS mode and the installed RKE2 binary carries its BoringCrypto module (fips: true)",
    satisfiedBy: "operator",
    checkedBy: ["verification", "policy"],
    listed: false,
  },
  rbac: {
    ids: same("5.1.1–5.1.4"),
    title: "RBAC: cluster-admin, secrets access, wildcards and pod creation are granted sparingly",
    satisfiedBy: "operator",
    checkedBy: [],
  },
  defaultServiceAccounts: {
    ids: same("5.1.5"),
    title: "Default service accounts are not used (automountServiceAccountToken: false)",
    satisfiedBy: "in-cluster object",
    checkedBy: ["verification", "policy"],
  },
  policyControl: {
    ids: same("5.2.1"),
    title: "At least one active policy control mechanism (Pod Security Admission)",
    satisfiedBy: "rendered file",
    checkedBy: ["host check"],
  },
  podSecurityLabels: {
    ids: same("5.2"),
    title: "Every managed namespace enforces a Pod Security level",
    satisfiedBy: "in-cluster object",
    checkedBy: ["schema", "policy"],
    listed: false,
  },
  restrictedPods: {
    ids: same("5.2.2–5.2.9"),
    title:
      "No privileged, host-namespace, privilege-escalating, root, NET_RAW or added-capability containers",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  privilegedContainers: {
    ids: same("5.2.2"),
    title: "A privileged pod is refused by admission",
    satisfiedBy: "rendered file",
    checkedBy: ["verification", "policy"],
    listed: false,
  },
  rootContainers: {
    ids: same("5.2.7"),
    title: "No container runs as root",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
    listed: false,
  },
  cniNetworkPolicy: {
    ids: same("5.3.1"),
    title: "The CNI supports NetworkPolicies",
    satisfiedBy: "rendered file",
    checkedBy: ["schema"],
  },
  namespaceNetworkPolicies: {
    ids: same("5.3.2"),
    title: "All namespaces have NetworkPolicies",
    satisfiedBy: "in-cluster object",
    checkedBy: ["verification", "policy"],
  },
  secretsAsFiles: {
    ids: same("5.4.1"),
    title: "Secrets are mounted as files rather than environment variables",
    satisfiedBy: "operator",
    checkedBy: [],
  },
  namespaceBoundaries: {
    ids: same("5.7.1"),
    title: "Namespaces draw administrative boundaries",
    satisfiedBy: "in-cluster object",
    checkedBy: [],
  },
} satisfies Record<string, Row>;

export type ControlKey = keyof typeof rows;

/** The catalogue, in the order CIS.md lists it. */
export const CATALOGUE: Readonly<Record<ControlKey, Control>> = Object.fromEntries(
  Object.entries(rows).map(([key, row]: [string, Row]) => [key, { ...row, listed: row.listed ?? true }]),
) as Record<ControlKey, Control>;

export const CONTROL_KEYS = Object.keys(rows) as ControlKey[];

/** The control's ID in the stack's benchmark. */
export function cisId(key: ControlKey, benchmark: Benchmark): string {
  return CATALOGUE[key].ids[benchmark];
}

/**
 * The control's ID for outputs that cannot know the stack's benchmark (in-cluster verification and Kubernetes
 * policies): only for controls whose ID is the same in every supported benchmark, so it is still that benchmark's ID.
 */
export function stableCisId(key: ControlKey): string {
  const found = new Set(Object.values(CATALOGUE[key].ids));
  if (found.size !== 1)
    throw new Error(`CIS control ${key} has different IDs per benchmark; pass the benchmark`);
  return [...found][0];
}

/** The benchmark's minimum for a control that has one. */
export function cisMinimum(key: ControlKey): number {
  const min = CATALOGUE[key].minimum;
  if (min === undefined) throw new Error(`CIS control ${key} has no minimum`);
  return min;
}

// The one CIS catalogue. Two parts:
// - BENCHMARK_CONTROLS: one row per control of the newest supported benchmark (rancher/security-scan
//   package/cfg/rke2-cis-1.12: master, etcd, controlplane, node, policies), with its ID in every benchmark a supported
//   RKE2 line maps to ("-" where that benchmark has no such control), whether the benchmark marks it Automated, and
//   the audit the product's host check makes for it on a node (HOST_AUDITS, read from the benchmark's published audit
//   definitions: which process flag, config key, file mode or owner it reads).
// - ROWS: the product's stable keys for the controls its renders, verification, schema and policy pack name in code,
//   each pointing at benchmark controls (so their IDs come from the table) or, for the few checks that are not a
//   benchmark control (the product's own files, FIPS, kernel parameters), carrying their own label.
// IDs were matched by control text across kube-bench cfg/rke2-cis-1.7, 1.8 and security-scan rke2-cis-1.9…1.12
// (../shared/research/FACTS.md §7); the audit and encryption rows shift between versions, 5.6.x was 5.7.x before 1.11.
import { DISTRIBUTION, type Distribution } from "./distribution";
import type { Benchmark, K3sBenchmark } from "./version";

/** Every benchmark a supported RKE2 line maps to (version.ts benchmarkFor), oldest first: the table's columns. */
export const RKE2_BENCHMARKS: readonly Benchmark[] = [
  "rke2-cis-1.7",
  "rke2-cis-1.8",
  "rke2-cis-1.9",
  "rke2-cis-1.10",
  "rke2-cis-1.11",
  "rke2-cis-1.12",
];

/**
 * K3s's benchmarks and the column each takes its IDs from: a K3s self-assessment guide of CIS 1.x checks the CIS
 * Kubernetes Benchmark 1.x, numbered as the RKE2 benchmark of the same number (docs.k3s.io security/self-assessment-
 * 1.12: 1.2.16–1.2.19 the audit log flags, 1.2.27/1.2.28 encryption, 5.6.x the general policies, as rke2-cis-1.12).
 */
export const K3S_NUMBERING: Readonly<Record<K3sBenchmark, Benchmark>> = {
  "k3s-cis-1.7": "rke2-cis-1.7",
  "k3s-cis-1.8": "rke2-cis-1.8",
  "k3s-cis-1.10": "rke2-cis-1.10",
  "k3s-cis-1.12": "rke2-cis-1.12",
};

/** Every benchmark a supported RKE2 or K3s line maps to. */
export const BENCHMARKS: readonly Benchmark[] = [
  ...RKE2_BENCHMARKS,
  ...(Object.keys(K3S_NUMBERING) as K3sBenchmark[]),
];

/**
 * Controls K3s's self-assessment guides mark Not Applicable, and why (docs.k3s.io security/self-assessment-1.12):
 * K3s runs the API server, controller manager, scheduler and etcd inside its own process, so there are no pod
 * specification files, and etcd's data directory belongs to that root process.
 */
export const K3S_NOT_APPLICABLE: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8"].map((id) => [
      id,
      "K3s embeds the component in the k3s process: there is no pod specification file",
    ]),
  ),
  "1.1.12": "K3s embeds etcd in the k3s process (no etcd user): its data directory is owned by root:root",
  "4.1.1": "K3s runs the kubelet inside the k3s process: there is no kubelet service file",
  "4.1.2": "K3s runs the kubelet inside the k3s process: there is no kubelet service file",
  // The kubelet reads K3s's generated drop-in folder (--config-dir); the 4.2.x checks read its keys.
  "4.1.9": "K3s passes the kubelet its configuration as arguments: there is no --config file to audit",
  "4.1.10": "K3s passes the kubelet its configuration as arguments: there is no --config file to audit",
  "4.2.7": "K3s sets --hostname-override to the node name itself",
};

/** The kube-bench target a control belongs to: servers run all five, agents only `node`. */
export type Target = "master" | "etcd" | "controlplane" | "node" | "policies";

/** How the stack satisfies a control. */
export type Means =
  "RKE2 profile" | "K3s itself" | "not applicable" | "rendered file" | "in-cluster object" | "operator";
/** What checks it: the host checks (the `<node>-cis` step), the in-cluster verification, the schema, the policy pack. */
export type Checker = "host check" | "verification" | "schema" | "policy";

export interface BenchmarkControl {
  /** Its ID in each supported benchmark; "-" where that benchmark has no such control. */
  ids: Record<Benchmark, string>;
  target: Target;
  /** The benchmark marks it Automated (kube-bench scores it); the others are Manual. */
  automated: boolean;
  title: string;
}

function c(ids: string, target: Target, automated: boolean, title: string): BenchmarkControl {
  const list = ids.split(" ");
  if (list.length !== RKE2_BENCHMARKS.length) throw new Error(`control ${ids}: one ID per benchmark`);
  const rke2 = Object.fromEntries(RKE2_BENCHMARKS.map((b, i) => [b, list[i]]));
  const k3s = Object.entries(K3S_NUMBERING).map(([b, column]) => [b, rke2[column]]);
  return {
    ids: { ...rke2, ...Object.fromEntries(k3s) } as Record<Benchmark, string>,
    target,
    automated,
    title,
  };
}

/** IDs in [rke2-cis-1.7, rke2-cis-1.8, rke2-cis-1.9, rke2-cis-1.10, rke2-cis-1.11, rke2-cis-1.12]. */
export const BENCHMARK_CONTROLS: readonly BenchmarkControl[] = [
  c(
    "1.1.1 1.1.1 1.1.1 1.1.1 1.1.1 1.1.1",
    "master",
    true,
    "API server pod specification file permissions are set to 600 or more restrictive",
  ),
  c(
    "1.1.2 1.1.2 1.1.2 1.1.2 1.1.2 1.1.2",
    "master",
    true,
    "API server pod specification file ownership is set to root:root",
  ),
  c(
    "1.1.3 1.1.3 1.1.3 1.1.3 1.1.3 1.1.3",
    "master",
    true,
    "Controller manager pod specification file permissions are set to 600 or more restrictive",
  ),
  c(
    "1.1.4 1.1.4 1.1.4 1.1.4 1.1.4 1.1.4",
    "master",
    true,
    "Controller manager pod specification file ownership is set to root:root",
  ),
  c(
    "1.1.5 1.1.5 1.1.5 1.1.5 1.1.5 1.1.5",
    "master",
    true,
    "Scheduler pod specification file permissions are set to 600 or more restrictive",
  ),
  c(
    "1.1.6 1.1.6 1.1.6 1.1.6 1.1.6 1.1.6",
    "master",
    true,
    "Scheduler pod specification file ownership is set to root:root",
  ),
  c(
    "1.1.7 1.1.7 1.1.7 1.1.7 1.1.7 1.1.7",
    "master",
    false,
    "Etcd pod specification file permissions are set to 600 or more restrictive",
  ),
  c(
    "1.1.8 1.1.8 1.1.8 1.1.8 1.1.8 1.1.8",
    "master",
    false,
    "Etcd pod specification file ownership is set to root:root",
  ),
  c(
    "1.1.9 1.1.9 1.1.9 1.1.9 1.1.9 1.1.9",
    "master",
    false,
    "Container Network Interface file permissions are set to 600 or more restrictive",
  ),
  c(
    "1.1.10 1.1.10 1.1.10 1.1.10 1.1.10 1.1.10",
    "master",
    false,
    "Container Network Interface file ownership is set to root:root",
  ),
  c(
    "1.1.11 1.1.11 1.1.11 1.1.11 1.1.11 1.1.11",
    "master",
    false,
    "Etcd data directory permissions are set to 700 or more restrictive",
  ),
  c(
    "1.1.12 1.1.12 1.1.12 1.1.12 1.1.12 1.1.12",
    "master",
    false,
    "Etcd data directory ownership is set to etcd:etcd",
  ),
  c(
    "1.1.13 1.1.13 1.1.13 1.1.13 1.1.13 1.1.13",
    "master",
    true,
    "Admin.conf file permissions are set to 600 or more restrictive",
  ),
  c(
    "1.1.14 1.1.14 1.1.14 1.1.14 1.1.14 1.1.14",
    "master",
    true,
    "Admin.conf file ownership is set to root:root",
  ),
  c(
    "1.1.15 1.1.15 1.1.15 1.1.15 1.1.15 1.1.15",
    "master",
    true,
    "Scheduler.conf file permissions are set to 600 or more restrictive",
  ),
  c(
    "1.1.16 1.1.16 1.1.16 1.1.16 1.1.16 1.1.16",
    "master",
    true,
    "Scheduler.conf file ownership is set to root:root",
  ),
  c(
    "1.1.17 1.1.17 1.1.17 1.1.17 1.1.17 1.1.17",
    "master",
    true,
    "Controller-manager.conf file permissions are set to 600 or more restrictive",
  ),
  c(
    "1.1.18 1.1.18 1.1.18 1.1.18 1.1.18 1.1.18",
    "master",
    true,
    "Controller-manager.conf file ownership is set to root:root",
  ),
  c(
    "1.1.19 1.1.19 1.1.19 1.1.19 1.1.19 1.1.19",
    "master",
    true,
    "Kubernetes PKI directory and file ownership is set to root:root",
  ),
  c(
    "1.1.20 1.1.20 1.1.20 1.1.20 1.1.20 1.1.20",
    "master",
    true,
    "Kubernetes PKI certificate file permissions are set to 644 or more restrictive",
  ),
  c(
    "1.1.21 1.1.21 1.1.21 1.1.21 1.1.21 1.1.21",
    "master",
    true,
    "Kubernetes PKI key file permissions are set to 600",
  ),
  c("1.2.1 1.2.1 1.2.1 1.2.1 1.2.1 1.2.1", "master", true, "--anonymous-auth argument is set to false"),
  c("1.2.2 1.2.2 1.2.2 1.2.2 1.2.2 1.2.2", "master", true, "--token-auth-file parameter is not set"),
  c("- 1.2.3 1.2.3 1.2.3 1.2.3 1.2.3", "master", false, "--DenyServiceExternalIPs is set"),
  c(
    "1.2.4 1.2.4 1.2.4 1.2.4 1.2.4 1.2.4",
    "master",
    true,
    "--kubelet-client-certificate and --kubelet-client-key arguments are set as appropriate",
  ),
  c(
    "1.2.5 1.2.5 1.2.5 1.2.5 1.2.5 1.2.5",
    "master",
    true,
    "--kubelet-certificate-authority argument is set as appropriate",
  ),
  c(
    "1.2.6 1.2.6 1.2.6 1.2.6 1.2.6 1.2.6",
    "master",
    true,
    "--authorization-mode argument is not set to AlwaysAllow",
  ),
  c("1.2.7 1.2.7 1.2.7 1.2.7 1.2.7 1.2.7", "master", true, "--authorization-mode argument includes Node"),
  c("1.2.8 1.2.8 1.2.8 1.2.8 1.2.8 1.2.8", "master", true, "--authorization-mode argument includes RBAC"),
  c("1.2.9 1.2.9 1.2.9 1.2.9 1.2.9 1.2.9", "master", false, "Admission control plugin EventRateLimit is set"),
  c(
    "1.2.10 1.2.10 1.2.10 1.2.10 1.2.10 1.2.10",
    "master",
    true,
    "Admission control plugin AlwaysAdmit is not set",
  ),
  c(
    "1.2.11 1.2.11 1.2.11 1.2.11 1.2.11 1.2.11",
    "master",
    false,
    "Admission control plugin AlwaysPullImages is set",
  ),
  c(
    "1.2.13 1.2.13 1.2.12 1.2.12 1.2.12 1.2.12",
    "master",
    true,
    "Admission control plugin ServiceAccount is set",
  ),
  c(
    "1.2.14 1.2.14 1.2.13 1.2.13 1.2.13 1.2.13",
    "master",
    true,
    "Admission control plugin NamespaceLifecycle is set",
  ),
  c(
    "1.2.15 1.2.15 1.2.14 1.2.14 1.2.14 1.2.14",
    "master",
    true,
    "Admission control plugin NodeRestriction is set",
  ),
  c("1.2.17 1.2.16 1.2.15 1.2.15 1.2.15 1.2.15", "master", true, "--profiling argument is set to false"),
  c("1.2.18 1.2.17 1.2.16 1.2.16 1.2.16 1.2.16", "master", true, "--audit-log-path argument is set"),
  c(
    "1.2.19 1.2.18 1.2.17 1.2.17 1.2.17 1.2.17",
    "master",
    true,
    "--audit-log-maxage argument is set to 30 or as appropriate",
  ),
  c(
    "1.2.20 1.2.19 1.2.18 1.2.18 1.2.18 1.2.18",
    "master",
    true,
    "--audit-log-maxbackup argument is set to 10 or as appropriate",
  ),
  c(
    "1.2.21 1.2.20 1.2.19 1.2.19 1.2.19 1.2.19",
    "master",
    true,
    "--audit-log-maxsize argument is set to 100 or as appropriate",
  ),
  c(
    "1.2.22 1.2.21 1.2.20 1.2.20 1.2.20 1.2.20",
    "master",
    true,
    "--request-timeout argument is set as appropriate",
  ),
  c(
    "1.2.23 1.2.22 1.2.21 1.2.21 1.2.21 1.2.21",
    "master",
    true,
    "--service-account-lookup argument is set to true",
  ),
  c(
    "1.2.24 1.2.23 1.2.22 1.2.22 1.2.22 1.2.22",
    "master",
    true,
    "--service-account-key-file argument is set as appropriate",
  ),
  c(
    "1.2.25 1.2.24 1.2.23 1.2.23 1.2.23 1.2.23",
    "master",
    true,
    "--etcd-certfile and --etcd-keyfile arguments are set as appropriate",
  ),
  c(
    "1.2.26 1.2.25 1.2.24 1.2.24 1.2.24 1.2.24",
    "master",
    true,
    "--tls-cert-file and --tls-private-key-file arguments are set as appropriate",
  ),
  c(
    "1.2.27 1.2.26 1.2.25 1.2.25 1.2.25 1.2.25",
    "master",
    true,
    "--client-ca-file argument is set as appropriate",
  ),
  c(
    "1.2.28 1.2.27 1.2.26 1.2.26 1.2.26 1.2.26",
    "master",
    true,
    "--etcd-cafile argument is set as appropriate",
  ),
  c(
    "1.2.29 1.2.28 1.2.27 1.2.27 1.2.27 1.2.27",
    "master",
    true,
    "--encryption-provider-config argument is set as appropriate",
  ),
  c(
    "1.2.30 1.2.29 1.2.28 1.2.28 1.2.28 1.2.28",
    "master",
    true,
    "Encryption providers are appropriately configured",
  ),
  c(
    "1.2.31 1.2.30 1.2.29 1.2.29 1.2.29 1.2.29",
    "master",
    true,
    "API Server only makes use of Strong Cryptographic Ciphers",
  ),
  c(
    "- - - - 1.2.30 1.2.30",
    "master",
    true,
    "--service-account-extend-token-expiration parameter is set to false",
  ),
  c(
    "1.3.1 1.3.1 1.3.1 1.3.1 1.3.1 1.3.1",
    "master",
    false,
    "--terminated-pod-gc-threshold argument is set as appropriate",
  ),
  c("1.3.2 1.3.2 1.3.2 1.3.2 1.3.2 1.3.2", "master", true, "--profiling argument is set to false"),
  c(
    "1.3.3 1.3.3 1.3.3 1.3.3 1.3.3 1.3.3",
    "master",
    true,
    "--use-service-account-credentials argument is set to true",
  ),
  c(
    "1.3.4 1.3.4 1.3.4 1.3.4 1.3.4 1.3.4",
    "master",
    true,
    "--service-account-private-key-file argument is set as appropriate",
  ),
  c("1.3.5 1.3.5 1.3.5 1.3.5 1.3.5 1.3.5", "master", true, "--root-ca-file argument is set as appropriate"),
  c(
    "1.3.6 1.3.6 1.3.6 1.3.6 1.3.6 1.3.6",
    "master",
    true,
    "RotateKubeletServerCertificate argument is set to true",
  ),
  c("1.3.7 1.3.7 1.3.7 1.3.7 1.3.7 1.3.7", "master", true, "--bind-address argument is set to 127.0.0.1"),
  c("1.4.1 1.4.1 1.4.1 1.4.1 1.4.1 1.4.1", "master", true, "--profiling argument is set to false"),
  c("1.4.2 1.4.2 1.4.2 1.4.2 1.4.2 1.4.2", "master", true, "--bind-address argument is set to 127.0.0.1"),
  c("2.1 2.1 2.1 2.1 2.1 2.1", "etcd", true, "--cert-file and --key-file arguments are set as appropriate"),
  c("2.2 2.2 2.2 2.2 2.2 2.2", "etcd", true, "--client-cert-auth argument is set to true"),
  c("2.3 2.3 2.3 2.3 2.3 2.3", "etcd", true, "--auto-tls argument is not set to true"),
  c(
    "2.4 2.4 2.4 2.4 2.4 2.4",
    "etcd",
    true,
    "--peer-cert-file and --peer-key-file arguments are set as appropriate",
  ),
  c("2.5 2.5 2.5 2.5 2.5 2.5", "etcd", true, "--peer-client-cert-auth argument is set to true"),
  c("2.6 2.6 2.6 2.6 2.6 2.6", "etcd", true, "--peer-auto-tls argument is not set to true"),
  c("2.7 2.7 2.7 2.7 2.7 2.7", "etcd", true, "A unique Certificate Authority is used for etcd"),
  c(
    "3.1.1 3.1.1 3.1.1 3.1.1 3.1.1 3.1.1",
    "controlplane",
    false,
    "Client certificate authentication should not be used for users",
  ),
  c(
    "3.1.2 3.1.2 3.1.2 3.1.2 3.1.2 3.1.2",
    "controlplane",
    false,
    "Service account token authentication should not be used for users",
  ),
  c(
    "3.1.3 3.1.3 3.1.3 3.1.3 3.1.3 3.1.3",
    "controlplane",
    false,
    "Bootstrap token authentication should not be used for users",
  ),
  c("3.2.1 3.2.1 3.2.1 3.2.1 3.2.1 3.2.1", "controlplane", true, "A minimal audit policy is created"),
  c(
    "3.2.2 3.2.2 3.2.2 3.2.2 3.2.2 3.2.2",
    "controlplane",
    false,
    "Audit policy covers key security concerns",
  ),
  c(
    "4.1.1 4.1.1 4.1.1 4.1.1 4.1.1 4.1.1",
    "node",
    true,
    "Kubelet service file permissions are set to 600 or more restrictive",
  ),
  c(
    "4.1.2 4.1.2 4.1.2 4.1.2 4.1.2 4.1.2",
    "node",
    true,
    "Kubelet service file ownership is set to root:root",
  ),
  c(
    "4.1.3 4.1.3 4.1.3 4.1.3 4.1.3 4.1.3",
    "node",
    true,
    "If proxy kubeconfig file exists ensure permissions are set to 600 or more restrictive",
  ),
  c(
    "4.1.4 4.1.4 4.1.4 4.1.4 4.1.4 4.1.4",
    "node",
    true,
    "If proxy kubeconfig file exists ensure ownership is set to root:root",
  ),
  c(
    "4.1.5 4.1.5 4.1.5 4.1.5 4.1.5 4.1.5",
    "node",
    true,
    "--kubeconfig kubelet.conf file permissions are set to 600 or more restrictive",
  ),
  c(
    "4.1.6 4.1.6 4.1.6 4.1.6 4.1.6 4.1.6",
    "node",
    true,
    "--kubeconfig kubelet.conf file ownership is set to root:root",
  ),
  c(
    "4.1.7 4.1.7 4.1.7 4.1.7 4.1.7 4.1.7",
    "node",
    true,
    "Certificate authorities file permissions are set to 600 or more restrictive",
  ),
  c(
    "4.1.8 4.1.8 4.1.8 4.1.8 4.1.8 4.1.8",
    "node",
    true,
    "Client certificate authorities file ownership is set to root:root",
  ),
  c(
    "4.1.9 4.1.9 4.1.9 4.1.9 4.1.9 4.1.9",
    "node",
    true,
    "If the kubelet config.yaml configuration file is being used validate permissions set to 600 or more restrictive",
  ),
  c(
    "4.1.10 4.1.10 4.1.10 4.1.10 4.1.10 4.1.10",
    "node",
    true,
    "If the kubelet config.yaml configuration file is being used validate file ownership is set to root:root",
  ),
  c("4.2.1 4.2.1 4.2.1 4.2.1 4.2.1 4.2.1", "node", true, "--anonymous-auth argument is set to false"),
  c(
    "4.2.2 4.2.2 4.2.2 4.2.2 4.2.2 4.2.2",
    "node",
    true,
    "--authorization-mode argument is not set to AlwaysAllow",
  ),
  c("4.2.3 4.2.3 4.2.3 4.2.3 4.2.3 4.2.3", "node", true, "--client-ca-file argument is set as appropriate"),
  c(
    "4.2.4 4.2.4 4.2.4 4.2.4 4.2.4 4.2.4",
    "node",
    true,
    "If defined, the --read-only-port argument is set to 0",
  ),
  c(
    "4.2.5 4.2.5 4.2.5 4.2.5 4.2.5 4.2.5",
    "node",
    false,
    "--streaming-connection-idle-timeout argument is not set to 0",
  ),
  c(
    "4.2.6 4.2.6 4.2.6 4.2.6 4.2.6 4.2.6",
    "node",
    true,
    "--make-iptables-util-chains argument is set to true",
  ),
  c("4.2.7 4.2.7 4.2.7 4.2.7 4.2.7 4.2.7", "node", true, "--hostname-override argument is not set"),
  c(
    "4.2.8 4.2.8 4.2.8 4.2.8 4.2.8 4.2.8",
    "node",
    false,
    "EventRecordQPS argument is set to a level which ensures appropriate event capture",
  ),
  c(
    "4.2.9 4.2.9 4.2.9 4.2.9 4.2.9 4.2.9",
    "node",
    true,
    "--tls-cert-file and --tls-private-key-file arguments are set as appropriate",
  ),
  c(
    "4.2.10 4.2.10 4.2.10 4.2.10 4.2.10 4.2.10",
    "node",
    true,
    "--rotate-certificates argument is not set to false",
  ),
  c(
    "4.2.11 4.2.11 4.2.11 4.2.11 4.2.11 4.2.11",
    "node",
    true,
    "RotateKubeletServerCertificate argument is set to true",
  ),
  c(
    "4.2.12 4.2.12 4.2.12 4.2.12 4.2.12 4.2.12",
    "node",
    false,
    "Kubelet only makes use of Strong Cryptographic Ciphers",
  ),
  c("4.2.13 4.2.13 4.2.13 4.2.13 4.2.13 4.2.13", "node", false, "A limit is set on pod PIDs"),
  c("- - - - 4.2.14 4.2.14", "node", false, "--seccomp-default parameter is set to true"),
  c("- - 4.3.1 4.3.1 4.3.1 4.3.1", "node", true, "Kube-proxy metrics service is bound to localhost"),
  c(
    "5.1.1 5.1.1 5.1.1 5.1.1 5.1.1 5.1.1",
    "policies",
    false,
    "Cluster-admin role is only used where required",
  ),
  c("5.1.2 5.1.2 5.1.2 5.1.2 5.1.2 5.1.2", "policies", false, "Minimize access to secrets"),
  c(
    "5.1.3 5.1.3 5.1.3 5.1.3 5.1.3 5.1.3",
    "policies",
    false,
    "Minimize wildcard use in Roles and ClusterRoles",
  ),
  c("5.1.4 5.1.4 5.1.4 5.1.4 5.1.4 5.1.4", "policies", false, "Minimize access to create pods"),
  c(
    "5.1.5 5.1.5 5.1.5 5.1.5 5.1.5 5.1.5",
    "policies",
    false,
    "Default service accounts are not actively used.",
  ),
  c(
    "5.1.6 5.1.6 5.1.6 5.1.6 5.1.6 5.1.6",
    "policies",
    false,
    "Service Account Tokens are only mounted where necessary",
  ),
  c("5.1.7 5.1.7 5.1.7 5.1.7 5.1.7 5.1.7", "policies", false, "Avoid use of system:masters group"),
  c(
    "5.1.8 5.1.8 5.1.8 5.1.8 5.1.8 5.1.8",
    "policies",
    false,
    "Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster",
  ),
  c("5.1.9 5.1.9 5.1.9 5.1.9 5.1.9 5.1.9", "policies", false, "Minimize access to create persistent volumes"),
  c(
    "5.1.10 5.1.10 5.1.10 5.1.10 5.1.10 5.1.10",
    "policies",
    false,
    "Minimize access to the proxy sub-resource of nodes",
  ),
  c(
    "5.1.11 5.1.11 5.1.11 5.1.11 5.1.11 5.1.11",
    "policies",
    false,
    "Minimize access to the approval sub-resource of certificatesigningrequests objects",
  ),
  c(
    "5.1.12 5.1.12 5.1.12 5.1.12 5.1.12 5.1.12",
    "policies",
    false,
    "Minimize access to webhook configuration objects",
  ),
  c(
    "5.1.13 5.1.13 5.1.13 5.1.13 5.1.13 5.1.13",
    "policies",
    false,
    "Minimize access to the service account token creation",
  ),
  c(
    "5.2.1 5.2.1 5.2.1 5.2.1 5.2.1 5.2.1",
    "policies",
    false,
    "Cluster has at least one active policy control mechanism in place",
  ),
  c(
    "5.2.2 5.2.2 5.2.2 5.2.2 5.2.2 5.2.2",
    "policies",
    false,
    "Minimize the admission of privileged containers",
  ),
  c(
    "5.2.3 5.2.3 5.2.3 5.2.3 5.2.3 5.2.3",
    "policies",
    false,
    "Minimize the admission of containers wishing to share the host process ID namespace",
  ),
  c(
    "5.2.4 5.2.4 5.2.4 5.2.4 5.2.4 5.2.4",
    "policies",
    false,
    "Minimize the admission of containers wishing to share the host IPC namespace",
  ),
  c(
    "5.2.5 5.2.5 5.2.5 5.2.5 5.2.5 5.2.5",
    "policies",
    false,
    "Minimize the admission of containers wishing to share the host network namespace",
  ),
  c(
    "5.2.6 5.2.6 5.2.6 5.2.6 5.2.6 5.2.6",
    "policies",
    false,
    "Minimize the admission of containers with allowPrivilegeEscalation",
  ),
  c("5.2.7 5.2.7 5.2.7 5.2.7 5.2.7 5.2.7", "policies", false, "Minimize the admission of root containers"),
  c(
    "5.2.8 5.2.8 5.2.8 5.2.8 5.2.8 5.2.8",
    "policies",
    false,
    "Minimize the admission of containers with the NET_RAW capability",
  ),
  c(
    "5.2.10 5.2.10 5.2.10 5.2.10 5.2.10 5.2.9",
    "policies",
    false,
    "Minimize the admission of containers with capabilities assigned",
  ),
  c(
    "5.2.11 5.2.11 5.2.11 5.2.11 5.2.11 5.2.10",
    "policies",
    false,
    "Minimize the admission of Windows HostProcess containers",
  ),
  c(
    "5.2.12 5.2.12 5.2.12 5.2.12 5.2.12 5.2.11",
    "policies",
    false,
    "Minimize the admission of HostPath volumes",
  ),
  c(
    "5.2.13 5.2.13 5.2.13 5.2.13 5.2.13 5.2.12",
    "policies",
    false,
    "Minimize the admission of containers which use HostPorts",
  ),
  c("5.3.1 5.3.1 5.3.1 5.3.1 5.3.1 5.3.1", "policies", false, "CNI in use supports NetworkPolicies"),
  c("5.3.2 5.3.2 5.3.2 5.3.2 5.3.2 5.3.2", "policies", false, "All Namespaces have NetworkPolicies defined"),
  c(
    "5.4.1 5.4.1 5.4.1 5.4.1 5.4.1 5.4.1",
    "policies",
    false,
    "Prefer using Secrets as files over Secrets as environment variables",
  ),
  c("5.4.2 5.4.2 5.4.2 5.4.2 5.4.2 5.4.2", "policies", false, "Consider external secret storage"),
  c(
    "5.5.1 5.5.1 5.5.1 5.5.1 5.5.1 5.5.1",
    "policies",
    false,
    "Configure Image Provenance using ImagePolicyWebhook admission controller",
  ),
  c(
    "5.7.1 5.7.1 5.7.1 5.7.1 5.6.1 5.6.1",
    "policies",
    false,
    "Create administrative boundaries between resources using namespaces",
  ),
  c(
    "5.7.2 5.7.2 5.7.2 5.7.2 5.6.2 5.6.2",
    "policies",
    false,
    "Seccomp profile is set to docker/default in your Pod definitions",
  ),
  c(
    "5.7.3 5.7.3 5.7.3 5.7.3 5.6.3 5.6.3",
    "policies",
    false,
    "Apply SecurityContext to your Pods and Containers",
  ),
  c("5.7.4 5.7.4 5.7.4 5.7.4 5.6.4 5.6.4", "policies", false, "The default namespace should not be used"),
];

/** Automated controls no host check makes, and why (CIS.md says so in their row). */
export const NOT_CHECKED: Readonly<Record<string, string>> = {
  "1.2.20": "the benchmark's audit passes any value, set or unset (RKE2 leaves the default, 60s)",
  "4.1.1": "RKE2 runs the kubelet itself: there is no kubelet service file (the benchmark skips it)",
  "4.1.2": "RKE2 runs the kubelet itself: there is no kubelet service file (the benchmark skips it)",
  "4.2.7": "RKE2 sets --hostname-override to the node name itself (the benchmark skips it)",
};

/** K3s's automated controls no host check makes that K3S_NOT_APPLICABLE does not cover, and why. */
const K3S_NOT_CHECKED: Readonly<Record<string, string>> = {
  "1.2.20": "the benchmark's audit passes any value, set or unset (the stack renders request-timeout=60s)",
};

/** The automated controls a node of this distribution does not check, and why (CIS.md and the count line say so). */
export function notCheckedOf(d: Distribution): Readonly<Record<string, string>> {
  return d === "k3s" ? { ...K3S_NOT_APPLICABLE, ...K3S_NOT_CHECKED } : NOT_CHECKED;
}

/** The benchmark control whose rke2-cis-1.12 ID is `id` (the table's key: every row has one). */
export function benchmarkControl(id: string): BenchmarkControl {
  const found = BENCHMARK_CONTROLS.find((b) => b.ids["rke2-cis-1.12"] === id);
  if (!found) throw new Error(`no CIS control ${id} in rke2-cis-1.12`);
  return found;
}

/** A process the host checks read flags of, from /proc/<pid>/cmdline (the benchmark's `ps -fC <bin>`). */
export type Process =
  "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubelet" | "kube-proxy";

/**
 * How a value must compare, as the benchmark's test items do: `set`/`unset` (the flag's presence), `eq`, `noteq`,
 * `has`/`nothave` (an element of a comma list), `gte` (a number), `subset` (every element of a comma list is one
 * of `value`'s), `contains` (a substring). `|unset` also accepts the flag absent (the benchmark's `or` with `set: false`).
 */
export type Op =
  | "set"
  | "unset"
  | "eq"
  | "eq|unset"
  | "noteq"
  | "noteq|unset"
  | "has"
  | "nothave"
  | "nothave|unset"
  | "gte"
  | "subset"
  | "contains|unset";

/** What a host check reads for a control: what the benchmark's audit command reads. */
export type Audit =
  /** `stat -c %a` of the path (every match of a glob) is within `max`'s bits; `optional`: absent passes (4.1.3). */
  | { kind: "mode"; path: string; max: string; optional?: true }
  /** `stat -c %U:%G` of the path. */
  | { kind: "owner"; path: string; owner: string; optional?: true }
  /** A flag on the running process's command line. */
  | { kind: "flag"; process: Process; flag: string; op: Op; value?: string }
  /** A kubelet setting: its flag when on the command line, else `key` in the kubelet's config files (4.2.x); with
   * `flag` empty, only the config key. */
  | { kind: "kubelet"; flag: string; key: string; op: Op; value?: string }
  /** A key of etcd's config file (`--config-file`, RKE2's server/db/etcd/config; 2.x). */
  | { kind: "etcd"; key: string; op: Op; value?: string }
  /** The first provider for Secrets in the file kube-apiserver's --encryption-provider-config names (1.2.28). */
  | { kind: "encryption"; allowed: string };

const RKE2 = "/var/lib/rancher/rke2";
const MANIFESTS = `${RKE2}/agent/pod-manifests`;
const ETCD_TLS = `${RKE2}/server/tls/etcd`;
/** RKE2's kubelet config file (kube-bench's rke2-cis-1.12 `kubeletconf`). */
export const KUBELET_CONF = `${RKE2}/agent/etc/kubelet.conf.d/00-rke2-defaults.conf`;

const file = (path: string, max: string, optional?: true): Audit[] => [
  { kind: "mode", path, max, ...(optional ? { optional } : {}) },
];
const owner = (path: string, o = "root:root", optional?: true): Audit[] => [
  { kind: "owner", path, owner: o, ...(optional ? { optional } : {}) },
];
const api = (flag: string, op: Op, value?: string): Audit => ({
  kind: "flag",
  process: "kube-apiserver",
  flag,
  op,
  ...(value !== undefined ? { value } : {}),
});
const kcm = (flag: string, op: Op, value?: string): Audit => ({
  kind: "flag",
  process: "kube-controller-manager",
  flag,
  op,
  ...(value !== undefined ? { value } : {}),
});
const sched = (flag: string, op: Op, value?: string): Audit => ({
  kind: "flag",
  process: "kube-scheduler",
  flag,
  op,
  ...(value !== undefined ? { value } : {}),
});
const kubelet = (flag: string, key: string, op: Op, value?: string): Audit => ({
  kind: "kubelet",
  flag,
  key,
  op,
  ...(value !== undefined ? { value } : {}),
});
const etcd = (key: string, op: Op, value?: string): Audit => ({
  kind: "etcd",
  key,
  op,
  ...(value !== undefined ? { value } : {}),
});

/** The cipher suites rke2-cis-1.12's 1.2.29 accepts for kube-apiserver. */
const API_CIPHERS =
  "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256," +
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256," +
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384," +
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,TLS_RSA_WITH_AES_128_GCM_SHA256," +
  "TLS_RSA_WITH_AES_256_GCM_SHA384";

/**
 * The kubelet's cipher suites (4.2.12): the six rke2-cis-1.12 accepts (its valid_elements, the same six kube-bench's
 * rke2-cis-1.8 scores), which RKE2's self-assessment guide has the operator add through `kubelet-arg`.
 */
export const KUBELET_CIPHER_SUITES = [
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
] as const;

/**
 * The host audit of each control that can be checked on a node, by its rke2-cis-1.12 ID, from rke2-cis-1.12's audit
 * definitions (paths from its config.yaml). A control with several audits passes when all of them do. Not here, and
 * why: 1.1.9/1.1.10 (the CNI's files, manual), 1.2.3/1.2.9/1.2.11 (admission plugins RKE2 leaves off, manual), 1.2.20
 * and 4.2.8 (their audits accept any value), 4.1.1/4.1.2 (RKE2 has no kubelet service file; the benchmark skips
 * them), 4.2.7 (RKE2 sets --hostname-override itself; skipped by the benchmark), 4.2.13/4.2.14 (manual, the
 * operator's choice), 3.1.x and 5.x (in-cluster or the operator's: see ROWS).
 */
export const HOST_AUDITS: Readonly<Record<string, readonly Audit[]>> = {
  "1.1.1": file(`${MANIFESTS}/kube-apiserver.yaml`, "600"),
  "1.1.2": owner(`${MANIFESTS}/kube-apiserver.yaml`),
  "1.1.3": file(`${MANIFESTS}/kube-controller-manager.yaml`, "600"),
  "1.1.4": owner(`${MANIFESTS}/kube-controller-manager.yaml`),
  "1.1.5": file(`${MANIFESTS}/kube-scheduler.yaml`, "600"),
  "1.1.6": owner(`${MANIFESTS}/kube-scheduler.yaml`),
  "1.1.7": file(`${MANIFESTS}/etcd.yaml`, "600"),
  "1.1.8": owner(`${MANIFESTS}/etcd.yaml`),
  "1.1.11": file(`${RKE2}/server/db/etcd`, "700"),
  "1.1.12": owner(`${RKE2}/server/db/etcd`, "etcd:etcd"),
  "1.1.13": file(`${RKE2}/server/cred/admin.kubeconfig`, "600"),
  "1.1.14": owner(`${RKE2}/server/cred/admin.kubeconfig`),
  "1.1.15": file(`${RKE2}/server/cred/scheduler.kubeconfig`, "600"),
  "1.1.16": owner(`${RKE2}/server/cred/scheduler.kubeconfig`),
  "1.1.17": file(`${RKE2}/server/cred/controller.kubeconfig`, "600"),
  "1.1.18": owner(`${RKE2}/server/cred/controller.kubeconfig`),
  "1.1.19": owner(`${RKE2}/server/tls`),
  "1.1.20": file(`${RKE2}/server/tls/*.crt`, "644"),
  "1.1.21": file(`${RKE2}/server/tls/*.key`, "600"),
  "1.2.1": [api("anonymous-auth", "eq", "false")],
  "1.2.2": [api("token-auth-file", "unset")],
  "1.2.4": [api("kubelet-client-certificate", "set"), api("kubelet-client-key", "set")],
  "1.2.5": [api("kubelet-certificate-authority", "set")],
  "1.2.6": [api("authorization-mode", "nothave", "AlwaysAllow")],
  "1.2.7": [api("authorization-mode", "has", "Node")],
  "1.2.8": [api("authorization-mode", "has", "RBAC")],
  "1.2.10": [api("enable-admission-plugins", "nothave|unset", "AlwaysAdmit")],
  "1.2.12": [api("disable-admission-plugins", "nothave|unset", "ServiceAccount")],
  "1.2.13": [api("disable-admission-plugins", "nothave|unset", "NamespaceLifecycle")],
  "1.2.14": [api("enable-admission-plugins", "has", "NodeRestriction")],
  "1.2.15": [api("profiling", "eq", "false")],
  "1.2.16": [api("audit-log-path", "set")],
  "1.2.17": [api("audit-log-maxage", "gte", "30")],
  "1.2.18": [api("audit-log-maxbackup", "gte", "10")],
  "1.2.19": [api("audit-log-maxsize", "gte", "100")],
  "1.2.21": [api("service-account-lookup", "eq|unset", "true")],
  "1.2.22": [api("service-account-key-file", "set")],
  "1.2.23": [api("etcd-certfile", "set"), api("etcd-keyfile", "set")],
  "1.2.24": [api("tls-cert-file", "set"), api("tls-private-key-file", "set")],
  "1.2.25": [api("client-ca-file", "set")],
  "1.2.26": [api("etcd-cafile", "set")],
  "1.2.27": [api("encryption-provider-config", "set")],
  "1.2.28": [{ kind: "encryption", allowed: "aescbc,kms,secretbox" }],
  "1.2.29": [api("tls-cipher-suites", "subset", API_CIPHERS)],
  "1.2.30": [api("service-account-extend-token-expiration", "eq", "false")],
  "1.3.1": [kcm("terminated-pod-gc-threshold", "set")],
  "1.3.2": [kcm("profiling", "eq", "false")],
  "1.3.3": [kcm("use-service-account-credentials", "noteq", "false")],
  "1.3.4": [kcm("service-account-private-key-file", "set")],
  "1.3.5": [kcm("root-ca-file", "set")],
  "1.3.6": [kcm("feature-gates", "nothave|unset", "RotateKubeletServerCertificate=false")],
  "1.3.7": [kcm("bind-address", "eq|unset", "127.0.0.1")],
  "1.4.1": [sched("profiling", "eq", "false")],
  "1.4.2": [sched("bind-address", "eq|unset", "127.0.0.1")],
  "2.1": [
    etcd("client-transport-security.cert-file", "eq", `${ETCD_TLS}/server-client.crt`),
    etcd("client-transport-security.key-file", "eq", `${ETCD_TLS}/server-client.key`),
  ],
  "2.2": [etcd("client-transport-security.client-cert-auth", "eq", "true")],
  "2.3": [etcd("client-transport-security.auto-tls", "eq|unset", "false")],
  "2.4": [
    etcd("peer-transport-security.cert-file", "eq", `${ETCD_TLS}/peer-server-client.crt`),
    etcd("peer-transport-security.key-file", "eq", `${ETCD_TLS}/peer-server-client.key`),
  ],
  "2.5": [etcd("peer-transport-security.client-cert-auth", "eq", "true")],
  "2.6": [etcd("peer-transport-security.auto-tls", "eq|unset", "false")],
  "2.7": [etcd("peer-transport-security.trusted-ca-file", "eq", `${ETCD_TLS}/peer-ca.crt`)],
  "3.2.1": [api("audit-policy-file", "set")],
  // Manual and in-cluster in the benchmark; on the host, the API server must run with the admission config that
  // carries Pod Security Admission (RKE2 passes the stack's file there).
  "5.2.1": [api("admission-control-config-file", "set")],
  "4.1.3": file(`${RKE2}/agent/kubeproxy.kubeconfig`, "600", true),
  "4.1.4": owner(`${RKE2}/agent/kubeproxy.kubeconfig`, "root:root", true),
  "4.1.5": file(`${RKE2}/agent/kubelet.kubeconfig`, "600"),
  "4.1.6": owner(`${RKE2}/agent/kubelet.kubeconfig`),
  "4.1.7": file(`${RKE2}/agent/client-ca.crt`, "600"),
  "4.1.8": owner(`${RKE2}/agent/client-ca.crt`),
  "4.1.9": file(KUBELET_CONF, "600"),
  "4.1.10": owner(KUBELET_CONF),
  "4.2.1": [kubelet("anonymous-auth", "authentication.anonymous.enabled", "eq", "false")],
  "4.2.2": [kubelet("authorization-mode", "authorization.mode", "nothave|unset", "AlwaysAllow")],
  "4.2.3": [kubelet("client-ca-file", "authentication.x509.clientCAFile", "set")],
  "4.2.4": [kubelet("read-only-port", "readOnlyPort", "eq|unset", "0")],
  "4.2.5": [
    kubelet("streaming-connection-idle-timeout", "streamingConnectionIdleTimeout", "noteq|unset", "0"),
  ],
  "4.2.6": [kubelet("make-iptables-util-chains", "makeIPTablesUtilChains", "eq|unset", "true")],
  "4.2.9": [
    kubelet("tls-cert-file", "tlsCertFile", "set"),
    kubelet("tls-private-key-file", "tlsPrivateKeyFile", "set"),
  ],
  "4.2.10": [kubelet("rotate-certificates", "rotateCertificates", "eq|unset", "true")],
  "4.2.11": [
    {
      kind: "flag",
      process: "kubelet",
      flag: "feature-gates",
      op: "nothave|unset",
      value: "RotateKubeletServerCertificate=false",
    },
    kubelet("", "featureGates.RotateKubeletServerCertificate", "noteq|unset", "false"),
  ],
  "4.2.12": [kubelet("tls-cipher-suites", "tlsCipherSuites", "subset", KUBELET_CIPHER_SUITES.join(","))],
  "4.3.1": [
    {
      kind: "flag",
      process: "kube-proxy",
      flag: "metrics-bind-address",
      op: "contains|unset",
      value: "127.0.0.1",
    },
  ],
};

let k3sAudits: Readonly<Record<string, readonly Audit[]>> | undefined;

/**
 * The host audits a node of this distribution makes, by rke2-cis-1.12 ID. K3s's self-assessment guides
 * (docs.k3s.io security/self-assessment-1.12) make the same audits as rke2-cis-1.12 at K3s's own paths (its data
 * folder for RKE2's; the kubelet's defaults file is `00-<program>-defaults.conf`, k3s pkg/daemons/agent), except the
 * controls they mark Not Applicable; the components' flags are read from K3s's journal (the `cis` step's
 * `args-journal` directive, components/render/cis-checks.ts).
 */
export function hostAuditsOf(d: Distribution): Readonly<Record<string, readonly Audit[]>> {
  if (d === "rke2") return HOST_AUDITS;
  const at = (p: string) =>
    p.replace(RKE2, DISTRIBUTION[d].dataDir).replace("/00-rke2-defaults.conf", `/00-${d}-defaults.conf`);
  const moved = (a: Audit): Audit =>
    a.kind === "mode" || a.kind === "owner"
      ? { ...a, path: at(a.path) }
      : a.kind === "etcd" && a.value !== undefined
        ? { ...a, value: at(a.value) }
        : a;
  k3sAudits ??= Object.fromEntries(
    Object.entries(HOST_AUDITS)
      .filter(([id]) => K3S_NOT_APPLICABLE[id] === undefined)
      .map(([id, audits]) => [id, audits.map(moved)]),
  );
  return k3sAudits;
}

/** A product key: its benchmark controls (by rke2-cis-1.12 ID), or its own label where it is not a benchmark control. */
type Row = {
  title: string;
  minimum?: number;
  satisfiedBy: Means;
  /** Checks besides the host audit (HOST_AUDITS), which CIS.md derives from the table. */
  checkedBy: readonly Checker[];
} & ({ refs: readonly string[] } | { label: string });

const rows = {
  etcdDataDirOwner: {
    refs: ["1.1.12"],
    title: "etcd data directory is owned by etcd:etcd",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
  },
  credentialKubeconfigs: {
    refs: ["1.1.13", "1.1.14"],
    title: "admin kubeconfig is 600 and root:root",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  auditLogPath: {
    refs: ["1.2.16"],
    title: "--audit-log-path is set",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
  },
  auditLogMaxAge: {
    refs: ["1.2.17"],
    title: "--audit-log-maxage is 30 or more",
    minimum: 30,
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "policy"],
  },
  auditLogMaxBackup: {
    refs: ["1.2.18"],
    title: "--audit-log-maxbackup is 10 or more",
    minimum: 10,
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "policy"],
  },
  auditLogMaxSize: {
    refs: ["1.2.19"],
    title: "--audit-log-maxsize is 100 or more",
    minimum: 100,
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "policy"],
  },
  encryption: {
    refs: ["1.2.27", "1.2.28"],
    title: "--encryption-provider-config is set and its providers are appropriate",
    satisfiedBy: "rendered file",
    checkedBy: ["schema"],
  },
  tokenExpiration: {
    refs: ["1.2.30"],
    title: "--service-account-extend-token-expiration is false",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  terminatedPodGc: {
    refs: ["1.3.1"],
    title: "--terminated-pod-gc-threshold is set",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  auditPolicy: {
    refs: ["3.2.1"],
    title: "A minimal audit policy is created",
    satisfiedBy: "rendered file",
    checkedBy: ["schema", "verification", "policy"],
  },
  auditPolicyCoverage: {
    refs: ["3.2.2"],
    title: "The audit policy covers key security concerns",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  kubeletCiphers: {
    refs: ["4.2.12"],
    title: "The kubelet only uses strong cipher suites",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  defaultServiceAccounts: {
    refs: ["5.1.5"],
    title: "Default service accounts are not used (automountServiceAccountToken: false)",
    satisfiedBy: "in-cluster object",
    checkedBy: ["verification", "policy"],
  },
  policyControl: {
    refs: ["5.2.1"],
    title: "At least one active policy control mechanism (Pod Security Admission)",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  podSecurityLabels: {
    label: "5.2",
    title: "Every managed namespace enforces a Pod Security level",
    satisfiedBy: "in-cluster object",
    checkedBy: ["schema", "policy"],
  },
  restrictedPods: {
    refs: ["5.2.3", "5.2.4", "5.2.5", "5.2.6", "5.2.8", "5.2.9", "5.2.10", "5.2.11", "5.2.12"],
    title:
      "Pod Security Admission `restricted` refuses host namespaces, escalation, capabilities and host paths",
    satisfiedBy: "rendered file",
    checkedBy: [],
  },
  privilegedContainers: {
    refs: ["5.2.2"],
    title: "A privileged pod is refused by admission",
    satisfiedBy: "rendered file",
    checkedBy: ["verification", "policy"],
  },
  rootContainers: {
    refs: ["5.2.7"],
    title: "No container runs as root",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
  },
  cniNetworkPolicy: {
    refs: ["5.3.1"],
    title: "The CNI supports NetworkPolicies",
    satisfiedBy: "rendered file",
    checkedBy: ["schema"],
  },
  namespaceNetworkPolicies: {
    refs: ["5.3.2"],
    title: "All namespaces have NetworkPolicies",
    satisfiedBy: "in-cluster object",
    checkedBy: ["verification", "policy"],
  },
  namespaceBoundaries: {
    refs: ["5.6.1"],
    title: "Namespaces draw administrative boundaries",
    satisfiedBy: "in-cluster object",
    checkedBy: [],
  },
  productFiles: {
    // The benchmark's 1.1.x asks the same of RKE2's own files; these are the product's.
    label: "1.1.x",
    title: "The product's node files holding configuration or secrets are 600 or stricter and root:root",
    satisfiedBy: "rendered file",
    checkedBy: ["host check"],
  },
  protectKernelDefaults: {
    // kubelet --protect-kernel-defaults is 4.2.6 only in rke2-cis-1.23/1.24, older than any supported benchmark; the
    // CIS profile still needs it (RKE2 refuses to start with it off).
    label: "4.2.6 in older benchmarks",
    title: "kubelet --protect-kernel-defaults is true",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
  },
  kernelParameters: {
    label: "host",
    title:
      "Kernel parameters vm.panic_on_oom=0, vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1 (RKE2 refuses to start under the CIS profile without them)",
    satisfiedBy: "rendered file",
    checkedBy: ["policy"],
  },
  fips: {
    // Not a CIS control: FIPS 140-2 (mission row 25), reported beside the controls so one output holds both.
    label: "FIPS",
    title:
      "FIPS 140-2: the kernel is in FIPS mode and the installed RKE2 binary carries its BoringCrypto module (fips: true)",
    satisfiedBy: "operator",
    checkedBy: ["verification", "policy"],
  },
} satisfies Record<string, Row>;

export type ControlKey = keyof typeof rows;

export interface Control {
  /** Its ID in each supported benchmark ("-" where that benchmark has none of its controls). */
  ids: Record<Benchmark, string>;
  /** The benchmark controls it stands for (rke2-cis-1.12 IDs); empty for the product's own checks. */
  refs: readonly string[];
  title: string;
  minimum?: number;
  satisfiedBy: Means;
  checkedBy: readonly Checker[];
}

/** "1.2.27" and "1.2.28" → "1.2.27–1.2.28"; IDs a benchmark lacks are left out. */
function idsOf(refs: readonly string[]): Record<Benchmark, string> {
  return Object.fromEntries(
    BENCHMARKS.map((b) => {
      const found = refs.map((r) => benchmarkControl(r).ids[b]).filter((id) => id !== "-");
      const id =
        found.length === 0 ? "-" : found.length === 1 ? found[0] : `${found[0]}–${found[found.length - 1]}`;
      return [b, id];
    }),
  ) as Record<Benchmark, string>;
}

/** The product's keys, in the order they are listed. */
export const CATALOGUE: Readonly<Record<ControlKey, Control>> = Object.fromEntries(
  Object.entries(rows).map(([key, row]: [string, Row]) => {
    const refs = "refs" in row ? row.refs : [];
    const ids =
      "refs" in row
        ? idsOf(row.refs)
        : (Object.fromEntries(BENCHMARKS.map((b) => [b, row.label])) as Record<Benchmark, string>);
    const { title, minimum, satisfiedBy, checkedBy } = row;
    return [key, { ids, refs, title, ...(minimum !== undefined ? { minimum } : {}), satisfiedBy, checkedBy }];
  }),
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

/** The product key that stands for a benchmark control (rke2-cis-1.12 ID), if any. */
export function keyOf(id112: string): ControlKey | undefined {
  return CONTROL_KEYS.find((k) => CATALOGUE[k].refs.includes(id112));
}

/** How a benchmark control is satisfied: by the product key that names it, else RKE2's CIS profile for what the
 * host audits check (RKE2 sets those flags, files and modes itself), else the operator. */
export function satisfiedBy(control: BenchmarkControl): Means {
  const id = control.ids["rke2-cis-1.12"];
  const key = keyOf(id);
  if (key) return CATALOGUE[key].satisfiedBy;
  return HOST_AUDITS[id] || NOT_CHECKED[id] !== undefined ? "RKE2 profile" : "operator";
}

/** What checks a benchmark control: the host audit where it has one, and the checks of the key that names it. */
export function checkedBy(control: BenchmarkControl): Checker[] {
  const id = control.ids["rke2-cis-1.12"];
  const key = keyOf(id);
  return [
    ...(HOST_AUDITS[id] ? (["host check"] as Checker[]) : []),
    ...(key ? CATALOGUE[key].checkedBy : []),
  ];
}

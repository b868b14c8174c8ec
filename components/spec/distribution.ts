// The distribution table: every fact that differs between RKE2 and K3s (paths, service names, artifact names, config
// keys, bundled components), in one place. Renderers, scripts (through the node env file) and the CIS map read it;
// nothing else spells a distribution's path or asks "is this K3s".
// Sources: RKE2 as in ../shared/research/FACTS.md §2.3; K3s from docs.k3s.io (security/hardening-guide.md: the
// config keys, psa.yaml / audit.yaml / logs under /var/lib/rancher/k3s/server; installation/airgap.md and the release
// assets: `k3s`, `k3s-arm64`, `k3s-airgap-images-<arch>.tar.zst`, `sha256sum-<arch>.txt`; datastore/ha-embedded.md:
// `cluster-init` on the first server, others join `https://<server>:6443`) and k3s-io/k3s install.sh (the units it
// writes: k3s.service, k3s-agent.service, `ExecStart=/usr/local/bin/k3s server|agent`).

export const DISTRIBUTIONS = ["rke2", "k3s"] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

export interface DistributionFacts {
  /** How the product names it in text: `RKE2`, `K3s`. */
  title: string;
  /** Its configuration folder (config.yaml, registries.yaml, the admin kubeconfig). */
  etcDir: string;
  /** Its data folder (server token, manifests, images, etcd). */
  dataDir: string;
  /** The admin kubeconfig it writes on servers. */
  kubeconfig: string;
  /** Where the server writes the cluster token once it has started (the "ready" step waits for it). */
  serverToken: string;
  /** A file the agent writes once it has joined. */
  agentJoined: string;
  /** The audit policy file the API server reads (the K3s guide keeps it under the server's data folder). */
  auditPolicy: string;
  /** The Pod Security admission configuration file. */
  podSecurity: string;
  /** The default audit log (its folder is created 0700 before first start on K3s: hardening guide, "API Server
   * audit configuration"). */
  auditLog: string;
  /** systemd unit per role. */
  units: { server: string; agent: string };
  /** The supervisor port nodes register through: RKE2 9345, K3s the API port 6443. */
  supervisorPort: number;
  /** The release's version suffix (`+rke2r1`, `+k3s1`). */
  versionSuffix: string;
  /** An example pinned release, for error messages. */
  exampleVersion: string;
  /** Where releases are published (`<url>/<version>/<file>`). */
  defaultArtifactUrl: string;
  /** The install artifact: a tarball unpacked into /usr/local, or one static binary installed as /usr/local/bin/<x>. */
  artifact: (arch: string) => { file: string; kind: "tarball" | "binary" };
  /** The published checksum file of a release. */
  checksums: (arch: string) => string;
  /** The image archives an air-gapped node imports from its images folder (alternatives: any one of them). */
  images: (arch: string) => string[];
  /** Whether the distribution takes RKE2's `profile` key (K3s has none: every CIS item is spelled out). */
  hasProfile: boolean;
  /** Whether etcd runs as its own `etcd` user, which the host must have (RKE2's profile); K3s runs etcd embedded in
   * its own root process (self-assessment 1.12: 1.1.12 "Not Applicable"). */
  etcdUser: boolean;
  /** Whether the tarball ships the systemd units; K3s's binary does not, so the product renders them. */
  shipsUnits: boolean;
  /** The CNIs it can run that enforce NetworkPolicy (CIS 5.3.1), the first being the default. */
  cnis: readonly string[];
  /** How the audit policy and the admission config reach the API server: RKE2's own config keys
   * (`audit-policy-file`, `pod-security-admission-config-file`), or `kube-apiserver-arg` flags (K3s has no keys). */
  apiServerFilesAs: "keys" | "args";
  /** The key the first server sets to start a new cluster: K3s's embedded etcd needs `cluster-init: true`
   * (docs.k3s.io datastore/ha-embedded); RKE2 always runs etcd and needs none. */
  firstServerKey?: string;
  /** Whether `cni` is a config key (RKE2); K3s runs flannel unless told otherwise and has no such key. */
  cniKey: boolean;
  /** kube-apiserver flags the distribution does not set itself and its hardening guide has the operator add. RKE2's
   * profile sets these; K3s's guide lists NodeRestriction,EventRateLimit (CIS 1.2.9, 1.2.15); request-timeout and
   * service-account-lookup are the Kubernetes defaults written out so its self-assessment audit (CIS 1.2.20, 1.2.23)
   * reads them on the command line. */
  apiServerArgs: readonly string[];
  /** kubelet flags beyond the cipher suites, from the hardening guide: streaming-connection-idle-timeout (CIS 4.2.5),
   * make-iptables-util-chains (CIS 4.2.7 in the 1.7/1.8 numbering). RKE2's profile sets both itself. */
  kubeletArgs: readonly string[];
  /** kube-controller-manager's terminated-pod-gc-threshold (CIS 1.3.1): RKE2's default spelled out; K3s's guide 10
   * (its v1.25–v1.28 tab; the newer tab's 100 would also pass, 10 collects sooner). */
  terminatedPodGcThreshold: number;
  /** Whether the API server's admission config must configure EventRateLimit (K3s enables the plugin above). */
  eventRateLimit: boolean;
  /** Whether the audit log folder is created 0700 before the first start: K3s does not create it (hardening guide,
   * "API Server audit configuration": `mkdir -p -m 700 /var/lib/rancher/k3s/server/logs`); RKE2 does. */
  createsAuditLogDir: boolean;
  /** Whether the `cis` step's host checks run (cis-catalogue.ts hostAuditsOf). Both: on K3s the audits read K3s's
   * paths and, for the components K3s runs inside its own process, the command lines its journal holds. */
  hostChecks: boolean;
}

export const DISTRIBUTION: Readonly<Record<Distribution, DistributionFacts>> = {
  rke2: {
    title: "RKE2",
    etcDir: "/etc/rancher/rke2",
    dataDir: "/var/lib/rancher/rke2",
    kubeconfig: "/etc/rancher/rke2/rke2.yaml",
    serverToken: "/var/lib/rancher/rke2/server/token",
    agentJoined: "/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
    auditPolicy: "/etc/rancher/rke2/audit-policy.yaml",
    podSecurity: "/etc/rancher/rke2/hardened-rke2-pss.yaml",
    auditLog: "/var/lib/rancher/rke2/server/logs/audit.log",
    units: { server: "rke2-server.service", agent: "rke2-agent.service" },
    supervisorPort: 9345,
    versionSuffix: "rke2r",
    exampleVersion: "v1.33.5+rke2r1",
    defaultArtifactUrl: "https://github.com/rancher/rke2/releases/download",
    artifact: (arch) => ({ file: `rke2.linux-${arch}.tar.gz`, kind: "tarball" }),
    checksums: (arch) => `sha256sum-${arch}.txt`,
    images: (arch) => [`rke2-images.linux-${arch}.tar.zst`, `rke2-images.linux-${arch}.tar.gz`],
    hasProfile: true,
    etcdUser: true,
    shipsUnits: true,
    cnis: ["canal", "calico", "cilium"],
    apiServerFilesAs: "keys",
    cniKey: true,
    apiServerArgs: [],
    kubeletArgs: [],
    terminatedPodGcThreshold: 1000,
    eventRateLimit: false,
    createsAuditLogDir: true,
    hostChecks: true,
  },
  k3s: {
    title: "K3s",
    etcDir: "/etc/rancher/k3s",
    dataDir: "/var/lib/rancher/k3s",
    kubeconfig: "/etc/rancher/k3s/k3s.yaml",
    serverToken: "/var/lib/rancher/k3s/server/token",
    agentJoined: "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
    // The K3s hardening guide's own paths (psa.yaml, audit.yaml), so an auditor following it finds them there.
    auditPolicy: "/var/lib/rancher/k3s/server/audit.yaml",
    podSecurity: "/var/lib/rancher/k3s/server/psa.yaml",
    auditLog: "/var/lib/rancher/k3s/server/logs/audit.log",
    units: { server: "k3s.service", agent: "k3s-agent.service" },
    supervisorPort: 6443,
    versionSuffix: "k3s",
    exampleVersion: "v1.33.5+k3s1",
    defaultArtifactUrl: "https://github.com/k3s-io/k3s/releases/download",
    artifact: (arch) => ({ file: arch === "amd64" ? "k3s" : `k3s-${arch}`, kind: "binary" }),
    checksums: (arch) => `sha256sum-${arch}.txt`,
    images: (arch) => [`k3s-airgap-images-${arch}.tar.zst`, `k3s-airgap-images-${arch}.tar.gz`],
    hasProfile: false,
    etcdUser: false,
    shipsUnits: false,
    // flannel with K3s's embedded network policy controller (kube-router's), which enforces NetworkPolicy unless
    // `disable-network-policy` is set: the product never sets it (hardening guide, "NetworkPolicies").
    cnis: ["flannel"],
    apiServerFilesAs: "args",
    firstServerKey: "cluster-init",
    cniKey: false,
    apiServerArgs: [
      "enable-admission-plugins=NodeRestriction,EventRateLimit",
      "request-timeout=60s",
      "service-account-lookup=true",
    ],
    kubeletArgs: ["streaming-connection-idle-timeout=5m", "make-iptables-util-chains=true"],
    terminatedPodGcThreshold: 10,
    eventRateLimit: true,
    createsAuditLogDir: false,
    hostChecks: true,
  },
};

/** The paths every renderer writes to, for one distribution. */
export function pathsOf(d: Distribution) {
  const f = DISTRIBUTION[d];
  return {
    sysctl: "/etc/sysctl.d/90-kubelet.conf",
    config: `${f.etcDir}/config.yaml`,
    configDropIns: `${f.etcDir}/config.yaml.d`,
    token: `${f.etcDir}/cluster-token`,
    registries: `${f.etcDir}/registries.yaml`,
    registryCerts: `${f.etcDir}/registries.d`,
    auditPolicy: f.auditPolicy,
    podSecurity: f.podSecurity,
    etcdS3Ca: `${f.etcDir}/etcd-s3-ca.crt`,
    kubeconfig: f.kubeconfig,
    serverManifests: `${f.dataDir}/server/manifests`,
    imagesDir: `${f.dataDir}/agent/images`,
    unitsDir: "/etc/systemd/system",
  } as const;
}

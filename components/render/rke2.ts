// The distribution's config.yaml (/etc/rancher/rke2 or /etc/rancher/k3s) and the files it points at that hold no
// Kubernetes policy: the token file, the etcd S3 credentials drop-in, K3s's systemd units and the node env file the
// static scripts read. What differs between RKE2 and K3s comes from the distribution table (spec/distribution.ts).
import { disabledCharts } from "../spec/addons";
import type { ClusterSpec } from "../spec/types";
import { KUBELET_CIPHER_SUITES } from "../spec/cis-catalogue";
import { needsExplicitTokenExpirationFlag } from "../spec/version";
import * as path from "node:path";
import { DISTRIBUTION, pathsOf } from "../spec/distribution";
import { pathsFor, rootFile, yamlFile, type NodeFile } from "./files";
import type { RenderInputs } from "./inputs";
import type { NodeFacts } from "../spec/plan";

/** RKE2's own default for kube-controller-manager, spelled out so the rendered file shows CIS 1.3.1 is met. */
export const TERMINATED_POD_GC_THRESHOLD = DISTRIBUTION.rke2.terminatedPodGcThreshold;

/**
 * The `kubelet-arg` list of every node: only strong TLS cipher suites (CIS 4.2.12: Manual in rke2-cis-1.12, Automated
 * and scored in kube-bench's rke2-cis-1.8). RKE2 leaves the kubelet's suites at Go's defaults; its self-assessment
 * guides have the operator add exactly this flag.
 */
export const KUBELET_ARGS: readonly string[] = [`tls-cipher-suites=${KUBELET_CIPHER_SUITES.join(",")}`];

/** The `kubelet-arg` list of a distribution: the cipher suites, then the flags its hardening guide adds. */
export function kubeletArgs(spec: Pick<ClusterSpec, "distribution">): string[] {
  return [...KUBELET_ARGS, ...DISTRIBUTION[spec.distribution].kubeletArgs];
}

/** The `kube-apiserver-arg` list: audit log flags (CIS 1.2.16–1.2.19 in CIS 1.9+) and version-specific flags; on K3s
 * also the admission and audit policy files and the flags its hardening guide adds. */
export function apiServerArgs(spec: ClusterSpec): string[] {
  const d = DISTRIBUTION[spec.distribution];
  const paths = pathsOf(spec.distribution);
  const files =
    d.apiServerFilesAs === "args"
      ? [`admission-control-config-file=${paths.podSecurity}`, `audit-policy-file=${paths.auditPolicy}`]
      : [];
  const args = [
    ...d.apiServerArgs,
    ...files,
    `audit-log-path=${spec.audit.logPath}`,
    `audit-log-maxage=${spec.audit.maxAge}`,
    `audit-log-maxbackup=${spec.audit.maxBackup}`,
    `audit-log-maxsize=${spec.audit.maxSize}`,
  ];
  // RKE2 adds this itself in CIS mode only from v1.31.14/v1.32.10/v1.33.6/v1.34.2/v1.35.0 (CIS 1.11 asks for it).
  if (needsExplicitTokenExpirationFlag(spec.version))
    args.push("service-account-extend-token-expiration=false");
  return args;
}

/** The RKE2 or K3s config of one node, as an object (keys in the order they are written). */
export function rke2Config(
  spec: ClusterSpec,
  node: NodeFacts,
  registration: string,
  apiAddress: string = registration,
): Record<string, unknown> {
  const d = DISTRIBUTION[spec.distribution];
  const paths = pathsOf(spec.distribution);
  const c: Record<string, unknown> = {};
  // The first server starts the cluster, unless its machine was replaced (an image change): etcd then lives on the
  // other servers, and a server without `server` would start a second, empty cluster.
  const bootstraps = node.role === "server" && node.index === 0 && !node.rejoins;
  // The CIS profile makes RKE2 check the host (kernel parameters, etcd user), run etcd as etcd:etcd (CIS 1.1.12),
  // enforce restricted pod security and write control-plane files 0600 (CIS 1.1.x, 4.1.x). K3s has none.
  if (d.hasProfile) c["profile"] = spec.profile;
  // RKE2 forces this under a profile and fails if it is set false; written out so the file shows it (CIS 4.2.6 in
  // the rke2-cis-1.23/1.24 benchmarks). K3s: a top-level flag its hardening guide sets; the kubelet then exits when
  // the kernel parameters of 90-kubelet.conf are not in force.
  c["protect-kernel-defaults"] = true;
  // The token comes from a 0600 file, never from config.yaml, so this file holds no secret.
  c["token-file"] = paths.token;
  // K3s's embedded etcd: the first server initializes it (HA with embedded etcd), the others join it.
  if (bootstraps && node.role === "server" && d.firstServerKey !== undefined) c[d.firstServerKey] = true;
  if (!bootstraps) c["server"] = `https://${registration}:${d.supervisorPort}`;
  c["node-name"] = node.name;
  const labels = Object.entries(node.labels).map(([k, v]) => `${k}=${v}`);
  if (labels.length > 0) c["node-label"] = labels;
  if (node.taints.length > 0) c["node-taint"] = node.taints;
  c["selinux"] = spec.selinux;
  if (spec.registries.disableDefaultEndpoint) c["disable-default-registry-endpoint"] = true;
  c["kubelet-arg"] = kubeletArgs(spec);
  if (node.role === "agent") return c;

  if (d.cniKey) c["cni"] = spec.cni;
  // Bundled charts the stack leaves out (addons.<chart>.disable); their exception NetworkPolicies are not rendered.
  const disabled = disabledCharts(spec.addons);
  if (disabled.length > 0) c["disable"] = disabled;
  c["cluster-cidr"] = spec.clusterCidr;
  c["service-cidr"] = spec.serviceCidr;
  // The serving certificate must name every address a client uses: the registration address (nodes) and the one
  // the operator's machine reaches (a public address or NLB), or kubectl and the stack's provider refuse it.
  c["tls-san"] = [...new Set([registration, apiAddress, ...spec.tlsSan])];
  // The admin kubeconfig stays root-only (CIS 1.1.13/1.1.14 treat admin.conf the same way).
  c["write-kubeconfig-mode"] = "0600";
  // Always on for servers in RKE2; explicit so the rendered file shows CIS 1.2.27/1.2.28. K3s: off unless set
  // (hardening guide: `secrets-encryption: true`).
  c["secrets-encryption"] = true;
  if (d.apiServerFilesAs === "keys") {
    // RKE2's default audit policy logs nothing (rules: [{level: None}]): point it at one that logs (CIS 3.2.1).
    c["audit-policy-file"] = paths.auditPolicy;
    // Our own admission file, so the exemptions are the reviewed list of the stack, not RKE2's built-in one (CIS 5.2).
    c["pod-security-admission-config-file"] = paths.podSecurity;
  }
  c["kube-apiserver-arg"] = apiServerArgs(spec);
  c["kube-controller-manager-arg"] = [`terminated-pod-gc-threshold=${d.terminatedPodGcThreshold}`];
  if (spec.registries.systemDefaultRegistry !== undefined) {
    c["system-default-registry"] = spec.registries.systemDefaultRegistry;
  }
  c["etcd-snapshot-schedule-cron"] = spec.etcdSnapshots.schedule;
  c["etcd-snapshot-retention"] = spec.etcdSnapshots.retention;
  const s3 = spec.etcdSnapshots.s3;
  if (s3) {
    c["etcd-s3"] = true;
    c["etcd-s3-bucket"] = s3.bucket;
    c["etcd-s3-region"] = s3.region;
    c["etcd-s3-endpoint"] = s3.endpoint;
    if (s3.folder !== undefined) c["etcd-s3-folder"] = s3.folder;
    if (s3.endpointCaFile !== undefined) c["etcd-s3-endpoint-ca"] = paths.etcdS3Ca;
  }
  return c;
}

/** config.yaml (no secret), the token file and, with S3 snapshots, a 0600 drop-in holding the S3 credentials. */
export function renderRke2Files(
  spec: ClusterSpec,
  node: NodeFacts,
  registration: string,
  inputs: RenderInputs,
  apiAddress: string = registration,
): NodeFile[] {
  const d = DISTRIBUTION[spec.distribution];
  const paths = pathsOf(spec.distribution);
  const files = [
    rootFile(
      paths.config,
      "0600",
      yamlFile(
        `${d.title} ${node.role} config for ${node.name} (${d.title} ${spec.version.raw}` +
          (d.hasProfile ? `, profile ${spec.profile}).` : `; every item of the K3s CIS hardening guide).`),
        rke2Config(spec, node, registration, apiAddress),
      ),
      d.hasProfile
        ? "RKE2 config: CIS profile, audit flags, admission config, token file"
        : "K3s config: protect-kernel-defaults, secrets encryption, audit and admission flags, kubelet flags, token file",
    ),
    ...renderUnits(spec, node),
    rootFile(
      paths.token,
      "0600",
      `${inputs.secret("clusterToken")}\n`,
      "cluster token (read through token-file)",
      true,
    ),
  ];
  const s3 = spec.etcdSnapshots.s3;
  if (node.role === "server" && s3) {
    files.push(
      rootFile(
        `${paths.configDropIns}/50-etcd-s3-credentials.yaml`,
        "0600",
        yamlFile("etcd snapshot S3 credentials: kept out of config.yaml so that file holds no secret.", {
          "etcd-s3-access-key": inputs.secret(s3.accessKey.key),
          "etcd-s3-secret-key": inputs.secret(s3.secretKey.key),
        }),
        "etcd snapshot S3 credentials",
        true,
      ),
    );
    if (s3.endpointCaFile !== undefined) {
      files.push(
        rootFile(
          paths.etcdS3Ca,
          "0644",
          inputs.file(s3.endpointCaFile),
          "CA of the etcd snapshot S3 endpoint",
        ),
      );
    }
  }
  return files;
}

/**
 * K3s's systemd units, as its install script writes them (k3s-io/k3s install.sh create_systemd_service_file): the
 * binary carries none, unlike RKE2's tarball. `server` runs Type=notify (k3s signals readiness), `agent` Type=exec.
 * The unit reads no env file with settings: everything comes from config.yaml.
 */
export function renderUnits(spec: Pick<ClusterSpec, "distribution">, node: NodeFacts): NodeFile[] {
  const d = DISTRIBUTION[spec.distribution];
  if (d.shipsUnits) return [];
  const unit = d.units[node.role];
  const body = [
    "# Rendered by hardened-rke2: the unit K3s's install script would write.",
    "[Unit]",
    "Description=Lightweight Kubernetes",
    "Documentation=https://k3s.io",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
    "[Service]",
    `Type=${node.role === "server" ? "notify" : "exec"}`,
    "KillMode=process",
    "Delegate=yes",
    "LimitNOFILE=1048576",
    "LimitNPROC=infinity",
    "LimitCORE=infinity",
    "TasksMax=infinity",
    "TimeoutStartSec=0",
    "Restart=always",
    "RestartSec=5s",
    "ExecStartPre=-/sbin/modprobe br_netfilter",
    "ExecStartPre=-/sbin/modprobe overlay",
    `ExecStart=/usr/local/bin/k3s ${node.role}`,
    "",
  ].join("\n");
  return [rootFile(`${pathsOf(spec.distribution).unitsDir}/${unit}`, "0644", body, `systemd unit ${unit}`)];
}

/** Single-quotes a value for a shell env file that scripts source. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Seconds the "ready" step waits for a node to join, and how often it looks. */
export const READY_WAIT_SECONDS = 900;
export const READY_POLL_SECONDS = 5;

/** The env file the static scripts source: every value a script needs, none of them secret. */
export function renderNodeEnv(spec: ClusterSpec, node: NodeFacts): NodeFile {
  const install = spec.install;
  const d = DISTRIBUTION[spec.distribution];
  const paths = pathsOf(spec.distribution);
  const artifact = d.artifact(install.arch);
  const vars: Record<string, string> = {
    ROLE: node.role,
    NODE_NAME: node.name,
    // The distribution's row (spec/distribution.ts): the scripts take every path and name from here.
    DISTRIBUTION: spec.distribution,
    UNIT: d.units[node.role],
    ETC_DIR: d.etcDir,
    DATA_DIR: d.dataDir,
    ARTIFACT: artifact.file,
    ARTIFACT_KIND: artifact.kind,
    CHECKSUMS: d.checksums(install.arch),
    IMAGES_DIR: paths.imagesDir,
    READY_FILES: node.role === "server" ? `${d.serverToken} ${d.kubeconfig}` : d.agentJoined,
    // K3s does not create the audit log folder; it is made 0700 before the first start (K3s hardening guide).
    AUDIT_LOG_DIR:
      node.role === "server" && !d.createsAuditLogDir ? path.posix.dirname(spec.audit.logPath) : "",
    INSTALL_MODE: install.mode,
    RKE2_VERSION: spec.version.raw,
    ARCH: install.arch,
    ARTIFACT_URL: install.mode === "online" ? install.artifactUrl : "",
    ARTIFACT_SHA256: install.mode === "online" ? (install.artifactSha256 ?? "") : "",
    SELINUX: String(spec.selinux),
    // Read by the policy pack: a node that says FIPS must have its FIPS checks around the install.
    FIPS: String(spec.fips),
    WAIT_SECONDS: String(READY_WAIT_SECONDS),
    POLL_SECONDS: String(READY_POLL_SECONDS),
  };
  const body = Object.entries(vars)
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join("\n");
  return rootFile(
    pathsFor(spec.distribution).nodeEnv,
    "0600",
    `# Rendered by hardened-rke2: values for the bootstrap scripts.\n${body}\n`,
    "values the bootstrap scripts read",
  );
}

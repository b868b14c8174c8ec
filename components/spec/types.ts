// The validated, defaulted cluster spec every renderer and component reads. Only the loader in stacks/ builds it;
// nothing downstream re-checks or re-defaults a value.
import type { Benchmark, Profile, Rke2Version } from "./version";

export type Role = "server" | "agent";
export type Cni = "canal" | "calico" | "cilium";
export type Arch = "amd64" | "arm64";
export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/** A NetworkPolicy peer: pods of a namespace (optionally only those with the labels), or an address range. */
export type Peer =
  { namespace: string; podLabels: Record<string, string>; ports: Port[] } | { cidr: string; ports: Port[] };

export interface Port {
  port: number;
  protocol: "TCP" | "UDP";
}

/** A secret that lives in its own secret stack config key (`pulumi config set --secret <key>`), never inline. */
export interface SecretRef {
  /** The config key without the project prefix, e.g. `registryPassword`. */
  key: string;
  /** What the secret is for, shown in errors and in the render's placeholders. */
  purpose: string;
  /** False when the stack works without it (the cluster token is generated when unset). */
  required: boolean;
}

export interface AgentPool {
  name: string;
  count: number;
  instanceType: string;
  rootVolumeGb: number;
  labels: Record<string, string>;
  taints: string[];
}

export interface AwsNodes {
  source: "aws";
  region: string;
  /** A new VPC with this CIDR (one public and one private subnet per zone), or existing subnets. */
  network: { vpcCidr: string; zones: number } | { vpcId: string; subnetIds: string[] };
  /** Operator ranges allowed to reach SSH (22). */
  sshCidrs: string[];
  /** Ranges allowed to reach the Kubernetes API (6443) and, for joining nodes outside the VPC, 9345. */
  apiCidrs: string[];
  /** Whether nodes get public addresses (dev); otherwise SSH reaches private addresses through a VPN. */
  publicIp: boolean;
  ami: { id: string } | { owner: string; namePattern: string };
  sshUser: string;
  publicKey: string;
  servers: { count: number; instanceType: string; rootVolumeGb: number };
  agentPools: AgentPool[];
  /** An NLB in front of the servers as the fixed registration address (default for 3+ servers). */
  loadBalancer: boolean;
  tags: Record<string, string>;
}

export interface ExistingHost {
  name: string;
  /** Where SSH reaches the host. */
  address: string;
  /** The address other nodes use; the SSH address when unset. */
  privateAddress: string;
  port: number;
  user: string;
  role: Role;
  /** The pinned SSH host public key, `<type> <base64>`. */
  hostKey: string;
  labels: Record<string, string>;
  taints: string[];
}

export interface ExistingNodes {
  source: "existing";
  hosts: ExistingHost[];
  /** A fixed address (VIP or DNS name) in front of the servers; the first server's private address when unset. */
  registrationAddress?: string;
}

export interface AirgapArtifact {
  /** File name in the operator's folder, e.g. `rke2.linux-amd64.tar.gz`. */
  file: string;
  /** Its sha256 as the folder's checksum file lists it (and as the file really hashes: checked at load). */
  sha256: string;
  kind: "tarball" | "images";
}

export type InstallSpec =
  | { mode: "online"; arch: Arch; artifactUrl: string; tarballSha256?: string }
  | { mode: "airgap"; arch: Arch; artifactsDir: string; checksumFile: string; artifacts: AirgapArtifact[] };

export interface Mirror {
  endpoints: string[];
  rewrites: Record<string, string>;
}

export interface RegistryConfig {
  auth?: { username: string; password: SecretRef };
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export interface RegistriesSpec {
  systemDefaultRegistry?: string;
  /** Stop containerd from falling back to the upstream registry after the mirrors (air-gap). */
  disableDefaultEndpoint: boolean;
  mirrors: Record<string, Mirror>;
  configs: Record<string, RegistryConfig>;
}

export interface EtcdSnapshotSpec {
  schedule: string;
  retention: number;
  s3?: {
    bucket: string;
    region: string;
    endpoint: string;
    folder?: string;
    endpointCaFile?: string;
    accessKey: SecretRef;
    secretKey: SecretRef;
  };
}

export interface AuditSpec {
  /** The operator's own policy file (local path); the built-in CIS-grade policy when unset. */
  policyFile?: string;
  logPath: string;
  maxAge: number;
  maxBackup: number;
  maxSize: number;
}

export interface PodSecurityExemption {
  namespace: string;
  reason: string;
}

export interface ManagedNamespace {
  name: string;
  podSecurity: PodSecurityLevel;
  /** Why the namespace runs below `restricted`; required whenever it does. */
  podSecurityReason?: string;
  allowIngressFrom: Peer[];
  allowEgressTo: Peer[];
}

export interface ClusterSpec {
  name: string;
  distribution: "rke2";
  version: Rke2Version;
  profile: Profile;
  benchmark: Benchmark;
  cni: Cni;
  selinux: boolean;
  clusterCidr: string;
  serviceCidr: string;
  tlsSan: string[];
  nodes: AwsNodes | ExistingNodes;
  install: InstallSpec;
  registries: RegistriesSpec;
  etcdSnapshots: EtcdSnapshotSpec;
  audit: AuditSpec;
  podSecurity: { exemptions: PodSecurityExemption[] };
  namespaces: ManagedNamespace[];
  /** The ValidatingAdmissionPolicy that refuses pods mounting a default ServiceAccount's token (CIS 5.1.5) in
   * namespaces the stack does not manage; `deny` refuses, `warn` only warns. Off on Kubernetes < 1.30. */
  admissionGuard: { enabled: boolean; mode: "deny" | "warn" };
  /** After deploy, read the controls back from the API server: `enforce` fails the update when one does not hold,
   * `report` only reports. */
  verification: "enforce" | "report";
  /** Every secret config key the stack reads, with what it is for. */
  secrets: SecretRef[];
}

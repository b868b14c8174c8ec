// The shape of everything pushed to a node, and the node paths the renderers write to.
import { createHash } from "node:crypto";
import { stringify } from "yaml";

/** One file as it lands on a node: content, mode and owner are decided here, never by the transport. */
export interface NodeFile {
  /** Absolute path on the node. */
  path: string;
  content: string;
  /** Octal mode as a string, e.g. "0600". */
  mode: string;
  owner: string;
  group: string;
  /** True when the content holds a secret value (token, password, private key): it is written 0600 and carried as a
   * Pulumi secret. */
  secret: boolean;
  /** What the file is for, with the CIS control it serves: shown in the render's file list. */
  purpose: string;
}

/** A static script the bootstrap runs on the node, in order. Scripts read their values from rendered files. */
export interface NodeScript extends NodeFile {
  /** Bootstrap step name, e.g. `sysctl`. */
  step: string;
}

export const RKE2_ETC = "/etc/rancher/rke2";
export const RKE2_DATA = "/var/lib/rancher/rke2";
/** The product's own state on each node: scripts, env file, install markers. */
export const STATE_DIR = "/var/lib/hardened-rke2";

export const PATHS = {
  sysctl: "/etc/sysctl.d/90-kubelet.conf",
  config: `${RKE2_ETC}/config.yaml`,
  configDropIns: `${RKE2_ETC}/config.yaml.d`,
  token: `${RKE2_ETC}/cluster-token`,
  registries: `${RKE2_ETC}/registries.yaml`,
  registryCerts: `${RKE2_ETC}/registries.d`,
  auditPolicy: `${RKE2_ETC}/audit-policy.yaml`,
  podSecurity: `${RKE2_ETC}/hardened-rke2-pss.yaml`,
  etcdS3Ca: `${RKE2_ETC}/etcd-s3-ca.crt`,
  kubeconfig: `${RKE2_ETC}/rke2.yaml`,
  serverManifests: `${RKE2_DATA}/server/manifests`,
  imagesDir: `${RKE2_DATA}/agent/images`,
  nodeEnv: `${STATE_DIR}/node.env`,
  artifactSums: `${STATE_DIR}/artifacts.sha256`,
  artifactsDir: `${STATE_DIR}/artifacts`,
  cisChecks: `${STATE_DIR}/cis-checks.tsv`,
  scriptsDir: `${STATE_DIR}/bin`,
} as const;

export const GENERATED_HEADER =
  "Rendered by hardened-rke2 from the stack config. Do not edit on the node: the next `pulumi up` rewrites it.";

/** YAML with a header comment; serialized by a YAML library, never concatenated. */
export function yamlFile(header: string, value: unknown): string {
  const comment = [GENERATED_HEADER, ...header.split("\n")].map((l) => `# ${l}`.trimEnd()).join("\n");
  return `${comment}\n${stringify(value, { lineWidth: 0 })}`;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A root-owned file; `secret` files are always 0600 whatever mode is asked for. */
export function rootFile(
  path: string,
  mode: string,
  content: string,
  purpose: string,
  secret = false,
): NodeFile {
  return { path, content, mode: secret ? "0600" : mode, owner: "root", group: "root", secret, purpose };
}

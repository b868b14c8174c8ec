// The shape of everything pushed to a node, and the node paths the renderers write to.
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { pathsOf, type Distribution } from "../spec/distribution";
import { memo } from "../memo";

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

/** The product's own state on each node: scripts, env file, install markers. */
export const STATE_DIR = "/var/lib/hardened-rke2";

/** Every node path the renderers write to: the distribution's (components/spec/distribution.ts) and the product's. */
const pathsByDistribution = new Map<Distribution, ReturnType<typeof computePaths>>();
function computePaths(d: Distribution) {
  return Object.freeze({
    ...pathsOf(d),
    nodeEnv: `${STATE_DIR}/node.env`,
    artifactSums: `${STATE_DIR}/artifacts.sha256`,
    artifactsDir: `${STATE_DIR}/artifacts`,
    cisChecks: `${STATE_DIR}/cis-checks.tsv`,
    scriptsDir: `${STATE_DIR}/bin`,
  } as const);
}
/** One frozen object per distribution: the renderers ask for it many times per node. */
export function pathsFor(d: Distribution) {
  return memo(pathsByDistribution, d, computePaths);
}

/** RKE2's paths, for the code that only serves RKE2 (the upgrade roll, the AWS node source), and the product's own
 * paths, which are the same for every distribution. */
export const PATHS = pathsFor("rke2");

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

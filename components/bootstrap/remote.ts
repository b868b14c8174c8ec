// How bootstrap steps run on a node, as static command strings: no value is ever interpolated into shell. Values
// reach the node as rendered files (through the files step's standard input) and scripts read them from there.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { pathsFor, sha256, type NodeFile } from "../render/files";
import type { Distribution } from "../spec/distribution";
import { memo } from "../memo";

export const PLACE_FILES_SCRIPT = fs.readFileSync(path.join(__dirname, "scripts", "place-files.sh"), "utf8");
/** Run on the operator's machine: compares every existing host's SSH key with the pinned one, naming the fixes. */
export const CHECK_HOST_KEY_SCRIPT = fs.readFileSync(
  path.join(__dirname, "scripts", "check-host-key.sh"),
  "utf8",
);

const PLAIN_PATH = /^\/[A-Za-z0-9/._-]+$/;
/** A script argument that needs no quoting: node names, roles, versions, numbers (validated spec values). */
const PLAIN_ARG = /^[A-Za-z0-9][A-Za-z0-9.+_-]*$/;

/** Runs `command` as root: directly when SSH logs in as root, else through non-interactive sudo (a sudo that asks
 * for a password fails at once instead of hanging). `command` is a constant of the product, never a value. */
function asRoot(command: string): string {
  return `if [ "$(id -u)" -eq 0 ]; then exec ${command}; else exec sudo -n ${command}; fi`;
}

function plainPath(file: string): string {
  if (!PLAIN_PATH.test(file)) throw new Error(`unsafe path ${file}`);
  return file;
}

/** Prints the last line of a root-only file (the audit log) as root. `file` must be a plain absolute path. */
export function tailAsRoot(file: string): string {
  return asRoot(`tail -n 1 ${plainPath(file)}`);
}

/**
 * What a step runs when only its connection changed (a rotated SSH key, a new address for the same host): nothing but
 * a login, which proves the new connection works. The provider would otherwise run `create` again, re-running every
 * step of every node; a step re-runs only when its trigger (the digest of what it reads) changes, which replaces it.
 */
export const CONNECTION_CHECK = "true";

/** The same for the files step, which is sent its records on standard input: read them and drop them. */
export const DRAIN_STDIN = "cat >/dev/null";

/**
 * Options every remote command of the product sets. `addPreviousOutputInEnv` off: on an update the provider would
 * first send the previous stdout and stderr as SSH environment (PULUMI_COMMAND_STDOUT), which for the kubeconfig read
 * is the admin client key (pulumi-command v1.2.1, FACTS.md §5).
 */
export const stepOptions = { addPreviousOutputInEnv: false } as const;

/**
 * A secret once its value is known, plain while it is not. The command provider's Check answers a secret whose value
 * is unknown (a digest over the generated token on a stack's first preview) with a secret that has no value, and the
 * engine then fails the preview with "triggers[0]: malformed secret: missing value" (pulumi-command v1.2.1, FACTS.md
 * §5). An unknown carries no value to protect; the known value is a secret from the moment it exists.
 */
export function secretWhenKnown(value: pulumi.Output<string>): pulumi.Output<string> {
  return pulumi.unsecret(value).apply((v) => pulumi.secret(v));
}

/**
 * The value, or `placeholder` while a preview cannot know it. The command provider SDK wraps every `connection` in a
 * secret, and the provider cannot answer a secret that is unknown (above): on a new AWS stack the address and host key
 * of an instance not yet created would fail the first preview. The placeholder is only ever seen by a preview (the
 * connection shows as [secret]); `up` waits for the real value before it connects.
 */
export function knownAtPreview(value: pulumi.Output<string>, placeholder: string): pulumi.Output<string> {
  if (!pulumi.runtime.isDryRun()) return value;
  const known = (value as unknown as { isKnown: Promise<boolean> }).isKnown;
  return pulumi.output(known.then((k) => (k ? value : placeholder)));
}

/** Runs a script already on the node as root. */
export function runAsRoot(scriptPath: string): string {
  return asRoot(plainPath(scriptPath));
}

/** Runs scripts already on the node as root, one after the other, stopping at the first that fails. */
export function runAllAsRoot(scriptPaths: string[]): string {
  return asRoot(`/bin/bash -c '${scriptPaths.map(plainPath).join(" && ")}'`);
}

// Every node's roll steps and files step ship the same few scripts: each is encoded once.
const encoded = new Map<string, string>();
const base64Of = (script: string) => memo(encoded, script, (s) => Buffer.from(s).toString("base64"));

/**
 * Runs a static script shipped inside the command itself (base64, so no quoting can break it) as root, leaving
 * standard input free for the script's data. The base64 text is a constant of the product, not a value; `args` are
 * plain words (checked here) such as a node name or a version, never a secret.
 */
export function embeddedScriptAsRoot(script: string, args: string[] = []): string {
  const b64 = base64Of(script);
  for (const a of args) if (!PLAIN_ARG.test(a)) throw new Error(`unsafe script argument ${a}`);
  // `bash -c` takes the first argument after the script as $0.
  const argv = args.length ? ` script ${args.join(" ")}` : "";
  return `script="$(printf '%s' '${b64}' | base64 -d)"; ` + asRoot(`bash -c "$script"${argv}`);
}

/** The files step's standard input (the record format lives with its decoder in render/records.ts). */
export { encodeFileRecords as fileRecords } from "../render/records";

/** A digest of files (paths, modes, owners, contents): the trigger that re-runs a step when its inputs change. */
export function digest(files: NodeFile[]): string {
  return sha256(files.map((f) => `${f.path}\0${f.mode}\0${f.owner}\0${f.group}\0${f.content}`).join("\0\0"));
}

/**
 * An air-gap artifact for CopyToRemote, handed to the engine with its sha256. The engine hashes every file asset it
 * is given on every preview and `up` unless the asset already carries a hash (ResourceMonitor.RegisterResource
 * unmarshals with ComputeAssetHashes; Asset.EnsureHash reads the file only when `hash` is empty, pulumi
 * sdk/go/common/resource/asset): one artifact copied to N nodes would be read N times per run before anything is
 * compared. The spec loader has already read each artifact once this run and checked it against the release's
 * checksum file (spec/artifacts.ts): that digest is the hash, so a changed file still changes the asset (and is
 * copied), and each node verifies the checksum again before the install uses the file. The Node SDK sends an
 * asset's own properties (runtime/rpc.ts, serializeAllKeys): `hash` reaches the engine beside `path`, in the
 * engine's own asset format (the one its state stores).
 */
export class ArtifactAsset extends pulumi.asset.FileAsset {
  readonly hash: string;
  constructor(localPath: string, sha256: string) {
    super(localPath);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`${localPath}: not a sha256 digest: ${sha256}`);
    this.hash = sha256;
  }
}

/** Reads the distribution's admin kubeconfig as root. Its output is a secret: the command runs with logging off. */
export function readKubeconfig(d: Distribution): string {
  return asRoot(`cat ${pathsFor(d).kubeconfig}`);
}

/** Points RKE2's admin kubeconfig (written for https://127.0.0.1:6443) at the registration address. */
export function rewriteKubeconfig(kubeconfig: string, registration: string): string {
  const doc = parse(kubeconfig) as {
    clusters?: { name?: string; cluster?: { server?: string } }[];
  };
  if (!doc?.clusters?.length) throw new Error("the kubeconfig read from the first server has no cluster");
  for (const c of doc.clusters) {
    if (c.cluster) c.cluster.server = `https://${registration}:6443`;
  }
  return stringify(doc);
}

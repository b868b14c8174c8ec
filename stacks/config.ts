// The one config loader. It reads the stack config (from the Pulumi engine under `pulumi up`, or from a
// stacks/Pulumi.<env>.yaml file for the offline render), validates it with the schema and hands back a ClusterSpec.
// Nothing else in the program reads pulumi.Config.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { parse } from "yaml";
import type { ClusterSpec } from "../components/spec/types";
import { CLUSTER_KEY, PROJECT } from "../components/spec/constants";
import { ConfigError } from "../components/spec/problems";
import { buildClusterSpec } from "../components/spec/validate";

export { ConfigError } from "../components/spec/problems";

/** The folder holding Pulumi.yaml: relative paths in a stack config are resolved against it. */
export const PROJECT_DIR = path.resolve(__dirname, "..");

/** `isConfigSecret` is exported by the SDK's runtime but missing from its type declarations. */
const { isConfigSecret } = runtimeConfig as unknown as {
  isConfigSecret: (this: void, key: string) => boolean;
};

/** Loads the spec inside a Pulumi program (`pulumi up`/`preview`, or mocks with PULUMI_CONFIG). */
export function loadClusterSpec(): ClusterSpec {
  const config = new pulumi.Config(PROJECT);
  const prefix = `${PROJECT}:`;
  const configKeys = new Map<string, { secret: boolean }>();
  for (const key of Object.keys(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) configKeys.set(key.slice(prefix.length), { secret: isConfigSecret(key) });
  }
  // requireObject only parses JSON; buildClusterSpec is the check.
  const raw = config.getObject<unknown>("cluster");
  if (raw === undefined) {
    throw new ConfigError([
      {
        path: "cluster",
        message: `missing; allowed: a structured value under the key ${CLUSTER_KEY} (see stacks/Pulumi.dev.yaml)`,
      },
    ]);
  }
  return buildClusterSpec(raw, { configKeys, baseDir: PROJECT_DIR, requireSecrets: true });
}

/** A secret config key's value, secret from birth. */
export function secretConfig(key: string): pulumi.Output<string> {
  return new pulumi.Config(PROJECT).requireSecret(key);
}

/** An optional secret config key's value, secret from birth. */
export function optionalSecretConfig(key: string): pulumi.Output<string> | undefined {
  return new pulumi.Config(PROJECT).getSecret(key);
}

export interface StackFile {
  raw: unknown;
  configKeys: Map<string, { secret: boolean }>;
}

/** Reads a Pulumi stack config file without the engine: secure values stay encrypted and are only noted as secret. */
export function readStackFile(file: string): StackFile {
  const doc: unknown = parse(fs.readFileSync(file, "utf8"));
  const config = (doc as { config?: Record<string, unknown> } | null)?.config ?? {};
  const configKeys = new Map<string, { secret: boolean }>();
  const prefix = `${PROJECT}:`;
  for (const [key, value] of Object.entries(config)) {
    if (!key.startsWith(prefix)) continue;
    const secret = typeof value === "object" && value !== null && "secure" in value;
    configKeys.set(key.slice(prefix.length), { secret });
  }
  return { raw: config[CLUSTER_KEY], configKeys };
}

export interface OfflineOptions {
  /** Overrides install.artifactsDir (the operator's folder is often elsewhere on the rendering machine). */
  artifactsDir?: string;
  /** What relative paths resolve against. */
  baseDir?: string;
}

/** Loads and validates a stack file for the offline render: secrets are not needed (placeholders are rendered). */
export function loadStackFileSpec(file: string, options: OfflineOptions = {}): ClusterSpec {
  const { raw, configKeys } = readStackFile(file);
  if (raw === undefined) {
    throw new ConfigError([
      {
        path: "cluster",
        message: `missing; allowed: a structured value under the key ${CLUSTER_KEY} in ${file}`,
      },
    ]);
  }
  let value = raw;
  if (options.artifactsDir !== undefined && typeof raw === "object" && raw !== null) {
    const install = (raw as { install?: Record<string, unknown> }).install ?? {};
    value = { ...raw, install: { ...install, artifactsDir: path.resolve(options.artifactsDir) } };
  }
  return buildClusterSpec(value, {
    configKeys,
    baseDir: options.baseDir ?? PROJECT_DIR,
    requireSecrets: false,
  });
}

/** stacks/Pulumi.<env>.yaml */
export function stackFilePath(env: string): string {
  return path.join(PROJECT_DIR, "stacks", `Pulumi.${env}.yaml`);
}

export interface StackSecrets {
  sshPrivateKey: pulumi.Output<string>;
  clusterToken?: pulumi.Output<string>;
  /** Every other secret key the spec references, by key. */
  secrets: Record<string, pulumi.Output<string>>;
}

/** Reads every secret the spec references, each a secret Output from birth. */
export function loadStackSecrets(spec: ClusterSpec): StackSecrets {
  const secrets: Record<string, pulumi.Output<string>> = {};
  for (const ref of spec.secrets) {
    if (ref.key === "sshPrivateKey" || ref.key === "clusterToken") continue;
    secrets[ref.key] = secretConfig(ref.key);
  }
  return {
    sshPrivateKey: secretConfig("sshPrivateKey"),
    clusterToken: optionalSecretConfig("clusterToken"),
    secrets,
  };
}

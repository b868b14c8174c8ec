// Runs the whole Pulumi program (index.ts) under pulumi.runtime.setMocks with a stack's config, recording every
// resource with its inputs and the dependencies the engine would receive. What mocks cannot prove: that AWS accepts
// the inputs, that a command runs on a host, or that the engine orders execution by these dependencies (the
// end-to-end run does those).
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { REPO } from "./spec";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** The inputs exactly as the SDK sent them to the engine (the wire form a provider's Check receives). */
  wire: unknown;
  /** Names of the resources this one depends on (engine-level dependencies). */
  dependsOn: string[];
  /** The name of its parent (a component), when it has one other than the stack. */
  parent?: string;
  /** A component's registered outputs, in wire form (what the engine keeps as its outputs). */
  registeredOutputs?: unknown;
  /** The provider reference the resource was registered with (`<urn>::<id>`), "" for the default provider. */
  provider: string;
  /** The replacementTrigger option, as sent. */
  replacementTrigger: unknown;
  /** The deleteBeforeReplace option, as sent. */
  deleteBeforeReplace: boolean;
  /** The id the mocked provider gave it. */
  id?: string;
  /** The additionalSecretOutputs option, as sent. */
  additionalSecretOutputs: string[];
  /** What the mocked provider answered beyond the inputs (a Stash's kept `output`). */
  outputs?: Record<string, any>;
}

/** A data source call the program made: its token, arguments and the provider reference it named. */
export interface Invoke {
  token: string;
  args: Record<string, any>;
  provider: string;
}

export interface ProgramRun {
  resources: Recorded[];
  invokes: Invoke[];
  outputs: Record<string, unknown>;
  byName(name: string): Recorded;
  ofType(type: string): Recorded[];
}

/** Test values for the secret config keys; plain strings a test can grep for. */
export const TEST_SECRETS: Record<string, string> = {
  sshPrivateKey:
    "-----BEGIN OPENSSH PRIVATE KEY-----\nPLANTED-SSH-KEY-0d1e\n-----END OPENSSH PRIVATE KEY-----\n",
  registryPassword: "PLANTED-REGISTRY-PASSWORD-77aa",
  etcdS3AccessKey: "PLANTED-S3-ACCESS-5b0c",
  etcdS3SecretKey: "PLANTED-S3-SECRET-3f9e",
};

export const FAKE_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: default
    cluster:
      certificate-authority-data: Q0E=
      server: https://127.0.0.1:6443
contexts:
  - name: default
    context: { cluster: default, user: default }
current-context: default
users:
  - name: default
    user:
      client-certificate-data: Q0VSVA==
      client-key-data: UExBTlRFRC1BRE1JTi1LRVk=
`;

/** What the audit sample reads: an audit event, which names users and objects (planted: the plain-state checks grep it). */
export const AUDIT_EVENT = JSON.stringify({
  kind: "Event",
  level: "Metadata",
  user: { username: "PLANTED-AUDIT-USER-91fe" },
});

function state(type: string, name: string, inputs: Record<string, any>, n: number): Record<string, unknown> {
  switch (type) {
    case "pulumi:index:Stash":
      // The engine's built-in Stash keeps the input it was created with as its output (see `previous` below).
      return { output: inputs.input };
    case "aws:ec2/vpcEndpoint:VpcEndpoint":
      return { prefixListId: "pl-s3-test" };
    case "aws:ec2/instance:Instance":
      return { privateIp: `10.0.0.${10 + n}`, publicIp: `198.51.100.${10 + n}` };
    case "aws:lb/loadBalancer:LoadBalancer":
      return { dnsName: `${name}.elb.example`, arn: `arn:${name}` };
    case "aws:lb/targetGroup:TargetGroup":
      return { arn: `arn:${name}` };
    case "aws:ec2/vpc:Vpc":
      return { cidrBlock: inputs.cidrBlock };
    case "aws:ec2/keyPair:KeyPair":
      return { keyName: name };
    case "pulumi-nodejs:dynamic/hardened-rke2:GeneratedHostKey":
    case "pulumi-nodejs:dynamic/hardened-rke2:GeneratedToken":
      return name.endsWith("-hostkey")
        ? { publicKey: `ecdsa-sha2-nistp256 TESTKEY${n}`, privateKeyPem: `PLANTED-HOST-KEY-${n}` }
        : { value: "PLANTED-GENERATED-TOKEN-c4d5" };
    case "command:remote:Command":
      return name.endsWith("-kubeconfig")
        ? { stdout: FAKE_KUBECONFIG, stderr: "" }
        : name.endsWith("-audit-sample")
          ? { stdout: AUDIT_EVENT, stderr: "" }
          : { stdout: "", stderr: "" };
    default:
      return {};
  }
}

/** Resolves an Output (or plain value) for an assertion; never asserts inside `apply`. */
export function promiseOf<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(value).apply((v) => resolve(v as T)));
}

export async function isSecretOutput(value: unknown): Promise<boolean> {
  return pulumi.Output.isInstance(value) ? pulumi.isSecret(value) : false;
}

/** Loads a stack file's config into the runtime, secret keys marked secret, then runs index.ts under mocks. */
export interface RunOptions {
  /** A stack's first preview: nothing exists, so nothing a provider computes is known. */
  firstPreview?: boolean;
  /** The image id the mocked getAmi answers, as the newest image matching the filters (default ami-0123456789abcdef0). */
  newestAmi?: string;
  /**
   * The run before this one, on the same stack: each Stash keeps the output it had there unless its replacementTrigger
   * changed, as the engine's built-in Stash does ("The output value is stateful and persists the original input value
   * even when the input property is updated in subsequent deployments", pulumi.com/docs/iac/concepts/stash; a
   * changed replacementTrigger replaces the resource, which then stores its new input).
   */
  previous?: ProgramRun;
  /**
   * The cluster's instances EC2 answers with (getInstances): each with the image it runs. Unset: none (a first `up`).
   * The mock filters them by the `image-id` filter as EC2 does.
   */
  running?: { id: string; image: string }[];
  /** The range the mocked getVpc answers for a given vpcId (default 10.99.0.0/16). */
  vpcCidr?: string;
}

export async function runProgram(
  stack: string,
  change?: (cluster: Record<string, any>) => void,
  options: RunOptions = {},
): Promise<ProgramRun> {
  const file = path.join(REPO, "stacks", `Pulumi.${stack}.yaml`);
  const doc = parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config)) {
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const cluster = JSON.parse(config["hardened-rke2:cluster"]) as Record<string, any>;
  change?.(cluster);
  config["hardened-rke2:cluster"] = JSON.stringify(cluster);
  for (const [key, value] of Object.entries(TEST_SECRETS)) {
    config[`hardened-rke2:${key}`] = value;
    secretKeys.push(`hardened-rke2:${key}`);
  }
  pulumi.runtime.setAllConfig(config, secretKeys);

  const resources: Recorded[] = [];
  const invokes: Invoke[] = [];
  const triggers = new Map<string, string>();
  const kept = (name: string): { output: unknown } | undefined => {
    const before = options.previous?.resources.find((r) => r.type === STASH && r.name === name);
    if (!before || JSON.stringify(before.replacementTrigger) !== triggers.get(name)) return undefined;
    return { output: before.outputs?.output };
  };
  let n = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        // A stack's first preview: nothing exists yet, so nothing a provider computes is known (generated tokens and
        // host keys, instance addresses, command outputs); the SDK reads every output the mock leaves out as unknown.
        if (options.firstPreview) return { id: undefined, state: {} };
        const extra = {
          ...state(args.type, args.name, args.inputs, n++),
          ...(args.type === STASH ? kept(args.name) : {}),
        };
        const recorded = resources.find((r) => r.name === args.name && r.type === args.type);
        // An instance on another image is another machine (EC2 replaces it): its id says which image it was made from.
        const id =
          args.type === "aws:ec2/instance:Instance" && args.inputs.ami !== DEFAULT_AMI
            ? `${args.name}-id-${String(args.inputs.ami)}`
            : `${args.name}-id`;
        if (recorded) {
          recorded.outputs = extra;
          recorded.id = id;
        }
        return { id, state: { ...args.inputs, ...extra } };
      },
      call: (args) => {
        invokes.push({ token: args.token, args: args.inputs, provider: args.provider ?? "" });
        switch (args.token) {
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"] };
          case "aws:ec2/getAmi:getAmi":
            return { id: options.newestAmi ?? DEFAULT_AMI };
          case "aws:ec2/getVpc:getVpc":
            return { cidrBlock: options.vpcCidr ?? "10.99.0.0/16" };
          case "aws:ec2/getInstances:getInstances": {
            const filters = (args.inputs.filters ?? []) as { name: string; values: string[] }[];
            const image = filters.find((f) => f.name === "image-id");
            const ids = (options.running ?? [])
              .filter((i) => !image || image.values.includes(i.image))
              .map((i) => i.id);
            return { ids, privateIps: [], publicIps: [], ipv6Addresses: [] };
          }
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    },
    "hardened-rke2",
    stack,
    options.firstPreview ?? false,
  );
  // Record the dependencies the SDK sends with each registration (mocks do not pass them to newResource).
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  const urnName = (urn: string) => urn.split("::").pop() ?? urn;
  monitor.registerResource = (req: any, callback: any) => {
    const replacementTrigger = req.getReplacementTrigger()?.toJavaScript();
    const recorded: Recorded = {
      type: req.getType(),
      name: req.getName(),
      inputs: {},
      wire: req.getObject()?.toJavaScript(),
      dependsOn: req.getDependenciesList().map(urnName),
      parent:
        req.getParent() && !req.getParent().includes("pulumi:pulumi:Stack")
          ? urnName(req.getParent())
          : undefined,
      provider: req.getProvider(),
      replacementTrigger,
      deleteBeforeReplace: req.getDeletebeforereplace(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    };
    triggers.set(recorded.name, JSON.stringify(replacementTrigger));
    resources.push(recorded);
    return register(req, (err: unknown, response: any) => {
      if (!err) recorded.inputs = pulumi.runtime.deserializeProperties(req.getObject());
      callback(err, response);
    });
  };

  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  monitor.registerResourceOutputs = (req: any, callback: any) => {
    const r = resources.find((x) => x.name === urnName(req.getUrn()));
    if (r) r.registeredOutputs = req.getOutputs()?.toJavaScript();
    return registerOutputs(req, callback);
  };

  let program: Record<string, unknown> = {};
  jest.isolateModules(() => {
    // The program must load after the mocks are set, so it cannot be a static import.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    program = require(path.join(REPO, "index.ts")) as Record<string, unknown>;
  });
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) outputs[key] = value;
  // Wait for every registration: resolve each exported output, then let pending registrations settle.
  // (In a preview an unknown output never runs an `apply`, so there the SDK's own promise, unknowns included.)
  await Promise.all(
    Object.values(outputs).map((v) =>
      options.firstPreview && pulumi.Output.isInstance(v)
        ? (v as unknown as { promise(withUnknowns: boolean): Promise<unknown> }).promise(true)
        : promiseOf(v),
    ),
  );
  await new Promise((r) => setTimeout(r, 50));
  return {
    resources,
    invokes,
    outputs,
    byName: (name) => {
      const r = resources.find((x) => x.name === name);
      if (!r) throw new Error(`no resource named ${name}; have ${resources.map((x) => x.name).join(", ")}`);
      return r;
    },
    ofType: (type) => resources.filter((r) => r.type === type),
  };
}

const STASH = "pulumi:index:Stash";
/** The image the mocked getAmi answers unless a test names another. */
const DEFAULT_AMI = "ami-0123456789abcdef0";

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The SDK's wire form of a value not known yet (during a preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The paths in a wire value holding a secret whose value is unknown. */
export function secretUnknowns(value: unknown, at = ""): string[] {
  if (typeof value !== "object" || value === null) return [];
  if (isSecretValue(value) && (value as { value?: unknown }).value === UNKNOWN) return [at];
  return Object.entries(value).flatMap(([k, v]) => secretUnknowns(v, at ? `${at}.${k}` : k));
}

/** True when a recorded input value is a secret (the SDK's wire form of a secret). */
export function isSecretValue(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** The value inside a secret wrapper (or the value itself). */
export function unwrap(value: unknown): any {
  return isSecretValue(value) ? (value as { value: unknown }).value : value;
}

/** A resource's inputs as JSON with every secret replaced by "[secret]": what would be readable in plain state. */
export function plainInputs(r: Recorded): string {
  return JSON.stringify(r.inputs, (_k, v: unknown) => (isSecretValue(v) ? "[secret]" : v));
}

/** Every secret value the program could hold: the planted config secrets, generated token and host keys. */
export const PLANTED_MARKERS = ["PLANTED-"];

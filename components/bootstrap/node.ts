// One node's bootstrap: the rendered files, then the hardening and install steps, each a remote command that runs a
// static script and re-runs only when its own inputs change (content hashes as triggers).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PATHS, type NodeFile } from "../render/files";
import type { RenderInputs } from "../render/inputs";
import { stepsFor, type Step } from "../render/node";
import { DISTRIBUTION } from "../spec/distribution";
import type { NodeFacts } from "../spec/plan";
import type { Node } from "../nodes/types";
import type { ClusterSpec } from "../spec/types";
import {
  ArtifactAsset,
  CHECK_HOST_KEY_SCRIPT,
  CONNECTION_CHECK,
  DRAIN_STDIN,
  PLACE_FILES_SCRIPT,
  embeddedScriptAsRoot,
  fileRecords,
  runAllAsRoot,
  runAsRoot,
  stepOptions,
} from "./remote";
import { lift, liftOutput } from "../lift";
import { memo } from "../memo";
import { nodeInputs } from "./node-inputs";
import { rollStep, upgradeTrigger, type RollHost } from "./roll";

export interface NodeBootstrapArgs {
  spec: ClusterSpec;
  node: Node;
  registrationAddress: pulumi.Input<string>;
  /** Where the operator's machine reaches the API, added to tls-san; the registration address when unset. */
  apiAddress?: pulumi.Input<string>;
  /** Renders with the real secret values: its result becomes a secret input (the files step's stdin). */
  secretInputs: pulumi.Output<RenderInputs>;
  /** Renders with placeholders: its digests are plain, so the steps that hold no secret keep plain triggers. */
  plainInputs: RenderInputs;
  /** The node's files as the offline render writes them (no secret, no address that is not known yet). */
  plan: NodeFile[];
  /** The node's roll (its drain, install and start) waits for these: the previous stage's last steps (roll.ts). */
  startAfter: pulumi.Resource[];
  /** Every step on the node waits for these (the release guard, which refuses a downgrade or a skipped minor, and
   * the existing hosts' key check). */
  after?: pulumi.Resource[];
  /** Where the node's drain and health gate run (roll.ts). */
  rollHost: RollHost;
  /** Air-gap artifacts on the operator's machine: file name → local path. */
  artifacts: { file: string; localPath: string; sha256: string }[];
}

/** The files each step reads, so its trigger changes exactly when they do. */
function stepInputs(step: Step, files: NodeFile[]): NodeFile[] {
  const pick = (...paths: string[]) => files.filter((f) => paths.includes(f.path));
  switch (step) {
    case "sysctl":
      return pick(PATHS.sysctl);
    case "etcd-user":
    case "fips-kernel":
      return [];
    case "install":
    case "fips-module":
      // The module check re-runs whenever the install may have put a new binary in place.
      return pick(PATHS.nodeEnv, PATHS.artifactSums);
    case "start":
    case "ready":
    case "cis":
      // Everything RKE2 reads at start: a change to any of them needs a restart (and a new CIS check after it).
      return files;
    default: {
      const never: never = step;
      throw new Error(`unknown step ${String(never)}`);
    }
  }
}

type Ssh = Omit<Node["connection"], "checkHostKey" | "proxy">;
/** The provider's fields of one SSH hop, with its address and keys resolved. */
function hopArgs(c: Ssh, host: string, hostKey: string, privateKey: string) {
  const { port, user, dialErrorLimit, perDialTimeout } = c;
  return { host, port, user, hostKey, privateKey, dialErrorLimit, perDialTimeout };
}

/**
 * The command provider's connection for a node as one Output: the host key pinned, the source's dial retry budget.
 * Made once per connection (every step of the node, its roll host and a restore share it): the command SDK wraps each
 * resource's connection in `secret(output(...))`, which for a plain object of Outputs builds several Outputs per
 * resource (output.ts, outputRec), for an Output a few. Built with one `apply` over the Outputs among its values (the
 * private key, and an AWS host's address and key); a jump host's, shared by every node (aws.ts), once as well.
 */
const connections = new WeakMap<Ssh, pulumi.Output<command.types.input.remote.ConnectionArgs>>();
export function connectionOf(
  c: Node["connection"],
): pulumi.Output<command.types.input.remote.ConnectionArgs> {
  return memo(connections, c, () => {
    const proxy = c.proxy && proxyOf(c.proxy);
    return liftOutput(
      [c.host, c.hostKey, c.privateKey, proxy],
      ([host, hostKey, privateKey, proxyArgs]): command.types.input.remote.ConnectionArgs => ({
        ...hopArgs(c, host, hostKey, privateKey),
        ...(proxyArgs ? { proxy: proxyArgs } : {}),
      }),
    );
  });
}

const proxies = new WeakMap<Ssh, pulumi.Output<command.types.input.remote.ProxyConnectionArgs>>();
function proxyOf(p: Ssh) {
  return memo(proxies, p, () =>
    liftOutput([p.host, p.hostKey, p.privateKey], ([host, hostKey, privateKey]) =>
      hopArgs(p, host, hostKey, privateKey),
    ),
  );
}

/**
 * One check of every existing host's SSH key from the operator's machine, before any node step: a mismatch stops the
 * run with a message naming each node whose key differs and the fix (the provider alone would only say "host key
 * mismatch"). One resource for the cluster, not one per node: at hundreds of nodes the SDK's cost per registered
 * resource bounds the program's memory (README, "Benchmark"). It runs again when any host's address, port or pinned
 * key changes, or a host comes or goes, and then checks every host (in parallel, seconds in all); it is read-only
 * and has no `delete`. Undefined when no node asks for it (machines the stack made, whose keys it generated).
 */
export function hostKeyCheck(
  name: string,
  nodes: readonly Pick<Node, "name" | "connection">[],
  opts: pulumi.CustomResourceOptions,
): command.local.Command | undefined {
  const checked = nodes.filter((n) => n.connection.checkHostKey);
  if (!checked.length) return undefined;
  // One line per host, "<node> <address> <port> <key type> <key base64>": validated plain words (spec/nodes.ts).
  const hosts = lift(
    checked.flatMap((n) => [n.connection.host, n.connection.hostKey]),
    (values) =>
      checked
        .map((n, i) => `${n.name} ${values[2 * i]} ${n.connection.port} ${values[2 * i + 1]}\n`)
        .join(""),
  );
  return new command.local.Command(
    `${name}-host-keys`,
    {
      create: CHECK_HOST_KEY_SCRIPT,
      interpreter: ["/bin/bash", "-c"],
      environment: { HOSTS: hosts },
      addPreviousOutputInEnv: false,
      triggers: [hosts],
    },
    opts,
  );
}

export class NodeBootstrap extends pulumi.ComponentResource {
  /** The node has joined (its start step, which waits for it). */
  readonly ready: command.remote.Command;
  /** The node's last roll step: healthy at the stack's version, and schedulable again if the roll cordoned it. */
  readonly rolled: command.remote.Command;
  /** Every step in order, by name. */
  readonly steps: Record<string, pulumi.Resource>;
  /** The `cis` step's output: the node's CIS host checks, one PASS/FAIL line per control, then a count line. */
  /** The `cis` step's report; undefined where the distribution has no host checks yet (K3s). */
  readonly cisReport: pulumi.Output<string> | undefined;
  /** With `fips: true`: the FIPS module step's output, whose last line is the node's FIPS evidence. */
  readonly fipsEvidence?: pulumi.Output<string>;

  constructor(name: string, args: NodeBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rke2:bootstrap:NodeBootstrap", name, {}, opts);
    const { spec, node } = args;
    // Only plain facts go into a render: spreading `node` would carry its connection (and the private key's
    // secrecy) into every rendered file.
    const facts = (address: string, rejoins?: boolean): NodeFacts => ({
      name: node.name,
      role: node.role,
      index: node.index,
      pool: node.pool,
      labels: node.labels,
      taints: node.taints,
      privateAddress: address,
      ...(rejoins ? { rejoins } : {}),
    });
    const readsSecrets = (step: Step) => step === "start";
    const values = nodeInputs({
      spec,
      facts,
      privateAddress: node.privateAddress,
      rejoins: node.rejoins,
      registrationAddress: args.registrationAddress,
      apiAddress: args.apiAddress ?? args.registrationAddress,
      secretInputs: args.secretInputs,
      plainInputs: args.plainInputs,
      // No trigger of its own for `ready`: its script runs inside the start step (below).
      steps: stepsFor(spec, node.role).filter((s) => s !== "ready"),
      stepInputs,
      readsSecrets,
    });

    const connection = connectionOf(node.connection);
    const base = { parent: this };
    // A machine the stack made: every step runs again on a new one (an image change replaces it), whose disk has none
    // of what the steps put on the old one. Hosts the stack did not make have no machine and keep their triggers.
    const onMachine: pulumi.Output<string>[] = node.machine ? [node.machine.id] : [];
    const steps: Record<string, pulumi.Resource> = {};

    // The files carry the token and any registry or S3 credentials: stdin and the trigger are secrets.
    const files = new command.remote.Command(
      `${name}-files`,
      {
        connection,
        create: embeddedScriptAsRoot(PLACE_FILES_SCRIPT),
        // A connection change (a rotated key) reads and drops the records: the files are rewritten only when their
        // digest, the trigger, changes.
        update: DRAIN_STDIN,
        ...stepOptions,
        stdin: values.records,
        triggers: [values.filesTrigger, ...onMachine],
      },
      {
        ...base,
        dependsOn: [...(node.machine ? [node.machine] : []), ...(args.after ?? [])],
      },
    );
    steps.files = files;

    const copies = args.artifacts.map(
      (a) =>
        new command.remote.CopyToRemote(
          `${name}-artifact-${a.file}`,
          {
            connection,
            source: new ArtifactAsset(a.localPath, a.sha256),
            remotePath: `${PATHS.artifactsDir}/${a.file}`,
            // The checksum, not the path: the same file is never sent twice, a changed one always is.
            triggers: [a.sha256, ...onMachine],
          },
          { ...base, dependsOn: [files] },
        ),
    );
    copies.forEach((c, i) => (steps[`artifact-${args.artifacts[i].file}`] = c));

    let previous: pulumi.Resource[] = [files];
    let last: command.remote.Command | undefined;
    let startTrigger: pulumi.Input<string> | undefined;
    let rolled: command.remote.Command | undefined;
    const roll = { spec, node, host: args.rollHost, trigger: upgradeTrigger(spec) };
    // Every (re)start is gated on the node's health, and the gate then uncordons the node if the roll's drain cordoned
    // it (roll.sh marks what it cordons): one step, where there were a gate and an uncordon, because the SDK's cost per
    // registered resource bounds the program's memory at hundreds of nodes (README, "Benchmark"). A config change's
    // restart runs the gate without a drain, and a node an operator cordoned carries no mark: it stays cordoned.
    // Triggers: the start step's (every restart, a new machine) and the drain's (the upgrade trigger), so every drain
    // is followed by a gate even when no file the start reads changed (a moved artifactsDir). A stack from before the
    // merge replaces each gate once (the trigger grew): a health check that uncordons nothing, as no node is marked;
    // its `uncordon` steps leave the state with no `delete`, running nothing.
    const gate = (after: pulumi.Resource[], restart: pulumi.Input<string> | undefined) => {
      if (!restart) throw new Error(`node ${node.name} has no start step before its health gate`);
      const g = rollStep(
        name,
        "gate",
        { ...roll, trigger: restart, machine: node.machine?.id, upgrade: roll.trigger },
        { ...base, dependsOn: after },
      );
      steps.gate = g;
      return g;
    };
    for (const step of stepsFor(spec, node.role)) {
      // The wait for the node to join runs inside the start step (below): its own step would be one more resource
      // per node, and it reads the same files as the start step (every file and script: the same trigger changes).
      if (step === "ready") continue;
      const script = values.script(step);
      const trigger = values.trigger(step);
      if (step === "install") {
        // Drained before a new release is installed, and only after the previous stage of the roll is done.
        steps.drain = rollStep(name, "drain", roll, {
          ...base,
          dependsOn: [...previous, ...args.startAfter],
        });
        previous = [steps.drain];
      }
      if (step === "start") startTrigger = trigger;
      if (step === "cis") {
        // The roll's gate follows the start; the node's CIS host checks read it once it passed, while the next stage
        // of the roll goes on (it waits for the gate, not for this report).
        rolled = gate(previous, startTrigger);
        previous = [rolled];
      }
      const dependsOn = [
        ...previous,
        ...(step === "install" ? copies : []),
        ...(step === "start" ? args.startAfter : []),
      ];
      // The start step starts (or restarts) the node's unit, then waits until the node has joined (the `ready` script):
      // both are idempotent, so a start that stopped at the wait runs both again and restarts nothing (40-start.sh
      // restarts only on changed inputs). Its trigger is the start script's digest over every file and script, which
      // covers the wait's script too: a stack from before the merge keeps its start step (an update, which runs only a
      // login), and its `ready` steps leave the state with no `delete`, running nothing.
      const create =
        step === "start" ? runAllAsRoot([script.path, values.script("ready").path]) : runAsRoot(script.path);
      const cmd = new command.remote.Command(
        `${name}-${step}`,
        {
          connection,
          create,
          // The CIS check is read-only and its output is the node's report: it runs again rather than answer empty.
          update: step === "cis" ? runAsRoot(script.path) : CONNECTION_CHECK,
          ...stepOptions,
          triggers: [trigger, ...onMachine],
        },
        { ...base, dependsOn },
      );
      steps[step] = cmd;
      previous = [cmd];
      last = cmd;
    }
    if (!last) throw new Error(`node ${node.name} has no bootstrap step`);
    const ready = steps.start;
    const cis = steps.cis;
    if (!(ready instanceof command.remote.Command)) throw new Error(`node ${node.name} has no start step`);
    if (DISTRIBUTION[spec.distribution].hostChecks && !(cis instanceof command.remote.Command))
      throw new Error(`node ${node.name} has no cis step`);
    // Readiness is the start step's wait: the next server joins after it (and the gate), not after the CIS check.
    this.ready = ready;
    this.cisReport = cis instanceof command.remote.Command ? cis.stdout : undefined;
    this.rolled = rolled ?? gate([ready], startTrigger);
    this.steps = steps;
    const fipsModule = steps["fips-module"];
    if (fipsModule instanceof command.remote.Command) this.fipsEvidence = fipsModule.stdout;
    // The plan is an output, not an input: the policy pack's stack policies see outputs, and they judge a node by its
    // plan only while its files step's input is unknown (a first preview).
    this.registerOutputs({ plan: fileRecords(args.plan) });
  }
}

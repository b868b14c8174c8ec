// The order in which a change reaches running nodes (mission row 24): servers one at a time, then agents in batches,
// each node drained before its upgrade and gated on its health after its restart before the next one starts. The
// order is the resource graph itself: a node's drain and start depend on the previous stage's last step (its gate,
// which also uncordons what the drain cordoned), so the engine cannot run them earlier, and a failing node stops
// every node after it. The next `pulumi up` resumes
// where the roll stopped: the steps that succeeded are in state with their triggers and do not run again.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256 } from "../render/files";
import type { Node } from "../nodes/types";
import type { ClusterSpec } from "../spec/types";
import { CONNECTION_CHECK, embeddedScriptAsRoot, stepOptions } from "./remote";

export const ROLL_SCRIPT = fs.readFileSync(path.join(__dirname, "scripts", "roll.sh"), "utf8");

export type RollAction = "drain" | "gate" | "leave";

/**
 * The roll's stages in order: each server alone, then the agents in batches of `agentBatchSize`. Every node of a stage
 * waits for every node of the stage before it. Servers first: the kubelet may not be newer than the API server
 * (kubernetes.io/releases/version-skew-policy), and etcd keeps quorum only while at most one member is down.
 */
export function rollStages<N extends { name: string; role: string }>(
  nodes: readonly N[],
  agentBatchSize: number,
): N[][] {
  const servers = nodes.filter((n) => n.role === "server").map((n) => [n]);
  const agents = nodes.filter((n) => n.role !== "server");
  const batches: N[][] = [];
  for (let i = 0; i < agents.length; i += agentBatchSize) batches.push(agents.slice(i, i + agentBatchSize));
  return [...servers, ...batches];
}

/**
 * What makes a node's binary change: the release and how it is installed (its artifacts' checksums). A change drains
 * the node before its install and runs its health gate, which uncordons it; a config change alone restarts without a
 * drain (restarting rke2-server or rke2-agent leaves the node's containers running) and runs the gate too.
 */
export function upgradeTrigger(spec: Pick<ClusterSpec, "version" | "install">): string {
  return sha256(JSON.stringify({ version: spec.version.raw, install: spec.install }));
}

/** Where a node's roll steps run: the node itself when it is a server, else the first server (it holds the admin
 * kubeconfig). */
export interface RollHost {
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
}

export interface RollStepArgs {
  spec: Pick<ClusterSpec, "version" | "upgrade" | "distribution">;
  node: Pick<Node, "name" | "role">;
  host: RollHost;
  trigger: pulumi.Input<string>;
  /** The node's machine id, when the stack made it: the step runs again on a new machine. */
  machine?: pulumi.Input<string>;
  /** The upgrade trigger as well (the gate): the step runs again after every drain, whatever else changed. */
  upgrade?: pulumi.Input<string>;
}

/** The command line of one roll action: the static script with plain words as arguments (remote.ts checks them). */
export function rollCommand(
  action: RollAction,
  args: Omit<RollStepArgs, "host" | "trigger" | "machine" | "upgrade">,
): string {
  const timeout =
    action === "drain" || action === "leave"
      ? args.spec.upgrade.drainTimeoutSeconds
      : args.spec.upgrade.healthTimeoutSeconds;
  return embeddedScriptAsRoot(ROLL_SCRIPT, [
    action,
    args.node.name,
    args.node.role,
    args.spec.version.raw,
    String(timeout),
    args.spec.distribution,
  ]);
}

/** One roll step of a node, named `<bootstrap>-<action>`. */
export function rollStep(
  name: string,
  action: RollAction,
  args: RollStepArgs,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    `${name}-${action}`,
    {
      connection: args.host.connection,
      create: rollCommand(action, args),
      // A connection change alone (a rotated SSH key) runs only a login, as every step does (remote.ts).
      update: CONNECTION_CHECK,
      ...stepOptions,
      triggers: [
        args.trigger,
        ...(args.machine !== undefined ? [args.machine] : []),
        ...(args.upgrade !== undefined ? [args.upgrade] : []),
      ],
    },
    opts,
  );
}

/**
 * A server's leave when its machine is replaced (an image change): drained, its etcd member removed and its Node
 * deleted, run on the server itself with the connection it had (the old machine, still up). It is a delete command:
 * its trigger is the machine's id, so replacing the machine (deleteBeforeReplace, aws.ts) replaces it too, and the
 * engine deletes a delete-before-replace resource's dependents first. On creation it runs nothing: a new machine has
 * nothing to leave. An agent leaves through its roll host instead (cluster.ts): by its turn the servers, and with
 * them the connection an agent's delete command would have kept, are new.
 */
export function leaveOnReplace(
  name: string,
  args: Omit<RollStepArgs, "trigger"> & { machine: pulumi.Input<string> },
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    `${name}-leave`,
    {
      connection: args.host.connection,
      delete: rollCommand("leave", args),
      ...stepOptions,
      triggers: [args.machine],
    },
    opts,
  );
}

/**
 * An agent's leave before an image change replaces its machine: drained and its Node deleted, through its roll host
 * (the first server, new by the agents' turn). It runs again for each new image (its trigger), and it does so only on
 * a run that replaces machines: on any other run its command is a login check, so a first `up`, a scale-up, or a
 * stack that gains this step with a newer version of the product never drains a node that stays. (The run after an
 * image change updates it back to the login check: one update, which runs nothing on any node.)
 */
export function leaveBeforeReplace(
  name: string,
  args: Omit<RollStepArgs, "machine">,
  replacing: pulumi.Output<boolean>,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    `${name}-leave`,
    {
      connection: args.host.connection,
      create: replacing.apply((r) => (r ? rollCommand("leave", args) : CONNECTION_CHECK)),
      update: CONNECTION_CHECK,
      ...stepOptions,
      triggers: [args.trigger],
    },
    opts,
  );
}

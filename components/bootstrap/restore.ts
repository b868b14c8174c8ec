// A restore from an etcd snapshot (the stack's `restore` key), in the order RKE2 documents (docs.rke2.io, "Backup and
// Restore"): every server stopped, the snapshot restored on the first server and that server started, then each other
// server set aside its etcd data and started to rejoin, one at a time (etcd adds one member at a time, as the first
// join does: roll.ts). The order is the resource graph: each step depends on the ones before it, so a failing step
// stops the restore there and says where. Every step is keyed on the restore's value: it runs when `restore` is set or
// changed and never again for the same value, so the key may stay in the stack after the restore.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ClusterSpec } from "../spec/types";
import { CONNECTION_CHECK, embeddedScriptAsRoot, stepOptions } from "./remote";

export const RESTORE_SCRIPT = fs.readFileSync(path.join(__dirname, "scripts", "restore.sh"), "utf8");

export type RestoreSpec = NonNullable<ClusterSpec["restore"]>;
export type RestoreAction = "stop" | "reset" | "rejoin";

/** The command line of one restore action: the static script with plain words as arguments (remote.ts checks them). */
export function restoreCommand(action: RestoreAction, node: string, restore: RestoreSpec): string {
  const args = action === "reset" ? [action, node, restore.snapshot, restore.from] : [action, node];
  return embeddedScriptAsRoot(RESTORE_SCRIPT, args);
}

/** What re-runs the restore: its value, nothing else (a second `up` with the same value restores nothing). */
export function restoreTrigger(restore: RestoreSpec): string {
  return `${restore.from}:${restore.snapshot}`;
}

export interface RestoreServer {
  name: string;
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
}

/**
 * The restore's steps, named `<cluster>-restore-<action>-<node>`: `stop` on every server, after `after` (every node's
 * bootstrap: the restore acts on a running cluster); `reset` on the first server after every stop; `rejoin` on each
 * other server in order, each after the previous one. Returns every step, the last one last.
 */
export function restoreSteps(
  name: string,
  restore: RestoreSpec,
  servers: RestoreServer[],
  after: pulumi.Resource[],
  opts: pulumi.CustomResourceOptions,
): command.remote.Command[] {
  const [first, ...others] = servers;
  if (!first) throw new Error("a restore needs a first server");
  const step = (action: RestoreAction, server: RestoreServer, dependsOn: pulumi.Resource[]) =>
    new command.remote.Command(
      `${name}-restore-${action}-${server.name}`,
      {
        connection: server.connection,
        create: restoreCommand(action, server.name, restore),
        // A connection change alone (a rotated SSH key) runs only a login: the restore is never repeated by it.
        update: CONNECTION_CHECK,
        ...stepOptions,
        triggers: [restoreTrigger(restore)],
      },
      { ...opts, dependsOn },
    );
  const stops = servers.map((s) => step("stop", s, after));
  const steps = [...stops, step("reset", first, stops)];
  for (const s of others) steps.push(step("rejoin", s, [steps[steps.length - 1]]));
  return steps;
}

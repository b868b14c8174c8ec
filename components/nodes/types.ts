// The one node shape every node source yields, whatever created the machine.
import type * as pulumi from "@pulumi/pulumi";
import type { PlannedNode } from "../spec/plan";

/**
 * How the bootstrap reaches a node over SSH. The host key is always pinned. Addresses and keys are plain values where
 * the stack knows them when the program starts (existing hosts) and Outputs where the cloud tells them: a plain value
 * costs the SDK nothing per node (lift.ts).
 */
export interface SshConnection {
  host: pulumi.Input<string>;
  port: number;
  user: string;
  /** The host's public key, `<type> <base64>`: the command provider refuses any other key. */
  hostKey: pulumi.Input<string>;
  /** The operator's private key (a secret). */
  privateKey: pulumi.Output<string>;
  /**
   * How many failed dials the command provider makes before it gives up, and the seconds each may take. A host-key
   * mismatch counts as a failed dial, so this is also how long a wrong key takes to be reported.
   */
  dialErrorLimit: number;
  perDialTimeout: number;
  /**
   * Check the host's key from the operator's machine before the first step (existing hosts, which are up already):
   * a mismatch then stops the node with a message naming it and the fix, not only the provider's "host key mismatch".
   */
  checkHostKey: boolean;
  /**
   * A jump host the connection goes through (the command provider's own `connection.proxy`), its key pinned the same
   * way; unset: the node is reached directly.
   */
  proxy?: Omit<SshConnection, "checkHostKey" | "proxy">;
}

export interface Node extends PlannedNode {
  /** The address other nodes reach this one on. */
  privateAddress: pulumi.Input<string>;
  connection: SshConnection;
  /** What must exist before SSH can work (the instance), for `dependsOn`. */
  machine?: pulumi.CustomResource;
  /**
   * A machine the stack replaces on an image change: called once by the cluster with what its replacement waits for
   * (the previous stage's roll, the node's leave). The source applies it only on a run that replaces machines.
   */
  replaceAfter?: (after: pulumi.Resource[]) => void;
  /** True when a later machine must join the cluster its first one started (the first server, once replaced). */
  rejoins?: pulumi.Output<boolean>;
}

export interface NodeSet {
  /** Servers first in join order, then agents. */
  nodes: Node[];
  /** The fixed address joining nodes use (a private address or an internal load balancer). */
  registrationAddress: pulumi.Input<string>;
  /** Where the operator's machine reaches the API (kubeconfig, Kubernetes provider, verification); in tls-san. */
  apiAddress: pulumi.Input<string>;
  /** The image the machines run (sources that make machines): an agent's leave runs again when it changes. */
  image?: pulumi.Output<string>;
  /** True on a run that replaces machines (some run another image than `image`). */
  imageChange?: pulumi.Output<boolean>;
  /** The jump host SSH goes through, when the source made one: its public address and pinned host key. */
  bastion?: { host: pulumi.Input<string>; hostKey: pulumi.Input<string>; user: string };
}

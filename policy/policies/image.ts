// An image change on AWS goes the upgrade path's way (mission row 24, issue #14): on a run that replaces machines,
// each node's machine goes only after the stage before it is rolled (servers one at a time, agents after every
// server), and each node leaves the cluster first (drained, its etcd member removed, its Node deleted). The AWS node
// source says whether this run replaces machines (its `imageChange` output, read from EC2); the pack reads the order
// where the engine does, in the resource graph, as upgrade-roll-ordered does for a version or config change.
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { dependsOn, known, nodeViews, type NodeView } from "./nodes";

/** The product's AWS node source (components/nodes/aws.ts). */
const AWS_NODES = "rke2:nodes:AwsNodeSource";
const INSTANCE = "aws:ec2/instance:Instance";

export const imageChangeOrdered: StackValidationPolicy = {
  name: "aws-image-change-ordered",
  description:
    "An image change replaces machines in the roll's order: each after the stage before it is rolled, servers one at a time, agents after every server, each node leaving the cluster before its machine goes.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const sources = args.resources.filter((r) => r.type === AWS_NODES);
    if (!sources.some((s) => known(() => s.props.imageChange as unknown) === true)) return;
    // A node's machine: the instance its files step waits for (bootstrap/node.ts).
    const machineOf = (n: NodeView): PolicyResource | undefined =>
      n.steps.get("files")?.dependencies.find((d) => d.type === INSTANCE);
    const nodes = nodeViews(args.resources).flatMap((n) => {
      const machine = machineOf(n);
      // The gate is a node's last roll step (its health, then the uncordon of what its drain cordoned).
      const gate = n.steps.get("gate");
      if (!machine || !gate) {
        report(`node ${n.name} has no machine or no gate step; its replacement cannot be ordered`, n.urn);
        return [];
      }
      return [{ ...n, machine, gate }];
    });
    type Node = (typeof nodes)[number];
    // `a`'s machine is replaced after `b` is rolled.
    const replacedAfter = (a: Node, b: Node) => dependsOn(a.machine, b.gate.urn);
    const servers = nodes.filter((n) => n.role === "server");
    const agents = nodes.filter((n) => n.role !== "server");
    for (let i = 0; i < servers.length; i++)
      for (let j = i + 1; j < servers.length; j++) {
        const [a, b] = [servers[i], servers[j]];
        if (!replacedAfter(a, b) && !replacedAfter(b, a))
          report(
            `the machines of servers ${a.name} and ${b.name} may be replaced at the same time; etcd keeps quorum only while one member at a time is away`,
            b.machine.urn,
          );
      }
    for (const agent of agents)
      for (const server of servers)
        if (!replacedAfter(agent, server))
          report(
            `the machine of agent ${agent.name} may be replaced before server ${server.name} is rolled`,
            agent.machine.urn,
          );
    // Each node leaves first: a server through a delete command replaced with its machine, an agent through a leave
    // step its machine waits for.
    for (const n of nodes) {
      const leave = n.steps.get("leave") ?? args.resources.find((r) => r.name === `${n.name}-leave`);
      const leavesFirst =
        leave !== undefined &&
        (n.role === "server"
          ? dependsOn(leave, n.machine.urn) && known(() => leave.props.delete as unknown) !== undefined
          : dependsOn(n.machine, leave.urn));
      if (!leavesFirst)
        report(
          `node ${n.name} is not drained and taken out of the cluster before its machine is replaced`,
          n.machine.urn,
        );
    }
  },
};

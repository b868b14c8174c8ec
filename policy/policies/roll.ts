// The upgrade path is ordered (mission row 24): a change of version or configuration reaches one server at a time and
// the agents only after every server, each node drained before its install and gated on its health after its
// restart. The pack reads the order where the engine does, in the resource graph: a stack whose nodes could be
// upgraded together (a program that dropped a dependency) is refused before it runs.
import type { StackValidationPolicy } from "@pulumi/policy";
import { dependsOn, nodeViews, type NodeView } from "./nodes";

/** The steps of a node's roll, each after the one before it. The start step waits for the node to join; the gate
 * checks its health, then uncordons it if the drain cordoned it (bootstrap/node.ts). */
const ROLL = ["drain", "install", "start", "gate"] as const;

export const upgradeRollOrdered: StackValidationPolicy = {
  name: "upgrade-roll-ordered",
  description:
    "Upgrades and config rolls are ordered: each node drained before its install and gated on its health after its restart; servers one at a time; agents after every server.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const nodes = nodeViews(args.resources);
    const complete: NodeView[] = [];
    for (const node of nodes) {
      const missing = ROLL.filter((s) => !node.steps.has(s));
      if (missing.length) {
        report(
          `node ${node.name} has no ${missing.join(", ")} step; its upgrade would not be drained and gated`,
          node.urn,
        );
        continue;
      }
      const step = (s: (typeof ROLL)[number]) => node.steps.get(s)!;
      for (let i = 1; i < ROLL.length; i++)
        if (!dependsOn(step(ROLL[i]), step(ROLL[i - 1]).urn))
          report(
            `node ${node.name}: its ${ROLL[i]} step does not wait for its ${ROLL[i - 1]} step`,
            step(ROLL[i]).urn,
          );
      complete.push(node);
    }
    // `a` is rolled after `b`: a's drain and start wait for b's gate.
    const rolledAfter = (a: NodeView, b: NodeView) =>
      ["drain", "start"].every((s) => dependsOn(a.steps.get(s)!, b.steps.get("gate")!.urn));
    const servers = complete.filter((n) => n.role === "server");
    const agents = complete.filter((n) => n.role !== "server");
    for (let i = 0; i < servers.length; i++)
      for (let j = i + 1; j < servers.length; j++) {
        const [a, b] = [servers[i], servers[j]];
        if (!rolledAfter(a, b) && !rolledAfter(b, a))
          report(
            `servers ${a.name} and ${b.name} may be upgraded or restarted at the same time; etcd keeps quorum only while one member at a time is down`,
            b.urn,
          );
      }
    for (const agent of agents)
      for (const server of servers)
        if (!rolledAfter(agent, server))
          report(
            `agent ${agent.name} may be upgraded before server ${server.name} is done; an agent must never run a newer release than the servers`,
            agent.urn,
          );
  },
};

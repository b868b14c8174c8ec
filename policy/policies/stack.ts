// Stack-wide policies: every node is hardened before RKE2 starts, the server count is odd, and every namespace the
// stack creates has its default-deny NetworkPolicy.
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { decodeFiles, envOf, FILES_STEP, nodeOf } from "./files";

const COMMAND = "command:remote:Command";

/** True when `r` depends, directly or through other resources, on a resource named `name`. */
function dependsOn(r: PolicyResource, name: string, seen = new Set<string>()): boolean {
  for (const d of r.dependencies) {
    if (d.name === name) return true;
    if (!seen.has(d.urn)) {
      seen.add(d.urn);
      if (dependsOn(d, name, seen)) return true;
    }
  }
  return false;
}

function roles(resources: PolicyResource[]): Map<string, string> {
  const byNode = new Map<string, string>();
  for (const r of resources.filter((x) => x.type === COMMAND && FILES_STEP.test(x.name))) {
    byNode.set(nodeOf(r.name), envOf(decodeFiles(r.props.stdin)).ROLE ?? "unknown");
  }
  return byNode;
}

export const hardeningBeforeStart: StackValidationPolicy = {
  name: "bootstrap-hardening-before-start",
  description:
    "Every node applies its kernel parameters (and, on servers, the etcd user) before RKE2 starts.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const byName = new Map(args.resources.map((r) => [r.name, r]));
    for (const [node, role] of roles(args.resources)) {
      const start = byName.get(`${node}-start`);
      const required = role === "server" ? ["sysctl", "etcd-user"] : ["sysctl"];
      for (const step of required) {
        if (!byName.has(`${node}-${step}`)) {
          report(`node ${node} has no ${step} step; RKE2's CIS profile refuses to start without it`);
        } else if (start && !dependsOn(start, `${node}-${step}`)) {
          report(`node ${node} starts RKE2 without waiting for its ${step} step`);
        }
      }
    }
  },
};

export const oddServerCount: StackValidationPolicy = {
  name: "servers-odd-count",
  description: "The cluster has an odd number of servers (etcd quorum).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const servers = [...roles(args.resources).values()].filter((r) => r === "server").length;
    if (servers > 0 && servers % 2 === 0)
      report(`the stack has ${servers} servers; etcd needs an odd count (1, 3, 5 or 7)`);
  },
};

export const namespaceNetworkPolicy: StackValidationPolicy = {
  name: "k8s-namespace-default-deny",
  description: "Every namespace the stack creates has a default-deny NetworkPolicy.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const meta = (r: PolicyResource) => (r.props.metadata ?? {}) as { name?: string; namespace?: string };
    const denied = new Set(
      args.resources
        .filter(
          (r) =>
            r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
            meta(r).name === "hardened-rke2-default-deny",
        )
        .map((r) => meta(r).namespace),
    );
    for (const ns of args.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace")) {
      const name = meta(ns).name;
      if (!denied.has(name))
        report(`namespace ${name ?? ns.name} has no hardened-rke2-default-deny NetworkPolicy (CIS 5.3.2)`);
    }
  },
};

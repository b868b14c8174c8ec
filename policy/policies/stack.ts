// Stack-wide policies: every node is hardened before RKE2 starts, the server count is odd, and every namespace the
// stack manages has its default-deny NetworkPolicy.
import { stableCisId } from "../../components/spec/cis-catalogue";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { SCRIPT_STEPS } from "../../components/render/node";
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
      const required = SCRIPT_STEPS.filter((s) => s.beforeStart && (role === "server" || !s.servers));
      for (const { step } of required) {
        if (!byName.has(`${node}-${step}`)) {
          report(`node ${node} has no ${step} step; RKE2's CIS profile refuses to start without it`);
        } else if (start && !dependsOn(start, `${node}-${step}`)) {
          report(`node ${node} starts RKE2 without waiting for its ${step} step`);
        }
      }
    }
  },
};

/** Each FIPS step, what must run before it and what must wait for it (policy text and the order it checks). */
const FIPS_ORDER = [
  { step: "fips-kernel", after: "files", before: "install", why: "checks the kernel's FIPS mode" },
  {
    step: "fips-module",
    after: "install",
    before: "start",
    why: "checks the installed binary's crypto module",
  },
] as const;

export const fipsChecks: StackValidationPolicy = {
  name: "rke2-fips-checks",
  description:
    "A node whose rendered files ask for FIPS checks its kernel's FIPS mode before the install and the installed binary's crypto module before RKE2 starts.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const byName = new Map(args.resources.map((r) => [r.name, r]));
    for (const r of args.resources.filter((x) => x.type === COMMAND && FILES_STEP.test(x.name))) {
      // fips: true reaches each node's env file (FIPS='true'); a stack that says so must keep both checks in order.
      if (envOf(decodeFiles(r.props.stdin)).FIPS !== "true") continue;
      const node = nodeOf(r.name);
      for (const { step, after, before, why } of FIPS_ORDER) {
        const check = byName.get(`${node}-${step}`);
        const next = byName.get(`${node}-${before}`);
        if (!check) {
          report(`node ${node} sets FIPS but has no ${step} step (it ${why}); the stack says fips: true`);
        } else if (!dependsOn(check, `${node}-${after}`)) {
          report(`node ${node}: its ${step} step does not wait for its ${after} step`);
        } else if (next && !dependsOn(next, `${node}-${step}`)) {
          report(`node ${node}: its ${before} step does not wait for its ${step} step (it ${why})`);
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

interface PolicySpec {
  podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  policyTypes?: string[];
  ingress?: unknown[];
  egress?: unknown[];
}

/** What a default-deny policy leaves open: "" when it selects every pod and allows no traffic in (and, where
 * `egress` is asked for, none out). A policy renamed into place with a selector or a rule does not count. */
function denyGap(spec: PolicySpec, egress: boolean): string {
  const selector = spec.podSelector ?? {};
  if (Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0)
    return "selects only some pods";
  const types = spec.policyTypes ?? [];
  if (!types.includes("Ingress") || (spec.ingress ?? []).length > 0) return "does not deny all ingress";
  if (egress && (!types.includes("Egress") || (spec.egress ?? []).length > 0))
    return "does not deny all egress";
  return "";
}

export const namespaceNetworkPolicy: StackValidationPolicy = {
  name: "k8s-namespace-default-deny",
  description:
    "Every namespace the stack manages has a default-deny NetworkPolicy: ingress in the built-in ones, ingress and egress in the ones it creates.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const meta = (r: PolicyResource) => (r.props.metadata ?? {}) as { name?: string; namespace?: string };
    const denies = new Map<string | undefined, PolicySpec>(
      args.resources
        .filter(
          (r) =>
            r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
            meta(r).name === "hardened-rke2-default-deny",
        )
        .map((r) => [meta(r).namespace, (r.props.spec ?? {}) as PolicySpec]),
    );
    // Namespaces it creates must also deny egress (the product's contract, CIS 5.3.2); built-in ones, which it
    // only patches (their default ServiceAccount), deny ingress so that system components keep their egress.
    const managed = new Map<string, boolean>();
    for (const r of args.resources) {
      if (r.type === "kubernetes:core/v1:Namespace") managed.set(meta(r).name ?? r.name, true);
      else if (r.type === "kubernetes:core/v1:ServiceAccountPatch" && meta(r).name === "default") {
        const ns = meta(r).namespace ?? "default";
        if (!managed.has(ns)) managed.set(ns, false);
      }
    }
    for (const [name, egress] of managed) {
      const spec = denies.get(name);
      if (spec === undefined) {
        report(
          `namespace ${name} has no hardened-rke2-default-deny NetworkPolicy (CIS ${stableCisId("namespaceNetworkPolicies")})`,
        );
        continue;
      }
      const gap = denyGap(spec, egress);
      if (gap)
        report(
          `namespace ${name}: hardened-rke2-default-deny ${gap}; restore it as rendered (CIS ${stableCisId("namespaceNetworkPolicies")})`,
        );
    }
  },
};

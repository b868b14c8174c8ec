// Stack-wide policies: every node is hardened before RKE2 starts, the server count is odd, and every namespace the
// stack manages has its default-deny NetworkPolicy.
import { stableCisId } from "../../components/spec/cis-catalogue";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { SCRIPT_STEPS } from "../../components/render/node";
import { DISTRIBUTION } from "../../components/spec/distribution";
import { envOf } from "./files";
import { dependsOn, nodeViews } from "./nodes";

export const hardeningBeforeStart: StackValidationPolicy = {
  name: "bootstrap-hardening-before-start",
  description:
    "Every node applies its kernel parameters (and, on servers, the etcd user) before RKE2 starts.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const node of nodeViews(args.resources)) {
      const start = node.steps.get("start");
      // The etcd user only where etcd runs as its own user (RKE2); K3s embeds etcd in its root process.
      const d = DISTRIBUTION[envOf(node.files).DISTRIBUTION === "k3s" ? "k3s" : "rke2"];
      const required = SCRIPT_STEPS.filter(
        (s) =>
          s.beforeStart && (node.role === "server" || !s.servers) && (s.step !== "etcd-user" || d.etcdUser),
      );
      for (const { step } of required) {
        const before = node.steps.get(step);
        if (!before) {
          const refuses = d.hasProfile
            ? "RKE2's CIS profile refuses to start without it"
            : "K3s's kubelet (protect-kernel-defaults) refuses to start without it";
          report(`node ${node.name} has no ${step} step; ${refuses}`, node.urn);
        } else if (start && !dependsOn(start, before.urn)) {
          report(`node ${node.name} starts RKE2 without waiting for its ${step} step`, start.urn);
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
    for (const node of nodeViews(args.resources)) {
      // fips: true reaches each node's env file (FIPS='true'); a stack that says so must keep both checks in order.
      if (envOf(node.files).FIPS !== "true") continue;
      for (const { step, after, before, why } of FIPS_ORDER) {
        const check = node.steps.get(step);
        const prior = node.steps.get(after);
        const next = node.steps.get(before);
        if (!check) {
          report(
            `node ${node.name} sets FIPS but has no ${step} step (it ${why}); the stack says fips: true`,
            node.urn,
          );
        } else if (!prior || !dependsOn(check, prior.urn)) {
          report(`node ${node.name}: its ${step} step does not wait for its ${after} step`, check.urn);
        } else if (next && !dependsOn(next, check.urn)) {
          report(
            `node ${node.name}: its ${before} step does not wait for its ${step} step (it ${why})`,
            next.urn,
          );
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
    const servers = nodeViews(args.resources).filter((n) => n.role === "server").length;
    if (servers > 0 && servers % 2 === 0)
      report(`the stack has ${servers} servers; etcd needs an odd count (1, 3, 5 or 7)`);
  },
};

/** A Kubernetes object the engine hands the pack without properties: in a preview where its provider's kubeconfig is
 * unknown (it comes from this update), the provider is not asked, so the object has no known properties at all. */
const unseen = (r: PolicyResource) => r.type.startsWith("kubernetes:") && Object.keys(r.props).length === 0;

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
    // Not judged yet where the objects cannot be seen: a namespace's policy may be one of them (cannotSeeYet says so).
    if (args.resources.some(unseen)) return;
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

export const cannotSeeYet: StackValidationPolicy = {
  name: "policy-pack-cannot-see-yet",
  description:
    "Says what this preview does not let the pack see yet (neither a pass nor a failure): nodes judged by their plan, Kubernetes objects without properties.",
  enforcementLevel: "advisory",
  validateStack: (args, report) => {
    const planned = nodeViews(args.resources).filter((n) => n.from === "plan");
    if (planned.length > 0)
      report(
        `${planned.length} node(s) (${planned
          .map((n) => n.name)
          .sort()
          .join(
            ", ",
          )}) judged by their plan, the offline render: their files are computed during this update (a generated secret, an address not known yet); the node policies judge the files themselves on the next preview`,
      );
    const objects = args.resources.filter(unseen);
    if (objects.length > 0)
      report(
        `${objects.length} Kubernetes object(s) not judged by k8s-namespace-default-deny: their provider's kubeconfig comes from this update, so the engine gives them no properties; they are judged on the next preview (the resource policies judged their inputs)`,
      );
  },
};

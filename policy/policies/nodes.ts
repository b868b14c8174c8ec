// The pack's view of the cluster's nodes, as a stack policy sees them: each node is the product's NodeBootstrap
// component, its steps are that component's children (found through their parent, not their names), and its files
// are what the files step sends, or, while that is unknown, the node's plan.
//
// On a stack's first preview the files step's input is unknown: it carries the generated token, and on AWS the
// instances' addresses. The engine hands the pack what is known, so node policies judging only that input would judge
// nothing and say nothing. The component's `plan` output is the node's offline render (placeholders for secrets and
// for addresses not known yet), known at every preview; the node policies judge it, and `cannotSeeYet` says so.
import type { PolicyResource } from "@pulumi/policy";
import type { FileRecord } from "../../components/render/records";
import { decodeFiles, envOf } from "./files";

/** The product's component for one node's bootstrap (components/bootstrap/node.ts). */
export const NODE_COMPONENT = "rke2:bootstrap:NodeBootstrap";

export interface NodeView {
  /** The component's name: `<cluster>-<node>`. */
  name: string;
  role: string;
  files: Map<string, FileRecord>;
  /** Where `files` comes from: the files step's input, or the plan while that input is unknown. */
  from: "files step" | "plan";
  /** The node's steps by step name (`files`, `sysctl`, ..., `ready`). */
  steps: Map<string, PolicyResource>;
  /** The resource a violation is reported on: the files step when there is one, else the component. */
  urn: string;
}

/** A value read through the policy server's proxy, or undefined when it is unknown in this preview. The proxy throws
 * its UnknownValueError (an internal class of @pulumi/policy, so matched by name) on reading an unknown value. */
export function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof Error && e.constructor.name === "UnknownValueError") return undefined;
    throw e;
  }
}

export function nodeViews(resources: PolicyResource[]): NodeView[] {
  const children = new Map<string, PolicyResource[]>();
  for (const r of resources) {
    const parent = r.parent?.urn;
    if (parent) children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  return resources
    .filter((r) => r.type === NODE_COMPONENT)
    .map((c) => {
      const steps = new Map(
        (children.get(c.urn) ?? [])
          .filter((r) => r.name.startsWith(`${c.name}-`))
          .map((r) => [r.name.slice(c.name.length + 1), r]),
      );
      const filesStep = steps.get("files");
      // The files step always sends records. In a preview where its input is unknown, the command provider's Check
      // answers with an empty string (FACTS.md §5), which the engine passes on: empty is "not known yet" too.
      const read = known(() => filesStep?.props.stdin as unknown);
      const stdin = typeof read === "string" && read !== "" ? read : undefined;
      const plan = known(() => c.props.plan as unknown);
      const files = decodeFiles(stdin ?? plan);
      return {
        name: c.name,
        role: envOf(files).ROLE ?? "unknown",
        files,
        from: stdin !== undefined ? "files step" : "plan",
        steps,
        urn: filesStep?.urn ?? c.urn,
      } satisfies NodeView;
    });
}

/** True when `r` depends, directly or through other resources, on the resource with URN `urn`. */
export function dependsOn(r: PolicyResource, urn: string, seen = new Set<string>()): boolean {
  for (const d of r.dependencies) {
    if (d.urn === urn) return true;
    if (!seen.has(d.urn)) {
      seen.add(d.urn);
      if (dependsOn(d, urn, seen)) return true;
    }
  }
  return false;
}

// Runs CrossGuard policies the way the policy server does: props behind the unknown-checking proxy (an unknown value
// during preview is not a violation), secrets unpacked, stack resources linked by their dependencies.
import type {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
  Policies,
} from "@pulumi/policy";
import * as policySdk from "@pulumi/policy";
import { UNKNOWN as WIRE_UNKNOWN, unwrap, type Recorded } from "./program";

// The policy server's own unknown-value proxy: exported at runtime, its types are marked internal.
const { unknownCheckingProxy, UnknownValueError } = policySdk as unknown as {
  unknownCheckingProxy: <T>(props: T) => T;
  UnknownValueError: new (...args: unknown[]) => Error;
};

export interface Fixture {
  type: string;
  name: string;
  props: Record<string, any>;
  dependsOn?: string[];
  /** The name of the fixture this one is a child of (a node's steps are children of its component). */
  parent?: string;
}

/** The engine's marker for a value not known until the update (policy/proxy.js). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function deepUnwrap(value: unknown): any {
  const v = unwrap(value);
  if (Array.isArray(v)) return v.map(deepUnwrap);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepUnwrap(x)]));
  return v;
}

export function fromRecorded(resources: Recorded[]): Fixture[] {
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    // A component's properties, to the engine, are the outputs it registered.
    props: deepUnwrap(r.registeredOutputs ?? r.inputs),
    dependsOn: r.dependsOn,
    parent: r.parent,
  }));
}

/** True when a provider's recorded configuration holds a value not known yet (e.g. a kubeconfig read by this run). */
function configUnknown(provider: Recorded | undefined): boolean {
  const wire = (provider?.wire ?? {}) as Record<string, unknown>;
  return Object.values(wire).some((v) => unwrap(v) === WIRE_UNKNOWN);
}

/**
 * A recorded preview as the engine hands it to stack policies (step_generator.go, AnalyzeResources: "AnalyzeStack is
 * called on the final outputs of each resource"): a custom resource's outputs, which in a preview are its inputs as
 * sent (unknowns included, as the policy server's unknown marker, except a secret unknown `stdin`, which the command
 * provider's Check turns into an empty string); a component's registered outputs; and no
 * properties at all for a resource whose provider's configuration is unknown, since the engine cannot ask that
 * provider (what a first preview of this stack showed for its Kubernetes objects, issue #18).
 */
export function asStackPoliciesSeeIt(resources: Recorded[]): Fixture[] {
  const byName = new Map(resources.map((r) => [r.name, r]));
  // A provider reference is `<urn>::<id>`; the resource's name ends the URN.
  const providerOf = (r: Recorded) =>
    byName.get(r.provider.slice(0, r.provider.lastIndexOf("::")).split("::").pop() ?? "");
  return resources.map((r) => ({
    type: r.type,
    name: r.name,
    props:
      r.provider && configUnknown(providerOf(r))
        ? {}
        : r.type.startsWith("command:remote:") &&
            unwrap((r.wire as Record<string, unknown>).stdin) === WIRE_UNKNOWN
          ? // The command provider's Check answers a secret unknown `stdin` with an empty secret string (FACTS.md §5).
            { ...(deepUnwrap(r.wire) as Record<string, unknown>), stdin: "" }
          : deepUnwrap(r.registeredOutputs ?? r.wire),
    dependsOn: r.dependsOn,
    parent: r.parent,
  }));
}

const isStack = (p: Policies[number]): p is StackValidationPolicy => "validateStack" in p;

/** Violations of one resource policy; "unknown" when the policy could not run because a value is unknown. */
export async function checkResource(
  policy: ResourceValidationPolicy,
  r: Fixture,
  config: Record<string, unknown> = {},
): Promise<string[]> {
  const violations: string[] = [];
  const validations = Array.isArray(policy.validateResource)
    ? policy.validateResource
    : policy.validateResource
      ? [policy.validateResource]
      : [];
  const defaults = Object.fromEntries(
    Object.entries(policy.configSchema?.properties ?? {}).map(([k, s]) => [
      k,
      (s as { default?: unknown }).default,
    ]),
  );
  for (const validate of validations) {
    try {
      await validate(
        {
          type: r.type,
          name: r.name,
          urn: `urn:pulumi:test::hardened-rke2::${r.type}::${r.name}`,
          props: unknownCheckingProxy(r.props),
          getConfig: <T extends object>() => ({ ...defaults, ...config }) as T,
        } as any,
        (message) => violations.push(message),
      );
    } catch (e) {
      if (e instanceof UnknownValueError) return ["unknown"];
      throw e;
    }
  }
  return violations;
}

export async function checkStack(policy: StackValidationPolicy, fixtures: Fixture[]): Promise<string[]> {
  const byName = new Map<string, PolicyResource>();
  const resources = fixtures.map((f) => {
    const r = {
      type: f.type,
      name: f.name,
      urn: `urn:${f.type}::${f.name}`,
      // As the policy server hands them over: behind the unknown-checking proxy.
      props: unknownCheckingProxy(f.props),
      dependencies: [] as PolicyResource[],
    } as unknown as PolicyResource;
    byName.set(f.name, r);
    return r;
  });
  fixtures.forEach((f, i) => {
    if (f.parent) resources[i].parent = byName.get(f.parent);
    for (const d of f.dependsOn ?? []) {
      const dep = byName.get(d);
      if (dep) resources[i].dependencies.push(dep);
    }
  });
  const violations: string[] = [];
  await policy.validateStack({ resources } as any, (message) => violations.push(message));
  return violations;
}

/** Every violation of the pack over a set of resources, as "<policy>: <message>". */
export async function checkPack(
  policies: Policies,
  fixtures: Fixture[],
  config: Record<string, Record<string, unknown>> = {},
  /** What the stack policies see, when it differs from the resources' inputs (a preview: see asStackPoliciesSeeIt). */
  stackView: Fixture[] = fixtures,
): Promise<string[]> {
  const out: string[] = [];
  for (const p of policies) {
    if (isStack(p)) {
      for (const v of await checkStack(p, stackView)) out.push(`${p.name}: ${v}`);
    } else {
      for (const f of fixtures) {
        for (const v of await checkResource(p, f, config[p.name]))
          if (v !== "unknown") out.push(`${p.name}: ${v}`);
      }
    }
  }
  return out;
}

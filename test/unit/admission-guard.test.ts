// The admission guard's CEL expression evaluated (with @bufbuild/cel, a conformant CEL evaluator) against pods it
// must admit and pods it must refuse. It cannot prove kube-apiserver's CEL environment agrees; the end-to-end run
// against a real API server does.
import { run } from "@bufbuild/cel";
import { GUARD_EXPRESSION, renderClusterObjects } from "../../components/render/kube";
import { existingConfig, spec } from "../helpers/spec";

/** CEL maps are JS Maps; objects nest. */
function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toCel(v)]));
  }
  return value;
}

const pod = (spec: Record<string, unknown>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p" },
  spec: { containers: [{ name: "c", image: "x" }], ...spec },
});
const admits = (p: unknown) => run(GUARD_EXPRESSION, { object: toCel(p) as Map<string, never> });

describe("default ServiceAccount token guard (CIS 5.1.5)", () => {
  it.each([
    ["a dedicated ServiceAccount", { serviceAccountName: "app" }],
    ["the default ServiceAccount with automount off", { automountServiceAccountToken: false }],
    [
      "the default ServiceAccount by name with automount off",
      { serviceAccountName: "default", automountServiceAccountToken: false },
    ],
    [
      "a dedicated ServiceAccount with automount on",
      { serviceAccountName: "app", automountServiceAccountToken: true },
    ],
  ])("admits a pod using %s", (_what, podSpec) => {
    expect(admits(pod(podSpec))).toBe(true);
  });

  it.each([
    ["no ServiceAccount field (the default one) and no automount field", {}],
    ["the default ServiceAccount by name", { serviceAccountName: "default" }],
    ["an empty ServiceAccount name", { serviceAccountName: "" }],
    ["the default ServiceAccount with automount explicitly on", { automountServiceAccountToken: true }],
  ])("refuses a pod with %s", (_what, podSpec) => {
    expect(admits(pod(podSpec))).toBe(false);
  });

  it("binds to every namespace except the exempt, built-in and managed ones, in deny mode by default", () => {
    const objects = renderClusterObjects(spec({ ...existingConfig(), namespaces: [{ name: "shop" }] }));
    const binding = objects.find((o) => o.object.kind === "ValidatingAdmissionPolicyBinding")?.object as any;
    expect(binding.spec.validationActions).toEqual(["Deny"]);
    expect(binding.spec.matchResources.namespaceSelector.matchExpressions).toEqual([
      {
        key: "kubernetes.io/metadata.name",
        operator: "NotIn",
        values: ["kube-system", "default", "kube-public", "kube-node-lease", "shop"],
      },
    ]);
  });

  it("warns instead in warn mode, and is absent when turned off or before Kubernetes 1.30", () => {
    const warn = renderClusterObjects(spec({ ...existingConfig(), admissionGuard: { mode: "warn" } }));
    expect(
      (warn.find((o) => o.object.kind === "ValidatingAdmissionPolicyBinding")?.object as any).spec
        .validationActions,
    ).toEqual(["Warn"]);
    const kinds = (raw: Record<string, unknown>) => renderClusterObjects(spec(raw)).map((o) => o.object.kind);
    expect(kinds({ ...existingConfig(), admissionGuard: { enabled: false } })).not.toContain(
      "ValidatingAdmissionPolicy",
    );
    expect(kinds({ ...existingConfig(), version: "v1.29.15+rke2r1" })).not.toContain(
      "ValidatingAdmissionPolicy",
    );
  });
});

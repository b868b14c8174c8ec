// The in-cluster hardening as the real program builds it (dev stack), under mocks: one explicit provider built from
// the kubeconfig, objects per namespace, patches for what the cluster owns, and ordering after cluster readiness.
import * as pulumi from "@pulumi/pulumi";
import { runProgram, isSecretValue, unwrap, type ProgramRun } from "../helpers/program";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev");
});

const k8sTypes = (r: ProgramRun) => r.resources.filter((x) => x.type.startsWith("kubernetes:"));

describe("in-cluster hardening (dev stack)", () => {
  it("uses one provider built from the stack's secret kubeconfig, after every node is ready", () => {
    const [provider, ...others] = run.ofType("pulumi:providers:kubernetes");
    expect(others).toEqual([]);
    expect(isSecretValue(provider.inputs.kubeconfig)).toBe(true);
    // The address the operator's machine reaches: dev's server has a public address (the instance's publicIp).
    const server = run.byName("dev-nodes-server-0").outputs as { publicIp: string };
    expect(unwrap(provider.inputs.kubeconfig)).toContain(`server: https://${server.publicIp}:6443\n`);
    expect(provider.dependsOn).toEqual(expect.arrayContaining(["dev-server-0-start", "dev-workers-0-start"]));
  });

  it("applies exactly the rendered objects, cluster-owned ServiceAccounts as patches", () => {
    expect(
      k8sTypes(run)
        .map((r) => `${r.type} ${r.name}`)
        .sort(),
    ).toEqual(
      [
        "kubernetes:core/v1:Namespace dev-hardening-namespace-demo",
        ...["default", "kube-system", "kube-public", "kube-node-lease", "demo"].map(
          (ns) => `kubernetes:core/v1:ServiceAccountPatch dev-hardening-serviceaccount-${ns}-default`,
        ),
        ...["default", "kube-system", "kube-public", "kube-node-lease", "demo"].flatMap((ns) =>
          ["default-deny", "allow-same-namespace"].map(
            (p) =>
              `kubernetes:networking.k8s.io/v1:NetworkPolicy dev-hardening-networkpolicy-${ns}-hardened-rke2-${p}`,
          ),
        ),
        ...["allow-dns", "allow-metrics-server", "allow-ingress-controller"].map(
          (p) =>
            `kubernetes:networking.k8s.io/v1:NetworkPolicy dev-hardening-networkpolicy-kube-system-hardened-rke2-${p}`,
        ),
        "kubernetes:networking.k8s.io/v1:NetworkPolicy dev-hardening-networkpolicy-demo-hardened-rke2-allow-dns",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy dev-hardening-validatingadmissionpolicy-hardened-rke2-default-sa-token",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding dev-hardening-validatingadmissionpolicybinding-hardened-rke2-default-sa-token",
      ].sort(),
    );
    const sa = run.byName("dev-hardening-serviceaccount-kube-system-default");
    expect(sa.inputs).toMatchObject({
      metadata: {
        name: "default",
        namespace: "kube-system",
        annotations: { "pulumi.com/patchForce": "true" },
      },
      automountServiceAccountToken: false,
    });
    // No plain (owned) ServiceAccount: destroy must never delete the cluster's own.
    expect(run.resources.filter((r) => r.type === "kubernetes:core/v1:ServiceAccount")).toEqual([]);
  });

  it("orders objects after readiness, namespaced ones after their namespace, the binding after its policy", () => {
    for (const r of k8sTypes(run))
      expect(`${r.name}: ${r.dependsOn.includes("dev-server-0-start")}`).toBe(`${r.name}: true`);
    expect(run.byName("dev-hardening-networkpolicy-demo-hardened-rke2-default-deny").dependsOn).toContain(
      "dev-hardening-namespace-demo",
    );
    expect(run.byName("dev-hardening-serviceaccount-demo-default").dependsOn).toContain(
      "dev-hardening-namespace-demo",
    );
    expect(
      run.byName("dev-hardening-validatingadmissionpolicybinding-hardened-rke2-default-sa-token").dependsOn,
    ).toContain("dev-hardening-validatingadmissionpolicy-hardened-rke2-default-sa-token");
  });

  it("verifies after everything is applied, with the kubeconfig only on stdin", () => {
    const v = run.byName("dev-hardening-verify");
    expect(v.type).toBe("command:local:Command");
    expect(v.inputs.create).toBe("./node_modules/.bin/tsx cli/verify.ts");
    expect(isSecretValue(v.inputs.stdin)).toBe(true);
    const expected = JSON.parse(unwrap(v.inputs.environment).HARDENED_RKE2_EXPECT);
    expect({ ...expected, networkPolicies: [...expected.networkPolicies].sort() }).toEqual({
      managedNamespaces: ["demo"],
      guardEnabled: true,
      guardExempt: ["kube-system", "default", "kube-public", "kube-node-lease", "demo"],
      // Every NetworkPolicy the stack applies, each looked for by name after the update.
      networkPolicies: run
        .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .map((r) => `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`)
        .sort(),
      // dev does not ask for FIPS: no node owes a FIPS line.
      fipsNodes: [],
      benchmark: "rke2-cis-1.12",
      // Each node owes one host-check line per control of its table: 83 on the server, 20 on the agent.
      hostCheckNodes: [
        { name: "server-0", ids: expect.arrayContaining(["1.1.1", "1.2.16", "2.1", "4.2.12", "1.1.x"]) },
        { name: "workers-0", ids: expect.arrayContaining(["4.1.5", "4.2.12", "1.1.x"]) },
      ],
    });
    expect(expected.hostCheckNodes.map((n: { ids: string[] }) => n.ids.length)).toEqual([83, 20]);
    // The host checks reach the verification from each node's cis step.
    expect(
      Object.keys(JSON.parse(unwrap(v.inputs.environment).HARDENED_RKE2_HOST_CHECKS ?? "{}")).sort(),
    ).toEqual(["server-0", "workers-0"]);
    expect(unwrap(v.inputs.environment).HARDENED_RKE2_FIPS_EVIDENCE).toBe("{}");
    expect(unwrap(v.inputs.environment).HARDENED_RKE2_VERIFY_MODE).toBe("enforce");
    expect(v.dependsOn).toEqual(expect.arrayContaining(k8sTypes(run).map((r) => r.name)));
    expect(run.byName("dev-audit-sample").dependsOn).toEqual(
      expect.arrayContaining(k8sTypes(run).map((r) => r.name)),
    );
    expect(pulumi.Output.isInstance(run.outputs.cisVerification)).toBe(true);
  });
});

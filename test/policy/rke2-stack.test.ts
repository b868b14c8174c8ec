// The node and stack policies over fixtures built from real renders: compliant as rendered, then one rule broken at
// a time.
import { stringify, parse } from "yaml";
import { fileRecords } from "../../components/bootstrap/remote";
import { renderBundle } from "../../components/render/bundle";
import type { NodeFile } from "../../components/render/files";
import { auditLogging, cisProfile, noSecretInCommandText } from "../../policy/policies/rke2";
import { NODE_COMPONENT } from "../../policy/policies/nodes";
import {
  cannotSeeYet,
  fipsChecks,
  hardeningBeforeStart,
  namespaceNetworkPolicy,
  oddServerCount,
} from "../../policy/policies/stack";
import { checkResource, checkStack, UNKNOWN, type Fixture } from "../helpers/policy";
import { existingConfig, spec } from "../helpers/spec";

const inputs = { secret: () => "token", file: () => "", secretFile: () => "" };

type Edit = (path: string, content: string) => string;

/**
 * Every node of a rendered stack as the program registers it: its NodeBootstrap component (the plan, the offline
 * render, as its output) with its steps as children, chained as the program chains them. `edit` changes the files of
 * the node named `only` (every node when unset), in what its files step sends and in its plan; `firstPreview` leaves
 * the files step's input unknown, as a stack's first preview does; `config` changes the stack config first.
 */
function stackFixtures(
  edit: Edit = (_p, c) => c,
  options: { only?: string; firstPreview?: boolean; config?: (c: Record<string, unknown>) => void } = {},
): Fixture[] {
  const out: Fixture[] = [];
  const config = existingConfig();
  options.config?.(config);
  for (const b of renderBundle(spec(config), inputs).nodes) {
    const node = `test-${b.node.name}`;
    const change = !options.only || options.only === b.node.name;
    const files: NodeFile[] = [...b.files, ...b.scripts].map((f) => ({
      ...f,
      content: change ? edit(f.path, f.content) : f.content,
    }));
    out.push({
      type: NODE_COMPONENT,
      name: node,
      props: { plan: fileRecords(files.filter((f) => b.files.some((x) => x.path === f.path))) },
    });
    out.push({
      type: "command:remote:Command",
      name: `${node}-files`,
      props: { stdin: options.firstPreview ? UNKNOWN : fileRecords(files), create: "static" },
      parent: node,
    });
    let previous = `${node}-files`;
    for (const s of b.scripts) {
      out.push({
        type: "command:remote:Command",
        name: `${node}-${s.step}`,
        props: { create: "static" },
        dependsOn: [previous],
        parent: node,
      });
      previous = `${node}-${s.step}`;
    }
  }
  return out;
}

const editConfig = (change: (c: Record<string, unknown>) => void) => (path: string, content: string) => {
  if (path !== "/etc/rancher/rke2/config.yaml") return content;
  const c = parse(content) as Record<string, unknown>;
  change(c);
  return stringify(c);
};

describe("rke2-cis-profile", () => {
  it("passes every rendered node", async () => {
    expect(await checkStack(cisProfile, stackFixtures())).toEqual([]);
  });
  it("refuses a missing profile and a profile the version refuses", async () => {
    const removed = stackFixtures(
      editConfig((c) => delete c.profile),
      { only: "s1" },
    );
    expect(await checkStack(cisProfile, removed)).toEqual([
      "node test-s1: profile is undefined; RKE2 v1.33.5+rke2r1 needs one of: cis (CIS)",
    ]);
    const old = stackFixtures(
      editConfig((c) => (c.profile = "cis-1.23")),
      { only: "a1" },
    );
    expect(await checkStack(cisProfile, old)).toEqual([
      'node test-a1: profile is "cis-1.23"; RKE2 v1.33.5+rke2r1 needs one of: cis (CIS)',
    ]);
  });
  it("refuses protect-kernel-defaults turned off", async () => {
    const off = stackFixtures(
      editConfig((c) => (c["protect-kernel-defaults"] = false)),
      { only: "s2" },
    );
    expect(await checkStack(cisProfile, off)).toEqual([
      "node test-s2: protect-kernel-defaults is not true; the CIS profile requires it (CIS 4.2.6 in older benchmarks)",
    ]);
  });
});

describe("rke2-audit-logging", () => {
  it("passes rendered servers and ignores agents", async () => {
    expect(await checkStack(auditLogging, stackFixtures())).toEqual([]);
    const agentOnly = stackFixtures(
      editConfig((c) => delete c["audit-policy-file"]),
      { only: "a1" },
    );
    expect(await checkStack(auditLogging, agentOnly)).toEqual([]);
  });
  it("refuses weakened audit flags", async () => {
    const weak = stackFixtures(
      editConfig(
        (c) =>
          (c["kube-apiserver-arg"] = [
            "audit-log-maxage=7",
            "audit-log-maxbackup=10",
            "audit-log-maxsize=100",
          ]),
      ),
      { only: "s1" },
    );
    expect(await checkStack(auditLogging, weak)).toEqual([
      "node test-s1: kube-apiserver-arg has no audit-log-path (CIS 1.2.16)",
      "node test-s1: audit-log-maxage is 7; it must be 30 or more (CIS 1.2.17)",
    ]);
    const noFile = stackFixtures(
      editConfig((c) => delete c["audit-policy-file"]),
      { only: "s1" },
    );
    expect(await checkStack(auditLogging, noFile)).toEqual([
      "node test-s1: audit-policy-file is undefined; point it at /etc/rancher/rke2/audit-policy.yaml (CIS 3.2.1)",
    ]);
  });
  it("refuses an audit policy that logs nothing", async () => {
    const empty = (path: string, content: string) =>
      path === "/etc/rancher/rke2/audit-policy.yaml"
        ? "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n"
        : content;
    expect(await checkStack(auditLogging, stackFixtures(empty, { only: "s1" }))).toEqual([
      "node test-s1: the audit policy logs nothing; add a rule at Metadata or above (CIS 3.2.1)",
    ]);
  });
});

describe("a first preview: the files step's input unknown", () => {
  it("judges each node by its plan and says so, neither passing nor failing what it cannot see", async () => {
    const preview = stackFixtures(undefined, { firstPreview: true });
    expect(await checkStack(cisProfile, preview)).toEqual([]);
    expect(await checkStack(cannotSeeYet, preview)).toEqual([
      "4 node(s) (test-a1, test-s1, test-s2, test-s3) judged by their plan, the offline render: their files are computed during this update (a generated secret, an address not known yet); the node policies judge the files themselves on the next preview",
    ]);
    const weak = stackFixtures(
      editConfig((c) => delete c.profile),
      { only: "s2", firstPreview: true },
    );
    expect(await checkStack(cisProfile, weak)).toEqual([
      "node test-s2: profile is undefined; RKE2 v1.33.5+rke2r1 needs one of: cis (CIS)",
    ]);
  });
  it("judges what the files step sends once it is known, over the plan", async () => {
    // The plan as rendered, what is sent weakened (a transformation after the render, say).
    const sent = stackFixtures(
      editConfig((c) => delete c.profile),
      { only: "s1" },
    );
    const planned = stackFixtures();
    const mixed = sent.map((f) => (f.type === NODE_COMPONENT ? planned.find((x) => x.name === f.name)! : f));
    expect(await checkStack(cisProfile, mixed)).toEqual([
      "node test-s1: profile is undefined; RKE2 v1.33.5+rke2r1 needs one of: cis (CIS)",
    ]);
    expect(await checkStack(cannotSeeYet, mixed)).toEqual([]);
  });
  it("leaves Kubernetes objects without properties unjudged and says so", async () => {
    const ns: Fixture = { type: "kubernetes:core/v1:Namespace", name: "ns-shop", props: {} };
    const np: Fixture = { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", name: "np-shop", props: {} };
    expect(await checkStack(namespaceNetworkPolicy, [ns, np])).toEqual([]);
    expect(await checkStack(cannotSeeYet, [ns, np])).toEqual([
      "2 Kubernetes object(s) not judged by k8s-namespace-default-deny: their provider's kubeconfig comes from this update, so the engine gives them no properties; they are judged on the next preview (the resource policies judged their inputs)",
    ]);
  });
});

describe("no-secret-in-command-text", () => {
  it("refuses key material in command text and a logged kubeconfig read", async () => {
    const ok: Fixture = {
      type: "command:remote:Command",
      name: "c-kubeconfig",
      props: { create: "cat x", logging: "none" },
    };
    expect(await checkResource(noSecretInCommandText, ok)).toEqual([]);
    expect(await checkResource(noSecretInCommandText, { ...ok, props: { create: "cat x" } })).toEqual([
      'c-kubeconfig: reads the admin kubeconfig with logging "stdoutAndStderr"; set logging: "none"',
    ]);
    const leaky: Fixture = {
      type: "command:remote:Command",
      name: "c-x",
      props: { create: "echo '-----BEGIN OPENSSH PRIVATE KEY-----'" },
    };
    expect(await checkResource(noSecretInCommandText, leaky)).toEqual([
      "c-x: the create command text holds key material; send secrets as files over stdin instead",
    ]);
  });
});

describe("stack policies", () => {
  it("pass the rendered stack", async () => {
    for (const p of [hardeningBeforeStart, fipsChecks, oddServerCount, namespaceNetworkPolicy])
      expect(await checkStack(p, stackFixtures())).toEqual([]);
  });
  it("refuse a node whose hardening step is missing or not before the start", async () => {
    const fixtures = stackFixtures().filter((f) => f.name !== "test-s2-etcd-user");
    fixtures.find((f) => f.name === "test-s2-install")!.dependsOn = ["test-s2-sysctl"];
    const reordered = fixtures.map((f) =>
      f.name === "test-a1-start" ? { ...f, dependsOn: ["test-a1-files"] } : f,
    );
    expect(await checkStack(hardeningBeforeStart, reordered)).toEqual([
      "node test-s2 has no etcd-user step; RKE2's CIS profile refuses to start without it",
      "node test-a1 starts RKE2 without waiting for its sysctl step",
    ]);
  });
  it("refuse a FIPS stack whose FIPS check is missing or not around the install", async () => {
    const fips = () => stackFixtures(undefined, { config: (c) => (c.fips = true) });
    expect(await checkStack(fipsChecks, fips())).toEqual([]);
    // Weakened: one node's kernel check dropped (its install chained straight after etcd-user), another's module
    // check left in place but the start no longer waiting for it.
    const weakened = fips()
      .filter((f) => f.name !== "test-s2-fips-kernel")
      .map((f) => {
        if (f.name === "test-s2-install") return { ...f, dependsOn: ["test-s2-etcd-user"] };
        if (f.name === "test-a1-start") return { ...f, dependsOn: ["test-a1-install"] };
        return f;
      });
    expect(await checkStack(fipsChecks, weakened)).toEqual([
      "node test-s2 sets FIPS but has no fips-kernel step (it checks the kernel's FIPS mode); the stack says fips: true",
      "node test-a1: its start step does not wait for its fips-module step (it checks the installed binary's crypto module)",
    ]);
    // A stack without FIPS needs no FIPS step.
    expect(await checkStack(fipsChecks, stackFixtures())).toEqual([]);
  });
  it("refuse an even server count", async () => {
    const fixtures = stackFixtures().filter((f) => f.name !== "test-s3" && !f.name.startsWith("test-s3-"));
    expect(await checkStack(oddServerCount, fixtures)).toEqual([
      "the stack has 2 servers; etcd needs an odd count (1, 3, 5 or 7)",
    ]);
  });
  it("refuse a managed namespace without its default-deny policy, or with one that lets traffic through", async () => {
    const ns: Fixture = {
      type: "kubernetes:core/v1:Namespace",
      name: "ns-shop",
      props: { metadata: { name: "shop" } },
    };
    const saPatch: Fixture = {
      type: "kubernetes:core/v1:ServiceAccountPatch",
      name: "sa-kube-system",
      props: { metadata: { name: "default", namespace: "kube-system" }, automountServiceAccountToken: false },
    };
    const deny = (namespace: string, spec: Record<string, unknown>): Fixture => ({
      type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      name: `np-${namespace}`,
      props: { metadata: { name: "hardened-rke2-default-deny", namespace }, spec },
    });
    const both = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };
    const ingressOnly = { podSelector: {}, policyTypes: ["Ingress"] };
    expect(
      await checkStack(namespaceNetworkPolicy, [
        ns,
        saPatch,
        deny("shop", both),
        deny("kube-system", ingressOnly),
      ]),
    ).toEqual([]);
    expect(await checkStack(namespaceNetworkPolicy, [ns, saPatch, deny("shop", both)])).toEqual([
      "namespace kube-system has no hardened-rke2-default-deny NetworkPolicy (CIS 5.3.2)",
    ]);
    expect(await checkStack(namespaceNetworkPolicy, [ns])).toEqual([
      "namespace shop has no hardened-rke2-default-deny NetworkPolicy (CIS 5.3.2)",
    ]);
    expect(await checkStack(namespaceNetworkPolicy, [ns, deny("shop", ingressOnly)])).toEqual([
      "namespace shop: hardened-rke2-default-deny does not deny all egress; restore it as rendered (CIS 5.3.2)",
    ]);
    expect(
      await checkStack(namespaceNetworkPolicy, [
        ns,
        deny("shop", { ...both, podSelector: { matchLabels: { app: "web" } } }),
      ]),
    ).toEqual([
      "namespace shop: hardened-rke2-default-deny selects only some pods; restore it as rendered (CIS 5.3.2)",
    ]);
    expect(
      await checkStack(namespaceNetworkPolicy, [ns, deny("shop", { ...both, ingress: [{ from: [] }] })]),
    ).toEqual([
      "namespace shop: hardened-rke2-default-deny does not deny all ingress; restore it as rendered (CIS 5.3.2)",
    ]);
  });
});

// The same rules over a K3s stack (distribution: k3s): compliant as rendered, then one hardening-guide item removed
// at a time from K3s's own config file.
describe("the policy pack on a K3s stack", () => {
  const k3s = (c: Record<string, unknown>) => {
    c.distribution = "k3s";
    c.version = "v1.33.5+k3s1";
  };
  const editK3s = (change: (c: Record<string, unknown>) => void) => (path: string, content: string) => {
    if (path !== "/etc/rancher/k3s/config.yaml") return content;
    const c = parse(content) as Record<string, unknown>;
    change(c);
    return stringify(c);
  };
  const fixtures = (edit?: Edit) => stackFixtures(edit, { only: "s1", config: k3s });

  it("passes every rendered K3s node", async () => {
    for (const policy of [cisProfile, auditLogging, hardeningBeforeStart]) {
      expect([policy.name, await checkStack(policy, fixtures())]).toEqual([policy.name, []]);
    }
  });

  it("refuses secrets encryption off, disable-network-policy and protect-kernel-defaults off", async () => {
    const broken = fixtures(
      editK3s((c) => {
        c["secrets-encryption"] = false;
        c["disable-network-policy"] = true;
        c["protect-kernel-defaults"] = false;
      }),
    );
    expect(await checkStack(cisProfile, broken)).toEqual([
      "node test-s1: secrets-encryption is not true; K3s leaves Secrets unencrypted (CIS 1.2.27–1.2.28)",
      "node test-s1: disable-network-policy is true; nothing would enforce NetworkPolicy (CIS 5.3.1)",
      "node test-s1: protect-kernel-defaults is not true; the K3s hardening guide sets it (CIS 4.2.6 in older benchmarks)",
    ]);
  });

  it("refuses a K3s server whose kube-apiserver-arg lost the audit policy file and the audit log path", async () => {
    const broken = fixtures(
      editK3s((c) => {
        c["kube-apiserver-arg"] = (c["kube-apiserver-arg"] as string[]).filter(
          (a) => !a.startsWith("audit-policy-file=") && !a.startsWith("audit-log-path="),
        );
      }),
    );
    expect(await checkStack(auditLogging, broken)).toEqual([
      "node test-s1: audit-policy-file is undefined; point it at /var/lib/rancher/k3s/server/audit.yaml (CIS 3.2.1)",
      "node test-s1: kube-apiserver-arg has no audit-log-path (CIS 1.2.16)",
    ]);
  });

  it("refuses a K3s node that starts without applying its kernel parameters", async () => {
    const without = fixtures().filter((f) => f.name !== "test-s1-sysctl");
    expect(await checkStack(hardeningBeforeStart, without)).toEqual([
      "node test-s1 has no sysctl step; K3s's kubelet (protect-kernel-defaults) refuses to start without it",
    ]);
  });
});

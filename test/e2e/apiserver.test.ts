// End to end against a real kube-apiserver (v1.33, built from Go modules by e2e/toolchain/build.sh), etcd and
// kube-controller-manager on a test host's first server; two more servers and an agent join it on hosts of their
// own. The product's node scripts harden and install the hosts, and the RKE2 stand-in starts the control plane with
// the audit policy, the Pod Security admission config and the flags of the rendered config.yaml
// (helpers/control-plane.ts). The rendered in-cluster objects are applied by server-side
// apply; then the checks read the cluster back. What it cannot prove: RKE2 itself (no real binary here), and the
// SSH transport (no command provider). The same objects applied by the real Pulumi engine are in
// pulumi-engine.test.ts.
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { parse } from "yaml";
import { gatherFacts } from "../../cli/cis-check";
import { fetchAnswers } from "../../components/hardening/api";
import { hostChecks } from "../../components/hardening/host-checks";
import { formatResults, verifyControls } from "../../components/hardening/verify";
import { GUARD_MESSAGE, renderClusterObjects } from "../../components/render/kube";
import {
  e2eClusterConfig,
  inClusterExpectations,
  startFirstServer,
  until,
  type ControlPlane,
} from "../helpers/control-plane";
import { pidsInRoot } from "../helpers/standin-root";

let cp: ControlPlane;
let spec: ControlPlane["spec"];
const client = () => cp.client();
let AUDIT_LOG = "";
/** The newest audit event, as the stack's verify step reads it from the first server. */
const lastLine = () => fs.readFileSync(AUDIT_LOG, "utf8").trim().split("\n").pop() ?? "";

/** A pod Pod Security "restricted" admits, so only the default-ServiceAccount guard can refuse it. */
function restrictedPod(namespace: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "probe", namespace },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "c",
          image: "registry.invalid/probe:1",
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
      ...extra,
    },
  };
}

beforeAll(async () => {
  cp = await startFirstServer(
    e2eClusterConfig(
      [
        ["s1", "127.0.1.1", "server"],
        ["s2", "127.0.1.11", "server"],
        ["s3", "127.0.1.12", "server"],
        ["a1", "127.0.1.21", "agent"],
      ],
      {
        namespaces: [{ name: "shop" }],
        // An add-on override, so the first server receives a rendered HelmChartConfig (its ports unchanged).
        addons: {
          "rke2-ingress-nginx": { values: { controller: { config: { "ssl-protocols": "TLSv1.3" } } } },
        },
      },
    ),
  );
  spec = cp.spec;
  AUDIT_LOG = cp.auditLog;
  for (const r of renderClusterObjects(spec)) await cp.apply(r.object);
}, 300_000);

afterAll(async () => {
  await cp?.stop();
});

describe("the rendered hardening on a real kube-apiserver", () => {
  it("joins the other servers and the agent through the first server, the etcd user on servers only", () => {
    const line = (root: string) =>
      fs.readFileSync(path.join(root, "var/log/rke2-standin.log"), "utf8").trim();
    const etcdUser = (root: string) =>
      /^etcd:.*$/m.exec(fs.readFileSync(path.join(root, "etc/passwd"), "utf8"))?.[0].split(":")[6] ?? "none";
    const tokenMode = (root: string) =>
      (fs.statSync(path.join(root, "etc/rancher/rke2/cluster-token")).mode & 0o777).toString(8);
    expect(
      [{ name: "s1", role: "server", root: cp.root }, ...cp.joined].map(
        (n) =>
          `${line(n.root).replace(/^\d+ /, "")} etcd-shell=${etcdUser(n.root)} token=${tokenMode(n.root)}`,
      ),
    ).toEqual([
      "start server node=s1 server=<bootstrap> etcd-shell=/usr/sbin/nologin token=600",
      "start server node=s2 server=https://127.0.1.1:9345 etcd-shell=/usr/sbin/nologin token=600",
      "start server node=s3 server=https://127.0.1.1:9345 etcd-shell=/usr/sbin/nologin token=600",
      "start agent node=a1 server=https://127.0.1.1:9345 etcd-shell=none token=600",
    ]);
  });

  it("has every control pass, read back through the API (CIS 5.3.2, 5.1.5, 5.2.2, 3.2.1)", async () => {
    const answers = await fetchAnswers(client(), "");
    const results = verifyControls(inClusterExpectations(spec), {
      ...answers,
      auditLogLine: lastLine(),
    });
    expect(
      formatResults(results)
        .split("\n")
        .map((l) => l.slice(0, 10)),
    ).toEqual(["PASS 5.3.2", "PASS 5.1.5", "PASS 5.2.2", "PASS 3.2.1"]);
    expect(answers.namespaces.sort()).toEqual([
      "default",
      "kube-node-lease",
      "kube-public",
      "kube-system",
      "shop",
    ]);
  });

  it("refuses a privileged pod with Pod Security's message", async () => {
    const r = await client().request("POST", "/api/v1/namespaces/shop/pods?dryRun=All", {
      ...restrictedPod("shop"),
      spec: { containers: [{ name: "c", image: "x", securityContext: { privileged: true } }] },
    });
    expect(`${r.status} ${(r.json as { message: string }).message}`).toMatch(
      /^403 .*violates PodSecurity "restricted:latest"/,
    );
  });

  it("refuses, in a namespace made outside the stack, a pod mounting the default ServiceAccount's token", async () => {
    await client().request("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "outside" },
    });
    const refused = await until("the guard to refuse", 60, async () => {
      const r = await client().request(
        "POST",
        "/api/v1/namespaces/outside/pods?dryRun=All",
        restrictedPod("outside"),
      );
      return r.status === 403 || r.status === 422 ? (r.json as { message: string }).message : undefined;
    });
    expect(refused).toContain(GUARD_MESSAGE);
    const allowed = await client().request(
      "POST",
      "/api/v1/namespaces/outside/pods?dryRun=All",
      restrictedPod("outside", { automountServiceAccountToken: false }),
    );
    expect(allowed.status).toBe(201);
  });

  it("then names the failing control: the outside namespace has no NetworkPolicy", async () => {
    const answers = await fetchAnswers(client(), '{"level":"Metadata"}');
    const [np] = verifyControls(inClusterExpectations(spec), answers);
    expect(np).toEqual({
      key: "namespaceNetworkPolicies",
      id: "5.3.2",
      title: "Every namespace has a NetworkPolicy",
      pass: false,
      detail: "no NetworkPolicy in: outside",
    });
  });

  it("writes audit events for these requests at the policy's level", () => {
    const events = fs
      .readFileSync(AUDIT_LOG, "utf8")
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            level: string;
            verb: string;
            objectRef?: { resource?: string; namespace?: string };
          },
      );
    const podCreates = events.filter((e) => e.verb === "create" && e.objectRef?.resource === "pods");
    expect(podCreates.length).toBeGreaterThan(0);
    expect(new Set(podCreates.map((e) => e.level))).toEqual(new Set(["Metadata"]));
  });

  it("stores a Secret in etcd encrypted with aescbc (secrets-encryption, CIS 1.2.27–1.2.28)", async () => {
    const plain = "e2e-plain-value-for-encryption-at-rest";
    const created = await client().request("POST", "/api/v1/namespaces/shop/secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "at-rest" },
      stringData: { value: plain },
    });
    expect(created.status).toBe(201);
    // etcd's own JSON gateway on the host's address (the stand-in serves etcd on it, as RKE2's etcd listens there), over
    // TLS with the etcd client certificate RKE2 gives the API server.
    const tls = (f: string) => fs.readFileSync(path.join(cp.root, "var/lib/rancher/rke2/server/tls/etcd", f));
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        {
          method: "POST",
          hostname: "127.0.1.1",
          port: 2379,
          path: "/v3/kv/range",
          ca: tls("server-ca.crt"),
          cert: tls("client.crt"),
          key: tls("client.key"),
          agent: false,
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        },
      );
      req.on("timeout", () => req.destroy(new Error("etcd range timed out")));
      req.on("error", reject);
      req.end(JSON.stringify({ key: Buffer.from("/registry/secrets/shop/at-rest").toString("base64") }));
    });
    const kvs = (JSON.parse(body) as { kvs?: { value: string }[] }).kvs ?? [];
    expect(kvs).toHaveLength(1);
    const stored = Buffer.from(kvs[0].value, "base64").toString("latin1");
    expect(stored.startsWith("k8s:enc:aescbc:v1:")).toBe(true);
    expect(stored.includes(plain)).toBe(false);
  });

  it("passes the operator-side checks on the host's processes and files (kube-bench style)", () => {
    const results = hostChecks(spec, gatherFacts(cp.root, "/proc", cp.root));
    process.stdout.write(`${formatResults(results)}\n`);
    expect(results.filter((r) => !r.pass).map((r) => `${r.id} ${r.detail}`)).toEqual([]);
    expect(results.map((r) => r.id)).toEqual([
      "1.2.16",
      "1.2.17",
      "1.2.18",
      "1.2.19",
      "1.2.27–1.2.28",
      "3.2.1",
      "5.2.1",
      "1.3.1",
      "1.1.x",
      "1.1.x",
      "1.1.x",
      "1.1.x",
    ]);
  });

  it("names a failing control for each in-cluster object removed, one at a time", async () => {
    const verdict = async () => {
      return verifyControls(inClusterExpectations(spec), await fetchAnswers(client(), lastLine()))
        .filter((r) => !r.pass)
        .map((r) => `${r.id} ${r.detail}`);
    };
    // The namespace made outside the stack (by an earlier test, or here) gets a policy of its own, as its owner
    // would give it.
    await cp.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "outside" } });
    await cp.apply({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "owner-default-deny", namespace: "outside" },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    });
    expect(await verdict()).toEqual([]);
    // Namespaces are left out: deleting one deletes the objects in it, each of which is removed here on its own.
    const objects = renderClusterObjects(spec)
      .map((r) => r.object)
      .filter((o) => o.kind !== "Namespace");
    const seen: string[] = [];
    for (const o of objects) {
      await cp.remove(o);
      const failed = await verdict();
      seen.push(
        `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}: ${failed.length > 0 ? failed[0].split(" ")[0] : "nothing fails"}`,
      );
      expect(failed).toHaveLength(1);
      expect(failed[0]).toContain(
        o.kind === "ServiceAccount" ? `${o.metadata.namespace} (automount` : o.metadata.name,
      );
      // The default ServiceAccount comes back from the controller manager, possibly while this re-applies it.
      await until(`${o.kind} ${o.metadata.name} re-applied`, 30, async () => (await cp.apply(o), true));
      expect(await verdict()).toEqual([]);
    }
    process.stdout.write(`${seen.join("\n")}\n`);
    expect(seen.filter((l) => l.endsWith("nothing fails"))).toEqual([]);
    expect(seen.length).toBeGreaterThan(20);
  }, 120_000);

  it("accepts the ingress override's rendered HelmChartConfig as the Helm controller's CRD defines it", async () => {
    // RKE2 registers helm.cattle.io/v1 HelmChartConfig through its Helm controller (k3s-io/helm-controller); there is
    // none here, so the test registers the CRD with the fields RKE2's docs use (spec.valuesContent, failurePolicy).
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "helmchartconfigs.helm.cattle.io" },
      spec: {
        group: "helm.cattle.io",
        scope: "Namespaced",
        names: {
          kind: "HelmChartConfig",
          plural: "helmchartconfigs",
          singular: "helmchartconfig",
          listKind: "HelmChartConfigList",
        },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    properties: { valuesContent: { type: "string" }, failurePolicy: { type: "string" } },
                  },
                },
              },
            },
          },
        ],
      },
    };
    const created = await client().request(
      "POST",
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      crd,
    );
    expect([201, 409]).toContain(created.status);
    await until("helmchartconfigs served", 60, async () =>
      (await client().request("GET", "/apis/helm.cattle.io/v1/namespaces/kube-system/helmchartconfigs"))
        .status === 200
        ? true
        : undefined,
    );
    // What the first server received, as the files step wrote it into RKE2's manifests folder.
    const file = path.join(cp.root, "var/lib/rancher/rke2/server/manifests/rke2-ingress-nginx-config.yaml");
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("600");
    const rendered = parse(fs.readFileSync(file, "utf8")) as { metadata: { name: string }; spec: unknown };
    const r = await client().request(
      "POST",
      "/apis/helm.cattle.io/v1/namespaces/kube-system/helmchartconfigs",
      rendered,
    );
    expect(`${r.status} ${r.status >= 300 ? JSON.stringify(r.json) : ""}`).toBe("201 ");
    const back = await client().request(
      "GET",
      "/apis/helm.cattle.io/v1/namespaces/kube-system/helmchartconfigs/rke2-ingress-nginx",
    );
    expect((back.json as { spec: unknown }).spec).toEqual(rendered.spec);
    expect(rendered.spec).toEqual({ valuesContent: "controller:\n  config:\n    ssl-protocols: TLSv1.3\n" });
  });

  // Last: it restarts the control plane with a weakened config.
  // Weakened, not removed: RKE2 under the CIS profile sets --audit-log-maxage=30 itself (the stand-in does too), so a
  // config without the item still runs at 30; a lower value in config.yaml comes after RKE2's and wins.
  it("names the failing control when a flag is weakened in the rendered config.yaml and RKE2 restarts", async () => {
    const config = path.join(cp.root, "etc/rancher/rke2/config.yaml");
    const rendered = fs.readFileSync(config, "utf8");
    expect(rendered).toContain("  - audit-log-maxage=30\n");
    fs.writeFileSync(config, rendered.replace("  - audit-log-maxage=30\n", "  - audit-log-maxage=7\n"));
    const before = pidsInRoot(cp.root, "kube-apiserver");
    const start = cp.step("start");
    expect(start.out).toContain("restarted rke2-server.service to apply changed configuration");
    // Readiness of the restarted API server, not of the one before it: on a loaded machine the old process can still
    // be shutting down (and answering) when the new one starts, and the checks read the first kube-apiserver found.
    await until("the restarted kube-apiserver alone in the host's root", 120, () => {
      const now = pidsInRoot(cp.root, "kube-apiserver");
      return Promise.resolve(now.length === 1 && !before.includes(now[0]) ? true : undefined);
    });
    await cp.ready();
    const failed = hostChecks(spec, gatherFacts(cp.root, "/proc", cp.root)).filter((r) => !r.pass);
    expect(failed.map((r) => `${r.id} ${r.title}: ${r.detail}`)).toEqual([
      "1.2.17 --audit-log-maxage is 30 or more: --audit-log-maxage=7",
    ]);
  });
});

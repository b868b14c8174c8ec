// End to end for K3s against a real kube-apiserver, etcd and kube-controller-manager (v1.33, built from Go modules by
// e2e/toolchain/build.sh) on a test host's first server: the product's K3s node scripts harden and install the host
// from the stand-in K3s release, and the K3s stand-in (test/standins/k3s-standin.sh) starts the control plane with
// K3s's default flags and the items of the rendered /etc/rancher/k3s/config.yaml (kube-apiserver-arg: the Pod
// Security and EventRateLimit admission config, the audit policy and log flags; kube-controller-manager-arg;
// secrets-encryption), logging each command line as K3s does. The rendered in-cluster objects are applied by
// server-side apply; then the product's verification reads the cluster back by control ID, and the host checks read
// the flags from that log, as K3s's CIS self-assessment does.
// What it cannot prove: K3s itself (no real binary here: its components run as processes of their own, not inside
// one k3s process), its kubelet and kube-proxy (not started: the stand-in writes their files and logs their start
// lines with the kubelet-arg items, which CIS 4.x reads, but no kubelet runs), flannel and the
// embedded network policy controller (NetworkPolicies are checked as objects, not as traffic), and joining servers and
// agents (one server with cluster-init). The host checks are both the node's own `cis` step (the k3s-cis-1.12 table,
// flags from K3s's journal) and the operator-side ones (`npm run cis-check`).
// Addresses: 127.0.1.61 (the first server) and 127.0.1.62 (a host that is refused), nothing else.
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { gatherFacts, processArgs } from "../../cli/cis-check";
import { fetchAnswers } from "../../components/hardening/api";
import { hostChecks, k3sComponentArgs } from "../../components/hardening/host-checks";
import {
  formatResults,
  hostCheckResults,
  summarize,
  verifyControls,
} from "../../components/hardening/verify";
import { cisCheckIds } from "../../components/render/cis-checks";
import { offlineFacts } from "../../components/spec/plan";
import { renderBundle } from "../../components/render/bundle";
import { renderClusterObjects } from "../../components/render/kube";
import {
  CONTROL_PLANE,
  e2eClusterConfig,
  k3sControlPlane,
  inClusterExpectations,
  placeTools,
  startFirstServer,
  until,
  type ControlPlane,
} from "../helpers/control-plane";
import { REPO, spec as specOf } from "../helpers/spec";
import {
  bootstrap,
  K3S_ARTIFACTS,
  makeRoot,
  pidsInRoot,
  writeK3sStandinRelease,
} from "../helpers/standin-root";

const K3S = { distribution: "k3s", version: "v1.33.5+k3s1" };
let cp: ControlPlane;
let spec: ControlPlane["spec"];
const client = () => cp.client();
const lastAuditLine = () => fs.readFileSync(cp.auditLog, "utf8").trim().split("\n").pop() ?? "";
/** The K3s stand-in's journal: the `journalctl -u k3s` text the self-assessment's audits read. */
const journal = () => fs.readFileSync(path.join(cp.root, "var/log/k3s-standin-journal.log"), "utf8");

beforeAll(async () => {
  cp = await startFirstServer(
    e2eClusterConfig([["s1", "127.0.1.61", "server"]], { ...K3S, namespaces: [{ name: "shop" }] }),
  );
  spec = cp.spec;
  for (const r of renderClusterObjects(spec)) await cp.apply(r.object);
}, 300_000);

afterAll(async () => {
  await cp?.stop();
});

describe("the rendered K3s hardening on a real kube-apiserver", () => {
  it("starts K3s as the first server of a new embedded-etcd cluster, with the flags it logs", () => {
    expect(fs.readFileSync(path.join(cp.root, "var/log/k3s-standin.log"), "utf8")).toBe(
      "start server node=s1 server=<cluster-init=true>\n",
    );
    // What the checks below read (the logged line) is what runs: the real API server's command line.
    const logged = k3sComponentArgs(journal(), "kube-apiserver");
    expect(processArgs("kube-apiserver", "/proc", cp.root)).toEqual(logged);
    expect(processArgs("kube-controller-manager", "/proc", cp.root)).toEqual(
      k3sComponentArgs(journal(), "kube-controller-manager"),
    );
    // The hardening guide's items reach the API server only through config.yaml (K3s sets none of them itself).
    expect(
      logged?.filter((a) => /^--(enable-admission-plugins|request-timeout|service-account-lookup)=/.test(a)),
    ).toEqual([
      "--enable-admission-plugins=NodeRestriction,EventRateLimit",
      "--request-timeout=60s",
      "--service-account-lookup=true",
    ]);
  });

  it("has every in-cluster control pass, read back through the API (CIS 5.3.2, 5.1.5, 5.2.2, 3.2.1)", async () => {
    const answers = await fetchAnswers(client(), "");
    const results = verifyControls(inClusterExpectations(spec), {
      ...answers,
      auditLogLine: lastAuditLine(),
    });
    process.stdout.write(`${formatResults(results)}\n`);
    expect(results.map((r) => `${r.pass ? "PASS" : "FAIL"} ${r.id}`)).toEqual([
      "PASS 5.3.2",
      "PASS 5.1.5",
      "PASS 5.2.2",
      "PASS 3.2.1",
    ]);
    expect(answers.namespaces.sort()).toEqual([
      "default",
      "kube-node-lease",
      "kube-public",
      "kube-system",
      "shop",
    ]);
  });

  it("refuses a privileged pod with Pod Security's message (the psa.yaml given by kube-apiserver-arg)", async () => {
    const r = await client().request("POST", "/api/v1/namespaces/shop/pods?dryRun=All", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "probe", namespace: "shop" },
      spec: { containers: [{ name: "c", image: "x", securityContext: { privileged: true } }] },
    });
    expect(`${r.status} ${(r.json as { message: string }).message}`).toMatch(
      /^403 .*violates PodSecurity "restricted:latest"/,
    );
  });

  it("stores a Secret in etcd encrypted with aescbc (secrets-encryption: true, CIS 1.2.27–1.2.28)", async () => {
    const plain = "k3s-e2e-plain-value-for-encryption-at-rest";
    const created = await client().request("POST", "/api/v1/namespaces/shop/secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "at-rest" },
      stringData: { value: plain },
    });
    expect(created.status).toBe(201);
    // etcd's JSON gateway on the host's address, with the etcd client certificate K3s gives its API server.
    const tls = (f: string) => fs.readFileSync(path.join(cp.root, "var/lib/rancher/k3s/server/tls/etcd", f));
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        {
          method: "POST",
          hostname: "127.0.1.61",
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

  it("passes the operator-side host checks, reading the flags from K3s's log as its self-assessment does", async () => {
    const results = hostChecks(spec, gatherFacts(cp.root, "/proc", cp.root, journal()));
    // The count line over both parts, as a K3s stack's verification would print it with these host checks added: it
    // names the automated controls nothing here checks (the node's `cis` step does not run on K3s).
    const inCluster = verifyControls(inClusterExpectations(spec), {
      ...(await fetchAnswers(client(), "")),
      auditLogLine: lastAuditLine(),
    });
    process.stdout.write(
      `${formatResults(results)}\n${summarize(spec.benchmark, [...inCluster, ...results])}\n`,
    );
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
    expect(spec.benchmark).toBe("k3s-cis-1.12");
  });

  it("passes the node's own cis step: the k3s-cis-1.12 host checks, the components' flags read from K3s's journal", async () => {
    // The step as the node runs it (journalctl -m -u k3s: the stand-in journal, through the journalctl stand-in), over
    // the K3s stand-in's files and the lines it logged for the components it started and for the agent side.
    const cis = cp.step("cis");
    expect(cis.status).toBe(0);
    const node = offlineFacts(spec)[0];
    const ids = cisCheckIds(spec, node.role);
    const results = hostCheckResults(
      { ...inClusterExpectations(spec), hostCheckNodes: [{ name: node.name, ids }] },
      {
        [node.name]: cis.out,
      },
    );
    const inCluster = verifyControls(inClusterExpectations(spec), {
      ...(await fetchAnswers(client(), "")),
      auditLogLine: lastAuditLine(),
    });
    const count = summarize(spec.benchmark, [...inCluster, ...results]);
    process.stdout.write(`${cis.out}${count}\n`);
    expect(results.filter((r) => !r.pass).map((r) => `${r.id} ${r.detail}`)).toEqual([]);
    expect(results.map((r) => r.id)).toEqual(ids);
    // Every automated control of the benchmark is checked, Not Applicable (K3s's self-assessment says why), or the one
    // whose audit passes any value; none is left unexplained.
    expect(count).toMatch(/^hardened-rke2: k3s-cis-1\.12: \d+ of 78 automated checks verified, 0 FAIL, /);
    expect(count).not.toMatch(/unexplained/);
    expect(cis.out).toContain("PASS 1.2.17 kube-apiserver --audit-log-maxage=30");
    expect(cis.out).toContain("PASS 4.2.6 kubelet --make-iptables-util-chains=true");
  });

  it("names a failing control for each in-cluster object removed, one at a time", async () => {
    const verdict = async () =>
      verifyControls(inClusterExpectations(spec), await fetchAnswers(client(), lastAuditLine()))
        .filter((r) => !r.pass)
        .map((r) => `${r.id} ${r.detail}`);
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
        `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}: ${failed[0]?.split(" ")[0] ?? "nothing fails"}`,
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
    // K3s's own exceptions among them: CoreDNS, metrics-server, Traefik and its service load balancer.
    expect(seen.filter((l) => /allow-(dns|metrics-server|traefik|svclb-traefik):/.test(l))).toHaveLength(5);
    expect(seen.filter((l) => l.endsWith("nothing fails"))).toEqual([]);
  }, 180_000);

  // Last: it restarts the control plane with one flag removed.
  // Removed, not weakened (the RKE2 e2e weakens it): K3s has no CIS profile and sets no audit flag of its own, so
  // without the item the API server runs with no --audit-log-maxage at all (docs.k3s.io security/hardening-guide).
  it("names the failing control when a flag is removed from the rendered config.yaml and K3s restarts", async () => {
    const config = path.join(cp.root, "etc/rancher/k3s/config.yaml");
    const rendered = fs.readFileSync(config, "utf8");
    expect(rendered).toContain("  - audit-log-maxage=30\n");
    fs.writeFileSync(config, rendered.replace("  - audit-log-maxage=30\n", ""));
    const before = pidsInRoot(cp.root, "kube-apiserver");
    const start = cp.step("start");
    expect(start.out).toContain("restarted k3s.service to apply changed configuration");
    await until("the restarted kube-apiserver alone in the host's root", 120, () => {
      const now = pidsInRoot(cp.root, "kube-apiserver");
      return Promise.resolve(now.length === 1 && !before.includes(now[0]) ? true : undefined);
    });
    await cp.ready();
    const failed = (facts: ReturnType<typeof gatherFacts>) =>
      hostChecks(spec, facts)
        .filter((r) => !r.pass)
        .map((r) => `${r.id} ${r.title}: ${r.detail}`);
    const fromLog = failed(gatherFacts(cp.root, "/proc", cp.root, journal()));
    process.stdout.write(`${fromLog.join("\n")}\n`);
    expect(fromLog).toEqual([
      "1.2.17 --audit-log-maxage is 30 or more: kube-apiserver runs without the flag",
    ]);
    // The node's own step names the same control, and only it.
    const cis = cp.step("cis");
    expect(cis.out.split("\n").filter((l) => l.startsWith("FAIL"))).toEqual([
      "FAIL 1.2.17 kube-apiserver runs without --audit-log-maxage",
    ]);
    // The restarted API server runs the command line the log gives.
    expect(processArgs("kube-apiserver", "/proc", cp.root)).toEqual(
      k3sComponentArgs(journal(), "kube-apiserver"),
    );
  });
});

describe("what the K3s stand-in refuses", () => {
  it("starts nothing when protect-kernel-defaults is on and the kernel parameters were not set", () => {
    const release = writeK3sStandinRelease(fs.mkdtempSync(path.join(os.tmpdir(), "e2e-k3s-release-")));
    try {
      const refused = specOf(
        {
          ...e2eClusterConfig([["s1", "127.0.1.62", "server"]], K3S),
          install: { mode: "airgap", artifactsDir: release },
        },
        { configKeys: new Map(), baseDir: REPO, requireSecrets: false },
      );
      const inputs = { secret: () => "e2e-k3s-token-not-a-secret", file: () => "", secretFile: () => "" };
      const [node] = renderBundle(refused, inputs).nodes;
      const root = makeRoot();
      placeTools(root, k3sControlPlane());
      fs.writeFileSync(path.join(root, "etc/standin-host-address"), "127.0.1.62\n");
      const steps = bootstrap(root, node, release, ["sysctl"], K3S_ARTIFACTS);
      expect(steps.map((s) => `${s.step}:${s.status}`)).toEqual(["files:0", "install:0", "start:1"]);
      expect(steps[2].out).toContain(
        "failed to run Kubelet: invalid kernel flag: vm/overcommit_memory, expected value: 1, actual value: 0",
      );
      expect(CONTROL_PLANE.flatMap((b) => pidsInRoot(root, b))).toEqual([]);
      expect(fs.existsSync(path.join(root, "var/log/k3s-standin-journal.log"))).toBe(false);
    } finally {
      fs.rmSync(release, { recursive: true, force: true });
    }
  });
});

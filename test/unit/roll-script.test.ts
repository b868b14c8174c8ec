// The roll's steps (components/bootstrap/scripts/roll.sh) run for real as root in a throw-away root, exactly as the
// program sends them (rollCommand), against a STAND-IN kubectl (test/standins/kubectl-standin.sh) that answers from a
// state file: nothing to drain on a first up, a drain a PodDisruptionBudget holds back, an agent refused while a
// server runs another release, and the health gate, which uncordons only a node the roll's drain cordoned.
import * as fs from "node:fs";
import * as path from "node:path";
import { rollCommand, type RollAction } from "../../components/bootstrap/roll";
import { existingConfig, REPO, spec } from "../helpers/spec";
import { inRoot, makeRoot } from "../helpers/standin-root";

const root = makeRoot();
const s = spec({ ...existingConfig(), upgrade: { drainTimeoutSeconds: 30, healthTimeoutSeconds: 30 } });
const V = s.version.raw;
const OLD = "v1.33.4+rke2r1";

/** The stand-in's state: `cordoned` names the nodes someone made unschedulable before the roll. */
function cluster(nodes: string[], opts: { blocked?: string[]; readyz?: string; cordoned?: string[] } = {}) {
  const dir = path.join(root, "var/lib/kubectl-standin");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "nodes"), nodes.map((n) => `${n}\n`).join(""));
  fs.writeFileSync(path.join(dir, "cordoned"), (opts.cordoned ?? []).map((n) => `${n}\n`).join(""));
  fs.writeFileSync(path.join(dir, "annotated"), "");
  fs.writeFileSync(path.join(dir, "blocked"), (opts.blocked ?? []).map((p) => `${p}\n`).join(""));
  fs.writeFileSync(path.join(dir, "readyz"), opts.readyz ?? "ok");
  fs.writeFileSync(path.join(root, "var/log/kubectl-standin.log"), "");
}

function roll(action: RollAction, name: string, role: "server" | "agent", timeout?: number) {
  const command = rollCommand(action, {
    spec: timeout ? { ...s, upgrade: { ...s.upgrade, healthTimeoutSeconds: timeout } } : s,
    node: { name, role },
  });
  const r = inRoot(root, ["bash", "-c", command]);
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}
const calls = () =>
  fs.readFileSync(path.join(root, "var/log/kubectl-standin.log"), "utf8").trim().split("\n");
/** The nodes the stand-in holds unschedulable now. */
const cordoned = () =>
  fs.readFileSync(path.join(root, "var/lib/kubectl-standin/cordoned"), "utf8").split("\n").filter(Boolean);
/** Moves every node of the stand-in to `version` (its restart at the new release). */
const upgraded = (version: string) => {
  const file = path.join(root, "var/lib/kubectl-standin/nodes");
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/ v\S+$/gm, ` ${version}`));
};

beforeAll(() => {
  const bin = path.join(root, "var/lib/rancher/rke2/bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.copyFileSync(path.join(REPO, "test/standins/kubectl-standin.sh"), path.join(bin, "kubectl"));
  fs.chmodSync(path.join(bin, "kubectl"), 0o755);
  fs.mkdirSync(path.join(root, "etc/rancher/rke2"), { recursive: true });
  fs.writeFileSync(path.join(root, "etc/rancher/rke2/rke2.yaml"), "apiVersion: v1\nkind: Config\n");
  fs.mkdirSync(path.join(root, "var/log"), { recursive: true });
});

describe("roll.sh", () => {
  it("has nothing to drain on a node that has not joined yet", () => {
    cluster([`s1 server True ${V}`]);
    expect(roll("drain", "s2", "server")).toEqual({
      status: 0,
      out: "hardened-rke2: s2 is not a node of the cluster yet; nothing to drain",
    });
    expect(calls().filter((c) => !c.startsWith("get "))).toEqual([]);
  });

  it("marks and cordons a node before draining it, and its gate uncordons it once healthy", () => {
    cluster([`s1 server True ${OLD}`]);
    expect(roll("drain", "s1", "server")).toEqual({ status: 0, out: expect.stringMatching(/drained s1$/) });
    expect(cordoned()).toEqual(["s1"]);
    upgraded(V);
    expect(roll("gate", "s1", "server")).toEqual({
      status: 0,
      out:
        `hardened-rke2: s1 is Ready at ${V} (API server ready, etcd member healthy)\n` +
        "hardened-rke2: uncordoned s1 (the roll's drain had cordoned it)",
    });
    expect(cordoned()).toEqual([]);
    expect(calls().filter((c) => !c.startsWith("get "))).toEqual([
      "annotate --overwrite node s1 hardened-rke2/drained=true",
      "cordon s1",
      "drain s1 --ignore-daemonsets --delete-emptydir-data --timeout=30s",
      "uncordon s1",
      "annotate node s1 hardened-rke2/drained-",
    ]);
    // The mark is gone: a later gate (a config change's restart) touches nothing.
    expect(roll("gate", "s1", "server").out).toBe(
      `hardened-rke2: s1 is Ready at ${V} (API server ready, etcd member healthy)`,
    );
    expect(calls().filter((c) => !c.startsWith("get ")).length).toBe(5);
  });

  // What it cannot show: a real API server's answers (the e2e run drains, gates and resumes against one).
  it("never uncordons a node an operator cordoned: not after a restart without a drain, not after an upgrade", () => {
    cluster([`s1 server True ${V}`, `a1 agent True ${V}`], { cordoned: ["a1"] });
    // A config change restarts a1 and runs its gate, with no drain before it.
    expect(roll("gate", "a1", "agent")).toEqual({ status: 0, out: `hardened-rke2: a1 is Ready at ${V}` });
    expect(cordoned()).toEqual(["a1"]);
    // An upgrade drains it (its pods still move), leaves it unmarked, and its gate leaves it cordoned.
    expect(roll("drain", "a1", "agent").status).toBe(0);
    expect(roll("gate", "a1", "agent")).toEqual({ status: 0, out: `hardened-rke2: a1 is Ready at ${V}` });
    expect(cordoned()).toEqual(["a1"]);
    expect(calls().filter((c) => /^(annotate|uncordon)/.test(c))).toEqual([]);
  });

  it("stops on a drain a PodDisruptionBudget holds back, naming the pods, and leaves the node schedulable", () => {
    cluster([`s1 server True ${V}`, `a1 agent True ${OLD}`], { blocked: ["shop/web-0", "shop/web-1"] });
    const r = roll("drain", "a1", "agent");
    expect(r.status).toBe(1);
    expect(r.out).toMatch(
      /hardened-rke2: the roll stopped at a1: draining it did not finish within 30s: pod\(s\) shop\/web-0, shop\/web-1 could not be evicted \(a PodDisruptionBudget allows no disruption now\); the node was made schedulable again\. The nodes after it were not touched/,
    );
    expect(calls().slice(-2)).toEqual(["uncordon a1", "annotate node a1 hardened-rke2/drained-"]);
    expect(cordoned()).toEqual([]);
  });

  it("refuses to drain (and so upgrade) an agent while a server runs another release", () => {
    cluster([`s1 server True ${V}`, `s2 server True ${OLD}`, `a1 agent True ${OLD}`]);
    const r = roll("drain", "a1", "agent");
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      `refusing to upgrade agent a1 to ${V} while server(s) s2 (${OLD}) run another version; agents must never be newer than the servers`,
    );
    expect(calls().filter((c) => /^(cordon|drain)/.test(c))).toEqual([]);
  });

  it("passes the gate once the node is Ready at the new version, and for a server its API server and etcd", () => {
    cluster([`s1 server True ${V}`, `a1 agent True ${V}`]);
    expect(roll("gate", "s1", "server")).toEqual({
      status: 0,
      out: `hardened-rke2: s1 is Ready at ${V} (API server ready, etcd member healthy)`,
    });
    expect(roll("gate", "a1", "agent")).toEqual({ status: 0, out: `hardened-rke2: a1 is Ready at ${V}` });
  });

  it("stops the roll at a node that does not come back at the new version, or whose etcd is not healthy", () => {
    cluster([`s1 server True ${V}`, `s2 server True ${OLD}`]);
    const r = roll("gate", "s2", "server", 1);
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      `the roll stopped at s2: it is not healthy at ${V} after 1s (Ready: True, kubelet: ${OLD}, API server: ok)`,
    );
    cluster([`s1 server True ${V}`], { readyz: "[-]etcd failed" });
    expect(roll("gate", "s1", "server", 1).out).toContain("API server: etcd: [-]etcd failed)");
  });
});

// K3s: the same roll through K3s's own admin kubeconfig and its multi-call binary (`k3s kubectl`), here a STAND-IN
// `k3s` that hands `kubectl ...` to the kubectl stand-in. Proves the roll finds K3s's paths; the RKE2 kubectl is
// absent in this root so nothing can pass through it.
describe("roll.sh on K3s", () => {
  const k3s = spec({ ...existingConfig(), distribution: "k3s", version: "v1.33.5+k3s1" });
  const K = k3s.version.raw;
  const k3sRoot = makeRoot();
  const run = (action: RollAction, name: string, role: "server" | "agent") => {
    const r = inRoot(k3sRoot, ["bash", "-c", rollCommand(action, { spec: k3s, node: { name, role } })]);
    return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
  };

  beforeAll(() => {
    const standins = path.join(k3sRoot, "var/lib/kubectl-standin");
    fs.mkdirSync(standins, { recursive: true });
    fs.copyFileSync(path.join(REPO, "test/standins/kubectl-standin.sh"), path.join(standins, "kubectl"));
    fs.chmodSync(path.join(standins, "kubectl"), 0o755);
    fs.mkdirSync(path.join(k3sRoot, "usr/local/bin"), { recursive: true });
    fs.writeFileSync(
      path.join(k3sRoot, "usr/local/bin/k3s"),
      '#!/bin/bash\n[ "$1" = kubectl ] || exit 2\nshift\nexec /var/lib/kubectl-standin/kubectl "$@"\n',
      { mode: 0o755 },
    );
    fs.mkdirSync(path.join(k3sRoot, "etc/rancher/k3s"), { recursive: true });
    fs.writeFileSync(path.join(k3sRoot, "etc/rancher/k3s/k3s.yaml"), "apiVersion: v1\nkind: Config\n");
    fs.mkdirSync(path.join(k3sRoot, "var/log"), { recursive: true });
    fs.writeFileSync(path.join(standins, "nodes"), `s1 server True ${K}\n`);
    fs.writeFileSync(path.join(standins, "blocked"), "");
    fs.writeFileSync(path.join(standins, "readyz"), "ok");
    fs.writeFileSync(path.join(standins, "cordoned"), "");
    fs.writeFileSync(path.join(k3sRoot, "var/log/kubectl-standin.log"), "");
  });

  it("drains, gates and uncordons through k3s kubectl and /etc/rancher/k3s/k3s.yaml", () => {
    expect(run("drain", "s1", "server")).toEqual({ status: 0, out: expect.stringMatching(/drained s1$/) });
    expect(run("gate", "s1", "server")).toEqual({
      status: 0,
      out:
        `hardened-rke2: s1 is Ready at ${K} (API server ready, etcd member healthy)\n` +
        "hardened-rke2: uncordoned s1 (the roll's drain had cordoned it)",
    });
    const log = fs.readFileSync(path.join(k3sRoot, "var/log/kubectl-standin.log"), "utf8").trim().split("\n");
    expect(log.filter((c) => !c.startsWith("get "))).toEqual([
      "annotate --overwrite node s1 hardened-rke2/drained=true",
      "cordon s1",
      "drain s1 --ignore-daemonsets --delete-emptydir-data --timeout=600s",
      "uncordon s1",
      "annotate node s1 hardened-rke2/drained-",
    ]);
  });
});

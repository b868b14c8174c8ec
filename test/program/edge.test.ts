// The edge stack (K3s on existing hosts, installed from the site's HTTPS mirror with a pinned binary checksum, images
// from an internal registry) as the real program builds it, under mocks. Proves the K3s files, steps and order the
// program registers; cannot prove a real K3s starts with them (issue #16 item 3: the K3s control plane e2e).
import { parse } from "yaml";
import { policies } from "../../policy/policies";
import { checkPack, fromRecorded } from "../helpers/policy";
import { runProgram, unwrap, type ProgramRun } from "../helpers/program";
import { checkCommon, filesOf } from "../helpers/program-checks";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("edge");
});

const hosts = [
  { name: "edge-edge-cp-1", role: "server" as const },
  { name: "edge-edge-cp-2", role: "server" as const },
  { name: "edge-edge-cp-3", role: "server" as const },
  { name: "edge-edge-worker-1", role: "agent" as const },
];

describe("edge stack (K3s)", () => {
  it("passes the checks every stack must pass, reading K3s's admin kubeconfig", async () => {
    await checkCommon(run, hosts, { distribution: "k3s" });
    expect(unwrap(run.byName("edge-kubeconfig").inputs.create)).toContain("/etc/rancher/k3s/k3s.yaml");
  });

  it("creates no cloud resource, no etcd user step and no artifact copy (the mirror serves the binary)", () => {
    expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    expect(run.resources.filter((r) => /-etcd-user$/.test(r.name))).toEqual([]);
    expect(run.ofType("command:remote:CopyToRemote")).toEqual([]);
  });

  it("writes K3s's files before first start: config with cluster-init on the first server only, units, psa and audit", () => {
    const first = filesOf(run, "edge-edge-cp-1");
    const second = filesOf(run, "edge-edge-cp-2");
    const c1 = parse(first.get("/etc/rancher/k3s/config.yaml")?.content ?? "") as Record<string, unknown>;
    const c2 = parse(second.get("/etc/rancher/k3s/config.yaml")?.content ?? "") as Record<string, unknown>;
    expect([c1["cluster-init"], c1["server"]]).toEqual([true, undefined]);
    expect([c2["cluster-init"], c2["server"]]).toEqual([undefined, "https://10.40.0.10:6443"]);
    expect(first.get("/etc/rancher/k3s/config.yaml")?.mode).toBe("0600");
    for (const p of ["/var/lib/rancher/k3s/server/psa.yaml", "/var/lib/rancher/k3s/server/audit.yaml"]) {
      expect([p, first.get(p)?.mode]).toEqual([p, "0600"]);
    }
    expect(first.get("/etc/systemd/system/k3s.service")?.content).toContain(
      "ExecStart=/usr/local/bin/k3s server",
    );
    expect(
      filesOf(run, "edge-edge-worker-1").get("/etc/systemd/system/k3s-agent.service")?.content,
    ).toContain("ExecStart=/usr/local/bin/k3s agent");
    // The install step takes the mirror and the pin from node.env.
    const env = first.get("/var/lib/hardened-rke2/node.env")?.content ?? "";
    expect(env).toContain("ARTIFACT='k3s'\nARTIFACT_KIND='binary'\n");
    expect(env).toContain("ARTIFACT_URL='https://artifacts.edge.internal.example/k3s/releases'\n");
    expect(env).toMatch(/ARTIFACT_SHA256='[0-9a-f]{64}'\n/);
  });

  it("renders the registry password only into K3s's registries.yaml, 0600", () => {
    const files = filesOf(run, "edge-edge-worker-1");
    const holders = [...files]
      .filter(([, f]) => f.content.includes("PLANTED-REGISTRY-PASSWORD"))
      .map(([p]) => p);
    expect(holders).toEqual(["/etc/rancher/k3s/registries.yaml"]);
    expect(files.get("/etc/rancher/k3s/registries.yaml")?.mode).toBe("0600");
  });

  it("joins the servers one at a time: each server starts after the previous one is ready and passed its gate", () => {
    expect(run.byName("edge-edge-cp-2-start").dependsOn).toContain("edge-edge-cp-1-gate");
    expect(run.byName("edge-edge-cp-3-start").dependsOn).toContain("edge-edge-cp-2-gate");
    expect(run.byName("edge-edge-cp-1-gate").dependsOn).toContain("edge-edge-cp-1-start");
  });

  it("passes every policy of the pack", async () => {
    expect(await checkPack(policies, fromRecorded(run.resources))).toEqual([]);
  });
});

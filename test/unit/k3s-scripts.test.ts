// The K3s node scripts as the renderers produce them, run for real as root in a throw-away root (chroot), twice: the
// first run hardens and installs, the second changes nothing. Stand-ins: systemctl (no systemd in the root) and the
// k3s binary (test/standins/k3s-standin.sh: its kubelet refuses to start when protect-kernel-defaults is on and the
// kernel parameters are not set). The release is a STAND-IN with K3s's real file names: `k3s`,
// k3s-airgap-images-amd64.tar.zst and sha256sum-amd64.txt. Cannot prove a real K3s accepts the config (issue #16
// item 3: test/e2e/k3s-apiserver.test.ts runs the control plane).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileRecords, PLACE_FILES_SCRIPT } from "../../components/bootstrap/remote";
import { renderBundle } from "../../components/render/bundle";
import type { NodeBundle } from "../../components/render/node";
import { existingConfig, spec } from "../helpers/spec";
import {
  bootstrap as runBootstrap,
  inRoot,
  K3S_ARTIFACTS,
  makeRoot,
  snapshot,
  writeK3sStandinRelease,
} from "../helpers/standin-root";

const TOKEN = "PLANTED-TOKEN-k3s-51c2";
const inputs = { secret: () => TOKEN, file: () => "", secretFile: () => "" };
const FILES = K3S_ARTIFACTS;
const release = writeK3sStandinRelease(fs.mkdtempSync(path.join(os.tmpdir(), "k3s-standin-release-")));

function bundles(): NodeBundle[] {
  const c: Record<string, unknown> = { ...existingConfig(), distribution: "k3s", version: "v1.33.5+k3s1" };
  c.install = { mode: "airgap", artifactsDir: release };
  return renderBundle(spec(c), inputs).nodes;
}

/** The shared bootstrap (helpers/standin-root.ts) with K3s's artifacts. */
const bootstrap = (root: string, b: NodeBundle, skip: string[] = []) =>
  runBootstrap(root, b, release, skip, FILES);

const read = (root: string, p: string) => fs.readFileSync(path.join(root, p), "utf8");
const modeOf = (root: string, p: string) => (fs.statSync(path.join(root, p)).mode & 0o777).toString(8);

describe("K3s bootstrap scripts on the first server, twice", () => {
  const root = makeRoot();
  const [server] = bundles();
  const first = bootstrap(root, server);
  const before = snapshot(root);
  const second = bootstrap(root, server);

  it("runs every step successfully the first time (no etcd user: K3s embeds etcd)", () => {
    expect(first.map((r) => `${r.step}:${r.status}`)).toEqual([
      "files:0",
      "sysctl:0",
      "install:0",
      "start:0",
      "ready:0",
      "cis:0",
    ]);
  });

  it("installs the verified k3s binary and places the airgap images 0600", () => {
    expect(modeOf(root, "usr/local/bin/k3s")).toBe("755");
    expect(read(root, "usr/local/bin/k3s")).toBe(read(release, "k3s"));
    expect(modeOf(root, "var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst")).toBe("600");
  });

  it("writes K3s's files root-only, creates the audit log folder 0700 and starts k3s.service as cluster-init", () => {
    expect(modeOf(root, "etc/rancher/k3s/config.yaml")).toBe("600");
    expect(modeOf(root, "etc/rancher/k3s/cluster-token")).toBe("600");
    expect(modeOf(root, "var/lib/rancher/k3s/server/psa.yaml")).toBe("600");
    expect(modeOf(root, "var/lib/rancher/k3s/server/audit.yaml")).toBe("600");
    expect(modeOf(root, "var/lib/rancher/k3s/server/logs")).toBe("700");
    expect(read(root, "var/log/systemctl-standin.log")).toContain("systemctl start k3s.service\n");
    expect(read(root, "var/log/k3s-standin.log")).toBe("start server node=s1 server=<cluster-init=true>\n");
  });

  it("changes nothing and restarts nothing on the second run", () => {
    expect(second.every((r) => r.status === 0)).toBe(true);
    expect(snapshot(root)).toEqual(before);
    expect(read(root, "var/log/k3s-standin.log").trim().split("\n")).toHaveLength(1);
  });
});

describe("K3s bootstrap scripts on an agent", () => {
  it("starts k3s-agent.service joining through the first server's API port", () => {
    const root = makeRoot();
    const agent = bundles()[3];
    const steps = bootstrap(root, agent);
    expect(steps.map((r) => `${r.step}:${r.status}`)).toEqual([
      "files:0",
      "sysctl:0",
      "install:0",
      "start:0",
      "ready:0",
      "cis:0",
    ]);
    // The node's CIS checks of the node target pass, the kubelet's and kube-proxy's flags read from the lines K3s
    // logged as it started them (journalctl -u k3s-agent), its files at K3s's paths.
    const cis = steps[steps.length - 1].out;
    expect(cis.split("\n").filter((l) => l.startsWith("FAIL"))).toEqual([]);
    expect(cis).toContain("PASS 4.2.6 kubelet --make-iptables-util-chains=true");
    expect(cis).toContain("PASS 4.1.5 /var/lib/rancher/k3s/agent/kubelet.kubeconfig: mode 600 or stricter");
    expect(cis).toMatch(/hardened-rke2: cis: (\d+) host checks, \1 PASS, 0 FAIL/);
    expect(read(root, "var/log/systemctl-standin.log")).toContain("systemctl start k3s-agent.service\n");
    expect(read(root, "var/log/k3s-standin.log")).toBe(
      "start agent node=a1 server=https://192.0.2.11:6443\n",
    );
  });
});

describe("what K3s refuses", () => {
  it("its kubelet refuses to start with protect-kernel-defaults when the sysctl step did not run", () => {
    const root = makeRoot();
    const [server] = bundles();
    const r = bootstrap(root, server, ["sysctl"]);
    expect(r.map((x) => `${x.step}:${x.status}`)).toEqual(["files:0", "install:0", "start:1"]);
    expect(r[2].out).toContain(
      "failed to run Kubelet: invalid kernel flag: vm/overcommit_memory, expected value: 1, actual value: 0",
    );
  });

  it("the install refuses a tampered k3s binary and installs nothing", () => {
    const root = makeRoot();
    const [server] = bundles();
    inRoot(
      root,
      ["/usr/bin/bash", "-c", PLACE_FILES_SCRIPT],
      fileRecords([...server.files, ...server.scripts]),
    );
    for (const f of FILES)
      fs.copyFileSync(path.join(release, f), path.join(root, "var/lib/hardened-rke2/artifacts", f));
    fs.appendFileSync(path.join(root, "var/lib/hardened-rke2/artifacts/k3s"), "# tampered\n");
    const r = inRoot(root, [server.scripts.find((s) => s.step === "install")?.path ?? ""]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("does not match the checksum listed in the operator's folder");
    expect(fs.existsSync(path.join(root, "usr/local/bin/k3s"))).toBe(false);
  });
});

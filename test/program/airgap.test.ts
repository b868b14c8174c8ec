// The air-gapped stack (existing hosts, artifacts from the operator's folder, a private registry) as the real
// program builds it, under mocks. The artifacts folder is a STAND-IN (helpers/fake-artifacts).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { writeFakeArtifacts, sha256, FAKE_ARTIFACTS } from "../helpers/fake-artifacts";
import { CHECK_HOST_KEY_SCRIPT } from "../../components/bootstrap/remote";
import { policies } from "../../policy/policies";
import { checkPack, fromRecorded } from "../helpers/policy";
import { runProgram, unwrap, type ProgramRun } from "../helpers/program";
import { checkCommon, filesOf } from "../helpers/program-checks";

let run: ProgramRun;
const artifacts = writeFakeArtifacts(fs.mkdtempSync(path.join(os.tmpdir(), "airgap-program-")));
beforeAll(async () => {
  run = await runProgram("airgap", (c) => (c.install.artifactsDir = artifacts));
});

const hosts = [
  { name: "airgap-cp-1", role: "server" as const },
  { name: "airgap-cp-2", role: "server" as const },
  { name: "airgap-cp-3", role: "server" as const },
  { name: "airgap-worker-1", role: "agent" as const },
];

describe("airgap stack", () => {
  it("passes the checks every stack must pass", async () => {
    await checkCommon(run, hosts, { fips: true });
  });

  it("checks every host's key from the operator's machine, in one check, before anything runs on any host", () => {
    // One for the cluster: no node has a check of its own.
    const checks = run.ofType("command:local:Command").filter((c) => c.name.includes("host-key"));
    expect(checks.map((c) => c.name)).toEqual(["airgap-host-keys"]);
    const [check] = checks;
    // Values reach the static script through its environment only, one line per host with the key each
    // connection pins; it runs again when any of them changes.
    expect(check.inputs.create).toBe(CHECK_HOST_KEY_SCRIPT);
    const lines = hosts
      .map(({ name }) => {
        const conn = unwrap(run.byName(`${name}-files`).inputs.connection);
        return `${name.replace(/^airgap-/, "")} ${conn.host} ${conn.port} ${conn.hostKey}\n`;
      })
      .join("");
    expect(unwrap(check.inputs.environment).HOSTS).toBe(lines);
    expect(unwrap(check.inputs.triggers)).toEqual([lines]);
    for (const { name } of hosts) expect(run.byName(`${name}-files`).dependsOn).toContain("airgap-host-keys");
  });

  it("gates every node it drains, even when nothing the start step reads changed (a moved artifacts folder)", async () => {
    // The same artifacts in another folder: the upgrade trigger (release and install) changes, the nodes' files do not.
    const moved = await runProgram(
      "airgap",
      (c) =>
        (c.install.artifactsDir = writeFakeArtifacts(
          fs.mkdtempSync(path.join(os.tmpdir(), "airgap-moved-")),
        )),
    );
    const triggers = (r: ProgramRun, name: string) => JSON.stringify(unwrap(r.byName(name).inputs.triggers));
    const changed = (step: string) =>
      hosts.filter(({ name }) => triggers(run, `${name}-${step}`) !== triggers(moved, `${name}-${step}`))
        .length;
    // Drained, so gated (the gate uncordons what the drain cordoned); nothing restarts.
    expect({ drain: changed("drain"), start: changed("start"), gate: changed("gate") }).toEqual({
      drain: hosts.length,
      start: 0,
      gate: hosts.length,
    });
  });

  it("creates no cloud resource and reaches each host with its pinned key", () => {
    expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
    const conn = unwrap(run.byName("airgap-cp-2-files").inputs.connection);
    expect(conn).toMatchObject({
      host: "10.30.0.12",
      port: 22,
      user: "rke2admin",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICLuzf/q3CKA2s+Hl4eb1x9Kj841HbG4AZhgMfJwBfao",
    });
  });

  it("copies each artifact once per node, keyed by its checksum, before the install", () => {
    const copies = run.ofType("command:remote:CopyToRemote");
    expect(copies.map((c) => c.name)).toEqual(
      hosts.flatMap((h) => [
        `${h.name}-artifact-rke2.linux-amd64.tar.gz`,
        `${h.name}-artifact-rke2-images.linux-amd64.tar.zst`,
      ]),
    );
    for (const c of copies) {
      const file = c.name.replace(/^.*-artifact-/, "");
      expect(unwrap(c.inputs.triggers)).toEqual([sha256(FAKE_ARTIFACTS[file])]);
      expect(c.inputs.remotePath).toBe(`/var/lib/hardened-rke2/artifacts/${file}`);
      // The engine gets the checksum as the asset's hash, so it never reads the file to hash it (once per node, every
      // run): the loader's one read this run is the only one.
      expect(c.wire).toMatchObject({
        source: { path: path.join(artifacts, file), hash: sha256(FAKE_ARTIFACTS[file]) },
      });
    }
    for (const h of hosts) {
      expect(run.byName(`${h.name}-install`).dependsOn).toEqual(
        expect.arrayContaining([
          `${h.name}-artifact-rke2.linux-amd64.tar.gz`,
          `${h.name}-artifact-rke2-images.linux-amd64.tar.zst`,
        ]),
      );
    }
  });

  it("renders the registry password only into registries.yaml, 0600, inside the secret stdin", () => {
    const files = filesOf(run, "airgap-worker-1");
    const registries = files.get("/etc/rancher/rke2/registries.yaml");
    expect(registries?.mode).toBe("0600");
    expect(parse(registries?.content ?? "").configs["registry.internal.example:5000"].auth).toEqual({
      username: "rke2-pull",
      password: "PLANTED-REGISTRY-PASSWORD-77aa",
    });
    const holders = [...files]
      .filter(([, f]) => f.content.includes("PLANTED-REGISTRY-PASSWORD"))
      .map(([p]) => p);
    expect(holders).toEqual(["/etc/rancher/rke2/registries.yaml"]);
  });

  it("tells the install step to verify the artifacts against the operator's checksums", () => {
    const sums = filesOf(run, "airgap-cp-1").get("/var/lib/hardened-rke2/artifacts.sha256")?.content;
    expect(sums).toBe(
      `${sha256(FAKE_ARTIFACTS["rke2.linux-amd64.tar.gz"])}  rke2.linux-amd64.tar.gz\n` +
        `${sha256(FAKE_ARTIFACTS["rke2-images.linux-amd64.tar.zst"])}  rke2-images.linux-amd64.tar.zst\n`,
    );
    expect(filesOf(run, "airgap-cp-1").get("/var/lib/hardened-rke2/node.env")?.content).toContain(
      "INSTALL_MODE='airgap'",
    );
  });

  it("checks each node's kernel FIPS mode before the install, and the installed binary's module before the start", () => {
    for (const { name } of hosts) {
      const kernel = run.byName(`${name}-fips-kernel`);
      expect(unwrap(kernel.inputs.create)).toContain("/var/lib/hardened-rke2/bin/25-fips-kernel.sh");
      // Through the roll's drain, which comes right before the install.
      expect(run.byName(`${name}-drain`).dependsOn).toContain(`${name}-fips-kernel`);
      expect(run.byName(`${name}-install`).dependsOn).toContain(`${name}-drain`);
      // The kernel check runs before anything of RKE2 reaches the host's binaries: only the files and hardening.
      expect(kernel.dependsOn.some((d) => /-(install|start|artifact-.*)$/.test(d))).toBe(false);
      const module = run.byName(`${name}-fips-module`);
      expect(unwrap(module.inputs.create)).toContain("/var/lib/hardened-rke2/bin/35-fips-module.sh");
      expect(module.dependsOn).toEqual([`${name}-install`]);
      expect(run.byName(`${name}-start`).dependsOn).toContain(`${name}-fips-module`);
      expect(filesOf(run, name).get("/var/lib/hardened-rke2/node.env")?.content).toContain("FIPS='true'");
    }
    // The verification expects a FIPS line for every node and gets each node's module-check output.
    const verify = run.byName("airgap-hardening-verify");
    const env = unwrap(verify.inputs.environment) as Record<string, string>;
    expect(JSON.parse(env.HARDENED_RKE2_EXPECT).fipsNodes).toEqual(
      hosts.map((h) => h.name.replace(/^airgap-/, "")),
    );
    expect(Object.keys(JSON.parse(env.HARDENED_RKE2_FIPS_EVIDENCE))).toEqual(
      hosts.map((h) => h.name.replace(/^airgap-/, "")),
    );
  });

  it("passes every policy of the pack", async () => {
    expect(await checkPack(policies, fromRecorded(run.resources))).toEqual([]);
  });
});

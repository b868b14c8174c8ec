// The node scripts the renderers produce, run for real as root in a throw-away root (chroot), twice: the first run
// hardens and installs, the second changes nothing. Stand-ins: systemctl (no systemd in the root) and the rke2 binary
// (test/standins); the /proc/sys of the root is a folder of plain files, so the real kernel is never touched.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { embeddedScriptAsRoot, fileRecords, PLACE_FILES_SCRIPT } from "../../components/bootstrap/remote";
import { renderBundle } from "../../components/render/bundle";
import type { RenderInputs } from "../../components/render/inputs";
import type { NodeBundle } from "../../components/render/node";
import { fipsResults } from "../../components/hardening/verify";
import { existingConfig, spec } from "../helpers/spec";
import {
  bootstrap as bootstrapIn,
  inRoot,
  makeRoot,
  snapshot,
  writeStandinRelease,
} from "../helpers/standin-root";

const TOKEN = "PLANTED-TOKEN-0b7e";
const inputs: RenderInputs = { secret: () => TOKEN, file: () => "", secretFile: () => "" };
const release = writeStandinRelease(fs.mkdtempSync(path.join(os.tmpdir(), "standin-release-")));

const bootstrap = (root: string, b: NodeBundle, skip: string[] = []) => bootstrapIn(root, b, release, skip);

function bundles(change: (c: Record<string, any>) => void = () => undefined): NodeBundle[] {
  const c = existingConfig();
  c.install = { mode: "airgap", artifactsDir: release };
  change(c);
  return renderBundle(spec(c), inputs).nodes;
}

const read = (root: string, p: string) => fs.readFileSync(path.join(root, p), "utf8");
const modeOf = (root: string, p: string) => (fs.statSync(path.join(root, p)).mode & 0o777).toString(8);

describe("bootstrap scripts on a server, twice", () => {
  const root = makeRoot();
  const [server] = bundles();
  const first = bootstrap(root, server);
  const before = snapshot(root);
  const systemctlCalls = read(root, "var/log/systemctl-standin.log");
  const second = bootstrap(root, server);

  it("runs every step successfully the first time", () => {
    expect(first.map((r) => `${r.step}:${r.status}`)).toEqual([
      "files:0",
      "sysctl:0",
      "etcd-user:0",
      "install:0",
      "start:0",
      "ready:0",
      "cis:0",
    ]);
  });

  it("applies the kernel parameters into the root's /proc/sys stand-in", () => {
    expect(
      ["vm/panic_on_oom", "vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"].map((k) =>
        read(root, `proc/sys/${k}`).trim(),
      ),
    ).toEqual(["0", "1", "10", "1"]);
    expect(modeOf(root, "etc/sysctl.d/90-kubelet.conf")).toBe("644");
  });

  it("creates the etcd system user and group with no login shell and no home", () => {
    const etcd = read(root, "etc/passwd")
      .split("\n")
      .find((l) => l.startsWith("etcd:"))
      ?.split(":");
    expect(etcd?.[5]).toBe("/nonexistent");
    expect(etcd?.[6]).toBe("/usr/sbin/nologin");
    expect(Number(etcd?.[2])).toBeLessThan(1000);
    expect(read(root, "etc/group")).toMatch(/^etcd:x:\d+:$/m);
    expect(fs.existsSync(path.join(root, "home/etcd"))).toBe(false);
  });

  it("installs from the verified artifacts and places the images, 0600", () => {
    expect(fs.existsSync(path.join(root, "usr/local/bin/rke2"))).toBe(true);
    expect(modeOf(root, "var/lib/rancher/rke2/agent/images/rke2-images.linux-amd64.tar.zst")).toBe("600");
    expect(first.find((r) => r.step === "install")?.out).toContain("placed rke2-images.linux-amd64.tar.zst");
  });

  it("writes the RKE2 files root-only and the token 0600 before RKE2 starts", () => {
    for (const p of [
      "etc/rancher/rke2/config.yaml",
      "etc/rancher/rke2/cluster-token",
      "etc/rancher/rke2/audit-policy.yaml",
      "etc/rancher/rke2/hardened-rke2-pss.yaml",
    ]) {
      expect(`${p} ${modeOf(root, p)}`).toBe(`${p} 600`);
    }
    expect(read(root, "etc/rancher/rke2/cluster-token")).toBe(`${TOKEN}\n`);
    expect(read(root, "var/log/rke2-standin.log")).toMatch(/start server node=s1 server=<bootstrap>\n$/);
  });

  it("changes nothing and restarts nothing on the second run", () => {
    expect(second.map((r) => `${r.step}:${r.status}`)).toEqual(first.map((r) => `${r.step}:${r.status}`));
    expect(snapshot(root)).toEqual(before);
    expect(second.find((r) => r.step === "files")?.out).toBe("hardened-rke2: 0 file(s) changed\n");
    expect(second.find((r) => r.step === "install")?.out).toContain("is already installed");
    expect(second.find((r) => r.step === "start")?.out).toContain(
      "is running with the current configuration",
    );
    expect(read(root, "var/log/systemctl-standin.log").slice(systemctlCalls.length)).not.toMatch(
      /systemctl (start|restart)/,
    );
    expect(read(root, "var/log/rke2-standin.log").trim().split("\n")).toHaveLength(1);
  });

  it("rewrites a changed file and restarts RKE2 to apply it, removing files no longer rendered", () => {
    const [changed] = bundles((c) => (c.audit = { maxAge: 45 }));
    fs.writeFileSync(path.join(root, "etc/rancher/rke2/stale-from-old-run"), "x");
    fs.appendFileSync(
      path.join(root, "var/lib/hardened-rke2/files.list"),
      "/etc/rancher/rke2/stale-from-old-run\n",
    );
    const third = bootstrap(root, changed);
    expect(third.find((r) => r.step === "files")?.out).toBe(
      "hardened-rke2: wrote /etc/rancher/rke2/config.yaml\n" +
        "hardened-rke2: removed /etc/rancher/rke2/stale-from-old-run (no longer rendered)\n" +
        "hardened-rke2: 2 file(s) changed\n",
    );
    expect(third.find((r) => r.step === "start")?.out).toContain("restarted rke2-server.service");
    expect(read(root, "etc/rancher/rke2/config.yaml")).toContain("audit-log-maxage=45");
  });
});

describe("bootstrap scripts on an agent", () => {
  const root = makeRoot();
  const agent = bundles()[3];
  const run = bootstrap(root, agent);

  it("skips the etcd user and joins through the registration address", () => {
    expect(run.map((r) => `${r.step}:${r.status}`)).toEqual([
      "files:0",
      "sysctl:0",
      "install:0",
      "start:0",
      "ready:0",
      "cis:0",
    ]);
    expect(read(root, "etc/passwd")).not.toContain("etcd:");
    expect(read(root, "var/log/rke2-standin.log")).toContain(
      "start agent node=a1 server=https://192.0.2.11:9345",
    );
  });
});

describe("what the steps refuse", () => {
  it("RKE2 refuses to start under the CIS profile when the sysctl step did not run", () => {
    const root = makeRoot();
    const run = bootstrap(root, bundles()[0], ["sysctl"]);
    const start = run[run.length - 1];
    expect(start.step).toBe("start");
    expect(start.status).not.toBe(0);
    expect(start.out).toContain(
      'level=fatal msg="invalid kernel parameter value vm.panic_on_oom=1 - expected 0"',
    );
  });

  it("RKE2 refuses to start on a server without the etcd user", () => {
    const root = makeRoot();
    const run = bootstrap(root, bundles()[0], ["etcd-user"]);
    expect(run[run.length - 1].out).toContain('level=fatal msg="missing required: user: unknown user etcd"');
  });

  it("the install refuses a tampered artifact and installs nothing", () => {
    const root = makeRoot();
    const b = bundles()[0];
    inRoot(root, ["/usr/bin/bash", "-c", PLACE_FILES_SCRIPT], fileRecords([...b.files, ...b.scripts]));
    fs.copyFileSync(
      path.join(release, "rke2.linux-amd64.tar.gz"),
      path.join(root, "var/lib/hardened-rke2/artifacts/rke2.linux-amd64.tar.gz"),
    );
    fs.writeFileSync(
      path.join(root, "var/lib/hardened-rke2/artifacts/rke2-images.linux-amd64.tar.zst"),
      "tampered\n",
    );
    const r = inRoot(root, ["/var/lib/hardened-rke2/bin/30-install.sh"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("does not match the checksum listed in the operator's folder");
    expect(fs.existsSync(path.join(root, "usr/local/bin/rke2"))).toBe(false);
  });

  it("the install refuses SELinux on a host without the rke2-selinux policy", () => {
    const root = makeRoot();
    const run = bootstrap(root, bundles((c) => (c.selinux = true))[0]);
    const install = run[run.length - 1];
    expect(`${install.step}:${install.status}`).toBe("install:1");
    expect(install.out).toContain("selinux is enabled in the stack but this host has no rke2-selinux policy");
    expect(fs.existsSync(path.join(root, "usr/local/bin/rke2"))).toBe(false);
  });

  it("the files step runs from the embedded command form the remote step uses", () => {
    const root = makeRoot();
    const b = bundles()[0];
    const r = inRoot(
      root,
      ["/usr/bin/sh", "-c", embeddedScriptAsRoot(PLACE_FILES_SCRIPT)],
      fileRecords(b.files),
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(read(root, "etc/rancher/rke2/cluster-token")).toBe(`${TOKEN}\n`);
  });
});

describe("FIPS (fips: true): the kernel checked before the install, the binary's crypto module after it", () => {
  // The same stand-in release, once as a FIPS build (the BoringCrypto symbol names appended, see
  // test/standins/rke2-fips-symbols.txt) and once as it is.
  const fipsRelease = writeStandinRelease(fs.mkdtempSync(path.join(os.tmpdir(), "standin-fips-release-")), {
    fips: true,
  });
  const fipsBundles = (artifactsDir: string) =>
    bundles((c) => {
      c.fips = true;
      c.install = { mode: "airgap", artifactsDir };
    });
  const setKernel = (root: string, value: string) =>
    fs.writeFileSync(path.join(root, "proc/sys/crypto/fips_enabled"), `${value}\n`);

  it("refuses a node whose kernel is not in FIPS mode before installing anything, naming the node and the fix", () => {
    const root = makeRoot();
    const run = bootstrapIn(root, fipsBundles(fipsRelease)[0], fipsRelease);
    expect(run.map((r) => `${r.step}:${r.status}`)).toEqual([
      "files:0",
      "sysctl:0",
      "etcd-user:0",
      "fips-kernel:1",
    ]);
    const out = run[run.length - 1].out;
    expect(out).toContain(
      "node s1 is not in FIPS mode (/proc/sys/crypto/fips_enabled is 0) and the stack sets fips: true, so RKE2 is not installed there.",
    );
    expect(out).toContain("fips-mode-setup --enable");
    expect(out).toContain("fips=1 on the kernel command line");
    expect(fs.existsSync(path.join(root, "usr/local/bin/rke2"))).toBe(false);
  });

  it("installs and starts on a FIPS-mode kernel with a FIPS build, twice, and the evidence passes the verification", () => {
    const root = makeRoot();
    setKernel(root, "1");
    const [server] = fipsBundles(fipsRelease);
    const first = bootstrapIn(root, server, fipsRelease);
    expect(first.map((r) => `${r.step}:${r.status}`)).toEqual([
      "files:0",
      "sysctl:0",
      "etcd-user:0",
      "fips-kernel:0",
      "install:0",
      "fips-module:0",
      "start:0",
      "ready:0",
      "cis:0",
    ]);
    const module = first.find((r) => r.step === "fips-module")?.out ?? "";
    expect(module).toBe(
      "hardened-rke2: FIPS s1: kernel fips_enabled=1, /usr/local/bin/rke2 carries the BoringCrypto module (3 _Cfunc__goboringcrypto_ symbols)\n",
    );
    expect(fipsResults(["s1"], { s1: module }).map((r) => r.pass)).toEqual([true]);
    const second = bootstrapIn(root, server, fipsRelease);
    expect(second.map((r) => `${r.step}:${r.status}`)).toEqual(first.map((r) => `${r.step}:${r.status}`));
  });

  it("refuses to start a binary without the BoringCrypto module, even on a FIPS-mode kernel", () => {
    const root = makeRoot();
    setKernel(root, "1");
    const run = bootstrapIn(root, fipsBundles(release)[0], release);
    expect(run.map((r) => `${r.step}:${r.status}`).slice(-3)).toEqual([
      "fips-kernel:0",
      "install:0",
      "fips-module:1",
    ]);
    expect(run[run.length - 1].out).toContain(
      "node s1: /usr/local/bin/rke2 (v1.33.5+rke2r1) carries no BoringCrypto module (no _Cfunc__goboringcrypto_ symbols)",
    );
    expect(fs.existsSync(path.join(root, "var/log/rke2-standin.log"))).toBe(false);
  });

  it("renders no FIPS step when the stack does not ask for FIPS", () => {
    expect(bundles()[0].scripts.map((s) => s.step)).toEqual([
      "sysctl",
      "etcd-user",
      "install",
      "start",
      "ready",
      "cis",
    ]);
  });
});

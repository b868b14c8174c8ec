// A throw-away root per test host (test/hosts/make-root.sh) and the STAND-IN RKE2 and K3s releases: real file names,
// layout and checksum file, with test/standins/rke2-standin.sh as the `rke2` binary, k3s-standin.sh as `k3s`.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileRecords, PLACE_FILES_SCRIPT } from "../../components/bootstrap/remote";
import type { NodeBundle } from "../../components/render/node";
import { REPO } from "./spec";

const STANDINS = path.join(REPO, "test", "standins");

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("these tests run the node scripts as root in a chroot: run them as root (CI does)");
  }
}

/** The pids of the processes running inside `root` (their /proc/<pid>/root is it); with `name`, only those whose
 * executable is named so. */
export function pidsInRoot(root: string, name?: string): string[] {
  const real = fs.realpathSync(root);
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        if (fs.readlinkSync(`/proc/${pid}/root`) !== real) return false;
        return (
          name === undefined ||
          path.basename(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]) === name
        );
      } catch {
        return false; // ended while we looked
      }
    });
}

/** Ends every process running inside `root` (the RKE2 stand-in's control plane): those whose /proc/<pid>/root is it. */
export async function stopRootProcesses(root: string): Promise<void> {
  if (!fs.existsSync(root)) return; // removed already, after its processes were stopped
  const inside = () => pidsInRoot(root).map(Number);
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    for (const pid of inside()) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 100 && inside().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    if (inside().length === 0) return;
  }
}

const made: string[] = [];
afterAll(async () => {
  for (const dir of made.splice(0)) {
    await stopRootProcesses(dir);
    // HARDENED_RKE2_E2E_KEEP=1 keeps the roots (their logs) for a look after a failure.
    if (!process.env.HARDENED_RKE2_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A new root, removed when the test file ends. */
export function makeRoot(): string {
  requireRoot();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "hardened-rke2-root-"));
  // A host's / is 0755; mkdtemp makes 0700, and the etcd user (the RKE2 stand-in's etcd under the CIS profile) could
  // not reach anything in it.
  fs.chmodSync(root, 0o755);
  made.push(root);
  const r = spawnSync("bash", [path.join(REPO, "test", "hosts", "make-root.sh"), root, STANDINS], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`make-root.sh failed: ${r.stderr}`);
  return root;
}

/** Runs a command as root inside the root with a clean environment. */
export function inRoot(root: string, argv: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(
    "chroot",
    [root, "/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/usr/sbin", ...argv],
    {
      encoding: "utf8",
      input,
      // Bounded: a node script that hangs fails its test instead of holding the run (the e2e's CI limit).
      timeout: 300_000,
    },
  );
}

/** Writes the stand-in release into `dir`: tarball, images archive and sha256sum-amd64.txt. With `fips`, its rke2 is
 * the FIPS build of the stand-in (the stand-in with the BoringCrypto symbol names appended). `version` is the release
 * its rke2 says it is (`rke2 --version`, and the kubelet version its Node reports); each version is a different
 * tarball, as real releases are. With `imagesBytes`, the images archive is that many bytes of random data (no holes,
 * nothing compressible), the size of a real one. */
export function writeStandinRelease(
  dir: string,
  opts: { fips?: boolean; version?: string; imagesBytes?: number } = {},
): string {
  const version = opts.version ?? "v1.33.5+rke2r1";
  const stamp = (script: string) => script.replace(/^version=.*$/m, `version=${version}`);
  fs.mkdirSync(dir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "rke2-standin-bundle-"));
  fs.mkdirSync(path.join(stage, "bin"));
  fs.mkdirSync(path.join(stage, "lib/systemd/system"), { recursive: true });
  fs.mkdirSync(path.join(stage, "share/rke2"), { recursive: true });
  fs.writeFileSync(
    path.join(stage, "bin/rke2"),
    stamp(fs.readFileSync(path.join(STANDINS, "rke2-standin.sh"), "utf8")) +
      (opts.fips ? fs.readFileSync(path.join(STANDINS, "rke2-fips-symbols.txt"), "utf8") : ""),
  );
  fs.chmodSync(path.join(stage, "bin/rke2"), 0o755);
  // The kubelet stand-in the rke2 stand-in starts (RKE2 ships the kubelet in its release too).
  fs.writeFileSync(
    path.join(stage, "share/rke2/kubelet-standin.sh"),
    stamp(fs.readFileSync(path.join(STANDINS, "kubelet-standin.sh"), "utf8")),
    { mode: 0o755 },
  );
  for (const role of ["server", "agent"]) {
    fs.writeFileSync(
      path.join(stage, `lib/systemd/system/rke2-${role}.service`),
      `[Unit]\nDescription=STAND-IN rke2 ${role}\n[Service]\nExecStart=/usr/local/bin/rke2 ${role}\n`,
    );
  }
  fs.writeFileSync(
    path.join(stage, "share/rke2/rke2-cis-sysctl.conf"),
    "vm.panic_on_oom=0\nvm.overcommit_memory=1\nkernel.panic=10\nkernel.panic_on_oops=1\n",
  );
  const tarball = path.join(dir, "rke2.linux-amd64.tar.gz");
  const t = spawnSync(
    "tar",
    ["-czf", tarball, "--owner=0", "--group=0", "-C", stage, "bin", "lib", "share"],
    { encoding: "utf8" },
  );
  if (t.status !== 0) throw new Error(`tar failed: ${t.stderr}`);
  const images = path.join(dir, "rke2-images.linux-amd64.tar.zst");
  fs.writeFileSync(images, "STAND-IN image archive\n");
  for (let left = opts.imagesBytes ?? 0, chunk = Buffer.alloc(16 << 20); left > 0; left -= chunk.length)
    fs.appendFileSync(images, randomFillSync(chunk).subarray(0, Math.min(left, chunk.length)));
  const sum = (f: string) => {
    const h = createHash("sha256");
    const fd = fs.openSync(path.join(dir, f), "r");
    const buf = Buffer.alloc(16 << 20);
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) h.update(buf.subarray(0, n));
    fs.closeSync(fd);
    return h.digest("hex");
  };
  fs.writeFileSync(
    path.join(dir, "sha256sum-amd64.txt"),
    ["rke2.linux-amd64.tar.gz", "rke2-images.linux-amd64.tar.zst"].map((f) => `${sum(f)}  ${f}`).join("\n") +
      "\n",
  );
  return dir;
}

/** The STAND-IN K3s release's artifacts, with K3s's real file names (its amd64 binary is plain `k3s`). */
export const K3S_ARTIFACTS = ["k3s", "k3s-airgap-images-amd64.tar.zst"];

/** Writes the stand-in K3s release into `dir`: test/standins/k3s-standin.sh as its `k3s` binary, an images archive
 * and sha256sum-amd64.txt listing both. */
export function writeK3sStandinRelease(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(STANDINS, "k3s-standin.sh"), path.join(dir, "k3s"));
  fs.writeFileSync(path.join(dir, "k3s-airgap-images-amd64.tar.zst"), "STAND-IN K3s image archive\n");
  const sum = (f: string) =>
    createHash("sha256")
      .update(fs.readFileSync(path.join(dir, f)))
      .digest("hex");
  fs.writeFileSync(
    path.join(dir, "sha256sum-amd64.txt"),
    K3S_ARTIFACTS.map((f) => `${sum(f)}  ${f}\n`).join(""),
  );
  return dir;
}

/** What the bootstrap does on one node, in the root: the files over stdin, the artifacts copied (a STAND-IN for
 * CopyToRemote: the same bytes land at the same path), then each step until one fails. */
export function bootstrap(
  root: string,
  b: NodeBundle,
  release: string,
  skip: string[] = [],
  artifacts = ["rke2.linux-amd64.tar.gz", "rke2-images.linux-amd64.tar.zst"],
): { step: string; status: number | null; out: string }[] {
  const results = [];
  const files = inRoot(
    root,
    ["/usr/bin/bash", "-c", PLACE_FILES_SCRIPT],
    fileRecords([...b.files, ...b.scripts]),
  );
  results.push({ step: "files", status: files.status, out: files.stdout + files.stderr });
  for (const f of artifacts) {
    fs.copyFileSync(path.join(release, f), path.join(root, "var/lib/hardened-rke2/artifacts", f));
  }
  for (const s of b.scripts) {
    if (skip.includes(s.step)) continue;
    const r = inRoot(root, [s.path]);
    results.push({ step: s.step, status: r.status, out: r.stdout + r.stderr });
    if (r.status !== 0) break;
  }
  return results;
}

/** path, mode, owner and sha256 of every file under the root except logs and /proc: what a re-run must not change. */
export function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      const rel = path.relative(root, abs);
      if (/^(var\/log|run|usr\/bin|usr\/sbin|usr\/lib|usr\/lib64|tmp)(\/|$)/.test(rel)) continue;
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) {
        const st = fs.statSync(abs);
        const hash = createHash("sha256").update(fs.readFileSync(abs)).digest("hex");
        out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${hash}`);
      }
    }
  };
  walk(root);
  return out.sort();
}

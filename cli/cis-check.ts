// `npm run cis-check -- --stack <env> [--root <dir>] [--journal <file>]`, run on a server node: reads the command
// lines of the running kube-apiserver and kube-controller-manager from /proc (RKE2) or from the lines K3s logs as it
// starts them (K3s: its components run inside the k3s process; `journalctl -m -u k3s` unless --journal names a saved
// copy), and the modes of this product's files, and prints a PASS/FAIL line per CIS control (the node-side checks
// kube-bench's RKE2 benchmark and K3s's self-assessment make). Exit 1 when a control fails.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatResults } from "../components/hardening/verify";
import { flagValue, hostChecks, k3sComponentArgs, type HostFacts } from "../components/hardening/host-checks";
import { rootOnlyFiles } from "../components/render/cis-checks";
import { loadStackFileSpec, stackFilePath } from "../stacks/config";

/** Command lines of running processes whose executable is named `name`, read from /proc; with `processRoot` other
 * than "/", only processes running inside that root (a chroot), so a check of one test host never reads another's. */
export function processArgs(name: string, proc = "/proc", processRoot = "/"): string[] | undefined {
  const wanted = processRoot === "/" ? undefined : fs.realpathSync(processRoot);
  for (const pid of fs.readdirSync(proc).filter((d) => /^\d+$/.test(d))) {
    let argv: string[];
    try {
      if (wanted !== undefined && fs.readlinkSync(path.join(proc, pid, "root")) !== wanted) continue;
      argv = fs
        .readFileSync(path.join(proc, pid, "cmdline"), "utf8")
        .split("\0")
        .filter(Boolean);
    } catch {
      continue; // the process ended while we looked
    }
    if (argv.length > 0 && path.basename(argv[0]) === name) return argv.slice(1);
  }
  return undefined;
}

/** The facts of one node: files under `root` (where the node's file system is mounted), processes from `proc`; with
 * `k3sLog` (a K3s node's `journalctl -u k3s` text), K3s's files and the command lines its log gives. */
export function gatherFacts(root: string, proc = "/proc", processRoot = "/", k3sLog?: string): HostFacts {
  const files: HostFacts["files"] = {};
  for (const f of rootOnlyFiles(k3sLog === undefined ? "rke2" : "k3s")) {
    const abs = path.join(root, f);
    files[f] = fs.existsSync(abs)
      ? (({ mode, uid, gid }) => ({ mode, uid, gid }))(fs.statSync(abs))
      : undefined;
  }
  const argsOf = (name: string) =>
    k3sLog === undefined ? processArgs(name, proc, processRoot) : k3sComponentArgs(k3sLog, name);
  const api = argsOf("kube-apiserver");
  const encryption = flagValue(api, "encryption-provider-config");
  let encryptionConfig: string | undefined;
  try {
    if (encryption) encryptionConfig = fs.readFileSync(path.join(root, encryption), "utf8");
  } catch {
    encryptionConfig = undefined; // unreadable: the check reports it
  }
  return {
    processes: {
      "kube-apiserver": api,
      "kube-controller-manager": argsOf("kube-controller-manager"),
    },
    files,
    encryptionConfig,
  };
}

/** K3s's log: a saved copy, or `journalctl -m -u k3s` on the node (the self-assessment's audits read it the same way). */
function readK3sLog(saved: string | undefined): string {
  if (saved !== undefined) return fs.readFileSync(saved, "utf8");
  const r = spawnSync("journalctl", ["-m", "-u", "k3s", "--no-pager", "-o", "cat"], { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `journalctl -m -u k3s failed (${r.error?.message ?? r.stderr.trim()}); pass --journal <file>, a saved copy of it`,
    );
  return r.stdout;
}

export function main(argv: string[]): number {
  const arg = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const stack = arg("--stack");
  if (stack === undefined) {
    process.stderr.write(
      "usage: npm run cis-check -- --stack <env> [--root <dir>] [--artifacts-dir <dir>] [--journal <file>]\n",
    );
    return 2;
  }
  const spec = loadStackFileSpec(stackFilePath(stack), { artifactsDir: arg("--artifacts-dir") });
  let k3sLog: string | undefined;
  if (spec.distribution === "k3s") {
    try {
      k3sLog = readK3sLog(arg("--journal"));
    } catch (err) {
      process.stderr.write(`cis-check: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
  }
  const results = hostChecks(spec, gatherFacts(arg("--root") ?? "/", "/proc", "/", k3sLog));
  process.stdout.write(`${formatResults(results)}\n`);
  return results.every((r) => r.pass) ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

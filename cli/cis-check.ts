// `npm run cis-check -- --stack <env> [--root <dir>]`, run on a server node: reads the command lines of the running
// kube-apiserver and kube-controller-manager from /proc and the modes of this product's files, and prints a PASS/FAIL
// line per CIS control (the node-side checks kube-bench's RKE2 benchmark makes). Exit 1 when a control fails.
import * as fs from "node:fs";
import * as path from "node:path";
import { formatResults } from "../components/hardening/verify";
import { flagValue, hostChecks, ROOT_ONLY_FILES, type HostFacts } from "../components/hardening/host-checks";
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

/** The facts of one node: files under `root` (where the node's file system is mounted), processes from `proc`. */
export function gatherFacts(root: string, proc = "/proc", processRoot = "/"): HostFacts {
  const files: HostFacts["files"] = {};
  for (const f of ROOT_ONLY_FILES) {
    const abs = path.join(root, f);
    files[f] = fs.existsSync(abs)
      ? (({ mode, uid, gid }) => ({ mode, uid, gid }))(fs.statSync(abs))
      : undefined;
  }
  const api = processArgs("kube-apiserver", proc, processRoot);
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
      "kube-controller-manager": processArgs("kube-controller-manager", proc, processRoot),
    },
    files,
    encryptionConfig,
  };
}

export function main(argv: string[]): number {
  const arg = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const stack = arg("--stack");
  if (stack === undefined) {
    process.stderr.write(
      "usage: npm run cis-check -- --stack <env> [--root <dir>] [--artifacts-dir <dir>]\n",
    );
    return 2;
  }
  const spec = loadStackFileSpec(stackFilePath(stack), { artifactsDir: arg("--artifacts-dir") });
  const results = hostChecks(spec, gatherFacts(arg("--root") ?? "/"));
  process.stdout.write(`${formatResults(results)}\n`);
  return results.every((r) => r.pass) ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

// Bytes read by a `pulumi` run's processes, from Linux's /proc/<pid>/task/<tid>/io, and a floor project for the
// no-op run: what the end-to-end run prints beside the artifacts' size (README, "Benchmark").
//
// What is counted: `rchar`, the bytes every read(2)-family call of the process returned, page cache hits included
// (read_bytes would count only what came from the disk itself, so a cached 1 GB archive would read as 0). Sockets
// and pipes count too (the gRPC between the CLI, the language host and the providers): an upper bound on file reads.
// Per thread, not /proc/<pid>/io: a process's own figure there also adds every child it has reaped (kernel
// wait_task_zombie adds the child's counters to the parent's), which would count the program twice in the CLI.
// Each process is sampled every 50 ms until it ends, so the last 50 ms of each process are not seen; a thread that
// ended before the last sample of its process is not counted either (Go and Node keep theirs for the process's life).
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { TOOLCHAIN_BIN } from "./control-plane";
import { REPO } from "./spec";
import { cliFor, type Cli } from "./pulumi-cli";

export type Role = "cli" | "language host" | "program" | "providers" | "other";

export interface IoSample {
  /** Bytes read per role, summed over the role's processes. */
  bytes: Record<Role, number>;
  total: number;
}

function readStat(pid: string): { ppid: number; comm: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is in parentheses and may hold spaces: the fields after the last ')' are fixed.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    return { ppid, comm };
  } catch {
    return undefined; // ended while we looked
  }
}

function ownRchar(pid: string): number | undefined {
  try {
    let sum = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const m = /^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/io`, "utf8"));
      if (m) sum += Number(m[1]);
    }
    return sum;
  } catch {
    return undefined;
  }
}

function roleOf(comm: string, parentRole: Role | undefined): Role {
  if (parentRole === undefined) return "other"; // the shell that runs the CLI
  if (parentRole === "other" && comm === "pulumi") return "cli";
  if (parentRole === "cli") return comm.startsWith("pulumi-language") ? "language host" : "providers";
  if (parentRole === "language host" || parentRole === "program") return "program";
  return parentRole; // a provider's children (the dynamic provider's node) are the provider's
}

/** Follows the process tree under `root` until `done` settles; returns the bytes read per role. */
export async function sampleReads(root: ChildProcess, done: Promise<unknown>): Promise<IoSample> {
  const seen = new Map<number, { role: Role; bytes: number }>();
  const rootPid = root.pid as number;
  const tick = () => {
    const stats = new Map<number, { ppid: number; comm: string }>();
    for (const d of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      const s = readStat(d);
      if (s) stats.set(Number(d), s);
    }
    // Parents before children: a pid joins the tree once its parent is in it.
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, s] of stats) {
        if (seen.has(pid)) continue;
        const parent = seen.get(s.ppid);
        if (pid !== rootPid && !parent) continue;
        seen.set(pid, { role: roleOf(s.comm, parent?.role), bytes: 0 });
        grew = true;
      }
    }
    for (const [pid, entry] of seen) {
      const b = ownRchar(String(pid));
      if (b !== undefined && stats.has(pid)) entry.bytes = Math.max(entry.bytes, b);
    }
  };
  const timer = setInterval(tick, 50);
  tick();
  await done;
  clearInterval(timer);
  const bytes: Record<Role, number> = { cli: 0, "language host": 0, program: 0, providers: 0, other: 0 };
  for (const { role, bytes: b } of seen.values()) bytes[role] += b;
  return { bytes, total: Object.values(bytes).reduce((a, b) => a + b, 0) };
}

export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/**
 * The floor of a no-op run: a project with `count` do-nothing command resources (`create: "true"`, one apply each,
 * as bench/floor.ts) on the same CLI, backend, language host, loader (the product's Pulumi.yaml and tsconfig files)
 * and command provider, in a stack of its own. Brought up once here, so its next `up` is a no-op.
 */
export function floorProject(work: string, product: Cli, count: number): Cli {
  const dir = path.join(work, "floor");
  fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
  const links = [
    "node_modules",
    "package.json",
    ...fs.readdirSync(REPO).filter((x) => /^tsconfig.*\.json$/.test(x)),
  ];
  for (const f of links) fs.symlinkSync(path.join(REPO, f), path.join(dir, f));
  fs.copyFileSync(path.join(product.dir, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.writeFileSync(
    path.join(dir, "index.ts"),
    [
      "// The no-op floor: do-nothing resources, one apply each (test/helpers/proc-io.ts).",
      'import * as command from "@pulumi/command";',
      `export const lengths = Array.from({ length: ${count} }, (_, i) =>`,
      '  new command.local.Command(`floor-${i}`, { create: "true" }).stdout.apply((s) => s.length),',
      ");",
      "",
    ].join("\n"),
  );
  const cli = cliFor(dir, product.env, "floor");
  for (const args of [
    ["stack", "init"],
    ["up", "--yes"],
  ]) {
    const r = cli.run(args);
    if (r.status !== 0)
      throw new Error(`floor project: pulumi ${args.join(" ")} failed:\n${r.out.slice(-3000)}`);
  }
  return cli;
}

/**
 * A `pulumi` run with its wall time and the bytes its processes read: `io` per role, sampled (above); `reaped`, the
 * rchar of a shell that ran the CLI and waited for it, read after the CLI exited: the kernel adds each reaped
 * process's counters to its parent's, so it holds the CLI and every descendant that was waited for (the language host
 * and its program, the providers), their last milliseconds included, and nothing of a process left unreaped.
 */
export async function measuredRun(cli: Cli, args: string[], log: string, stack: string) {
  const t0 = Date.now();
  const ioFile = `${log}.io`;
  const fd = fs.openSync(log, "a");
  const p = spawn(
    "bash",
    [
      "-c",
      'exec 3>"$0"; "${@}"; rc=$?; cat /proc/$$/io >&3; exit $rc',
      ioFile,
      path.join(TOOLCHAIN_BIN, "pulumi"),
      ...args,
      "--non-interactive",
      "--stack",
      stack,
    ],
    { cwd: cli.dir, env: cli.env, stdio: ["ignore", fd, fd], detached: true },
  );
  fs.closeSync(fd);
  const exited = new Promise<number | null>((resolve) => p.on("exit", (code) => resolve(code)));
  const io = await sampleReads(p, exited);
  const status = await exited;
  const reaped = Number(/^rchar: (\d+)$/m.exec(fs.readFileSync(ioFile, "utf8"))?.[1] ?? NaN);
  return { status, seconds: (Date.now() - t0) / 1000, io, reaped, out: fs.readFileSync(log, "utf8") };
}

// The real Pulumi CLI (built by e2e/toolchain/build.sh) on a copy of the product's project: the local file backend, the
// passphrase secrets provider, and the providers from the toolchain. The command provider comes from ONE setting,
// HARDENED_RKE2_COMMAND_PROVIDER_DIR (a folder holding `pulumi-resource-command`): the stand-in by default, a build of
// the real provider when it names one.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { TOOLCHAIN_BIN } from "./control-plane";
import { REPO } from "./spec";

/** The folder holding the command provider the run uses. */
export function commandProviderDir(): string {
  const set = process.env.HARDENED_RKE2_COMMAND_PROVIDER_DIR;
  if (set) return set;
  const r = spawnSync("bash", [path.join(REPO, "e2e/toolchain/build.sh"), "--print-env"], {
    encoding: "utf8",
  });
  const line = /^(?:export )?HARDENED_RKE2_COMMAND_PROVIDER_DIR=["']?([^"'\n]+)/m.exec(r.stdout);
  if (!line)
    throw new Error(`build.sh --print-env names no command provider folder:\n${r.stdout}${r.stderr}`);
  return line[1];
}

export interface CliResult {
  status: number | null;
  /** Standard output and standard error together. */
  out: string;
  /** Standard output alone (a stack output, an export, JSON). */
  stdout: string;
  seconds: number;
}

export interface Cli {
  dir: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], input?: string, timeoutSeconds?: number): CliResult;
  /** Starts a command and returns its process (for the interrupted run). */
  start(args: string[], log: string): ReturnType<typeof spawn>;
}

/**
 * A project folder that is the product's (index.ts, components/, stacks/config.ts are links to the repository) with a
 * stack file of the test's own, and the CLI's environment.
 */
export function projectCopy(work: string, stack: string, cluster: Record<string, unknown>): Cli {
  const dir = path.join(work, "project");
  fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
  fs.mkdirSync(path.join(work, "state"), { recursive: true });
  const tsconfigs = fs.readdirSync(REPO).filter((f) => /^tsconfig.*\.json$/.test(f)); // Pulumi.yaml may name one
  for (const f of ["components", "cli", "package.json", "node_modules", ...tsconfigs])
    fs.symlinkSync(path.join(REPO, f), path.join(dir, f));
  // A copy, not a link: Node would resolve a linked entry point to the repository and load components/ from there,
  // and a test may swap this folder's components/ for a changed copy (see useChangedComponents).
  fs.copyFileSync(path.join(REPO, "index.ts"), path.join(dir, "index.ts"));
  fs.symlinkSync(path.join(REPO, "stacks", "config.ts"), path.join(dir, "stacks", "config.ts"));
  fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  writeStackConfig(dir, stack, cluster);
  const providers = commandProviderDir();
  if (!fs.existsSync(path.join(providers, "pulumi-resource-command")))
    throw new Error(`no pulumi-resource-command in ${providers} (HARDENED_RKE2_COMMAND_PROVIDER_DIR)`);
  const env: NodeJS.ProcessEnv = {
    PATH: [
      providers,
      TOOLCHAIN_BIN,
      // Dynamic resources (the generated token) run in the plugin the SDK ships (FACTS.md §5).
      path.join(REPO, "node_modules", "@pulumi", "pulumi"),
      process.env.PATH ?? "",
    ].join(":"),
    HOME: process.env.HOME,
    TMPDIR: path.join(work, "tmp"),
    PULUMI_HOME: path.join(work, "home"),
    // The artifacts' digest record of this run's own (components/spec/artifacts.ts), not the user's: two e2e files run
    // side by side, and one's record must not replace the other's (a lost record costs a read of the artifacts).
    HARDENED_RKE2_CACHE_DIR: path.join(work, "cache"),
    PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase-not-a-secret",
    PULUMI_SKIP_UPDATE_CHECK: "1",
    // The loader `pulumi up` gets from Pulumi.yaml's tsconfig.pulumi.json (noCheck): the language host built here
    // (v3.68.0) does not pass that option on, so the same transpile-only ts-node is asked for directly.
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    // Shows the `--event-log` flag (pkg/v3 cmd/pulumi/operations: only with debug commands on): the run's timings and
    // order come from the engine's own events.
    PULUMI_DEBUG_COMMANDS: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  fs.mkdirSync(env.TMPDIR as string, { recursive: true });
  return cliFor(dir, env, stack);
}

/** The CLI for the project in `dir`, its stack `stack` and the environment `env` (the toolchain's pulumi). */
export function cliFor(dir: string, env: NodeJS.ProcessEnv, stack: string): Cli {
  const argv = (args: string[]) => [...args, "--non-interactive", "--stack", stack];
  return {
    dir,
    env,
    run: (args, input, timeoutSeconds = 900) => {
      const t0 = Date.now();
      const r = spawnSync(path.join(TOOLCHAIN_BIN, "pulumi"), argv(args), {
        cwd: dir,
        env,
        input,
        encoding: "utf8",
        timeout: timeoutSeconds * 1000,
        maxBuffer: 64 * 1024 * 1024,
      });
      return {
        status: r.status,
        out: `${r.stdout}\n${r.stderr}`,
        stdout: r.stdout,
        seconds: (Date.now() - t0) / 1000,
      };
    },
    start: (args, log) => {
      const fd = fs.openSync(log, "a");
      // Its own process group: killing it kills the CLI and its plugins together, as closing a terminal does.
      const p = spawn(path.join(TOOLCHAIN_BIN, "pulumi"), argv(args), {
        cwd: dir,
        env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
      fs.closeSync(fd);
      return p;
    },
  };
}

/**
 * Swaps the project's components/ for a copy in which `edit` changed one file (as a new TypeScript, SDK or loader
 * version would change the code Pulumi serializes), or back to the repository's with no `edit`.
 */
export function useChangedComponents(dir: string, edit?: { file: string; from: string; to: string }): void {
  const components = path.join(dir, "components");
  fs.rmSync(components, { recursive: true, force: true });
  if (!edit) {
    fs.symlinkSync(path.join(REPO, "components"), components);
    return;
  }
  fs.cpSync(path.join(REPO, "components"), components, { recursive: true });
  const file = path.join(components, edit.file);
  const text = fs.readFileSync(file, "utf8");
  if (!text.includes(edit.from)) throw new Error(`${edit.file} has no ${JSON.stringify(edit.from)}`);
  fs.writeFileSync(file, text.replace(edit.from, edit.to));
}

/** (Re)writes the stack file's cluster config; other keys (the secrets `pulumi config set` wrote) are kept. */
export function writeStackConfig(dir: string, stack: string, cluster: Record<string, unknown>): void {
  const file = path.join(dir, "stacks", `Pulumi.${stack}.yaml`);
  const doc = fs.existsSync(file)
    ? (parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> })
    : { config: {} as Record<string, unknown> };
  doc.config["hardened-rke2:cluster"] = cluster;
  fs.writeFileSync(file, stringify(doc));
}

/** One engine event from `--event-log`. */
interface EngineEvent {
  sequence: number;
  timestamp: number;
  resourcePreEvent?: { metadata: { urn: string; op: string; type: string } };
  resOutputsEvent?: { metadata: { urn: string; op: string; type: string } };
  resOpFailedEvent?: { metadata: { urn: string; op: string; type: string } };
}

export interface ResourceSpan {
  urn: string;
  name: string;
  type: string;
  op: string;
  /** Event sequence numbers and unix seconds of its start and end. */
  startSeq: number;
  endSeq: number;
  start: number;
  end: number;
  failed: boolean;
}

/** Every resource step of one run with where it started and ended, from the CLI's event log. */
export function spans(eventLog: string): ResourceSpan[] {
  const events = fs
    .readFileSync(eventLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EngineEvent);
  const byUrn = new Map<string, ResourceSpan>();
  for (const e of events) {
    const pre = e.resourcePreEvent?.metadata;
    const done = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
    if (pre && pre.op !== "same") {
      byUrn.set(`${pre.urn}|${pre.op}`, {
        urn: pre.urn,
        name: pre.urn.split("::").pop() ?? pre.urn,
        type: pre.type,
        op: pre.op,
        startSeq: e.sequence,
        endSeq: Number.POSITIVE_INFINITY,
        start: e.timestamp,
        end: Number.POSITIVE_INFINITY,
        failed: false,
      });
    }
    if (done && done.op !== "same") {
      const s = byUrn.get(`${done.urn}|${done.op}`);
      if (s) {
        s.endSeq = e.sequence;
        s.end = e.timestamp;
        s.failed = e.resOpFailedEvent !== undefined;
      }
    }
  }
  return [...byUrn.values()];
}

/**
 * The critical path of a run: the longest chain of resource steps through their dependencies (and parents), each
 * weighted by its own duration from the event log. `dependencies` maps a URN to the URNs it waits for.
 */
export function criticalPath(steps: ResourceSpan[], dependencies: Map<string, string[]>): number {
  const duration = new Map<string, number>();
  // Only custom resources take time of their own: a component's or the stack's span covers its children's.
  const own = (s: ResourceSpan) => Number.isFinite(s.end) && !/^(pulumi:pulumi:Stack|rke2:)/.test(s.type);
  for (const s of steps) if (own(s)) duration.set(s.urn, (duration.get(s.urn) ?? 0) + s.end - s.start);
  const memo = new Map<string, number>();
  const finish = (urn: string, seen: Set<string>): number => {
    const known = memo.get(urn);
    if (known !== undefined) return known;
    if (seen.has(urn)) return 0;
    seen.add(urn);
    const before = Math.max(0, ...(dependencies.get(urn) ?? []).map((d) => finish(d, seen)));
    const total = before + (duration.get(urn) ?? 0);
    memo.set(urn, total);
    return total;
  };
  return Math.max(0, ...[...duration.keys()].map((u) => finish(u, new Set())));
}

/** URN → the URNs it depends on, from `pulumi stack export`. */
export function dependenciesOf(exported: string): Map<string, string[]> {
  const doc = JSON.parse(exported) as {
    deployment: { resources?: { urn: string; dependencies?: string[]; parent?: string }[] };
  };
  return new Map(
    (doc.deployment.resources ?? []).map((r) => [
      r.urn,
      [...(r.dependencies ?? []), ...(r.parent ? [r.parent] : [])],
    ]),
  );
}

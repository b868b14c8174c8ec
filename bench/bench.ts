// `npm run bench`: the program's evaluation under mocks next to a floor (bench/floor.ts: the same number of command
// resources, one apply each, same SDK, same mocks, same loader, same run), for 3, 10, 50 and 200 nodes under the
// loader `pulumi up` uses, then the pair at 20 nodes under each other way of loading the program, then the offline
// render time. Each figure is the median of `--runs N` runs (default 3; product and floor alternate, each in a
// fresh process). `npm run bench -- --typecheck` adds one run with ts-node type-checking, as the language host
// does when it ignores Pulumi.yaml's `tsconfig` option. Figures only: no threshold here, speed targets are read by
// people, not asserted.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { renderBundle } from "../components/render/bundle";
import { placeholderInputs } from "../components/render/inputs";
import { buildClusterSpec } from "../components/spec/validate";
import { compileProgram } from "./compile";
import { benchConfig } from "./run-once";

const SIZES = [3, 10, 50, 200];
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const LOADER_NODES = 20;
const TYPECHECK = process.argv.includes("--typecheck");
const ROOT = path.join(__dirname, "..");
const NODE = process.execPath;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "rke2-bench-"));
const JS = path.join(TMP, "js");
const JS_NO_MAPS = path.join(TMP, "js-no-maps");

/**
 * What `pulumi up` does for this project, replayed without the engine: the Node.js language host (v3.68.0 and
 * current alike) runs `node @pulumi/pulumi/cmd/run` with PULUMI_NODEJS_TYPESCRIPT=true, and with
 * PULUMI_NODEJS_TSCONFIG_PATH set to Pulumi.yaml's `tsconfig` option when it reads that option (current hosts read
 * it from the run request; v3.68.0 only from flags, which CLIs since v3.69 no longer pass). In the SDK,
 * cmd/run/index.js installs source-map-support, and cmd/run/run.js registers ts-node (the project's, else the
 * vendored ts-node 7.0.1) with the project's TypeScript, `transpileOnly` from PULUMI_NODEJS_TRANSPILE_ONLY or else
 * that tsconfig's `noCheck` (type checking when neither is set), and these compiler options (the tsconfig's own
 * `compilerOptions` win; its `extends` is not followed here). Then it requires the program.
 */
const PULUMI_LOADER = `
const path = require("node:path");
const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [process.cwd()] }));
require(require.resolve("source-map-support/register", { paths: [sdk] }));
const tsutils = require(path.join(sdk, "tsutils"));
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly: env ? env === "true" : compilerOptions.noCheck,
  project: tsConfigPath,
  skipProject: false,
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
require(process.env.BENCH_ENTRY).main(JSON.parse(process.env.BENCH_ARGS));
`;

interface Loader {
  name: string;
  argv: (args: string[]) => string[];
  env?: (args: string[]) => Record<string, string>;
}

const pulumiYaml = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
  runtime?: { options?: { tsconfig?: string } };
};
const tsconfigOption = pulumiYaml.runtime?.options?.tsconfig;
const tsNodeCache = path.join(TMP, "ts-node-cache");
const pulumiEnv = (tsconfig: string | undefined, cache: string) => (args: string[]) => ({
  BENCH_ENTRY: path.join(__dirname, "run-once.ts"),
  BENCH_ARGS: JSON.stringify(args),
  TS_NODE_CACHE_DIRECTORY: cache,
  ...(tsconfig ? { PULUMI_NODEJS_TSCONFIG_PATH: tsconfig } : {}),
});
const compiled = path.join(JS, "bench", "run-once.js");
const compiledNoMaps = path.join(JS_NO_MAPS, "bench", "run-once.js");
const sourceMapSupport = require.resolve("source-map-support/register", {
  paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))],
});

const PULUMI: Loader = {
  name: `pulumi up as configured: ts-node 7.0.1 (SDK's vendored), ${tsconfigOption ?? "tsconfig.json"}, source-map-support`,
  argv: () => ["-e", PULUMI_LOADER],
  env: pulumiEnv(tsconfigOption, tsNodeCache),
};
const PULUMI_TYPECHECK: Loader = {
  name: "pulumi up, tsconfig option ignored: ts-node type-checking, source-map-support",
  argv: () => ["-e", PULUMI_LOADER],
  env: pulumiEnv(undefined, path.join(TMP, "ts-node-cache-typecheck")),
};
const LOADERS: Loader[] = [
  {
    // cmd/run installs source-map-support whatever the loader: a compiled `main` (`typescript: false`) runs so.
    name: "pulumi up, compiled main with source maps: source-map-support",
    argv: (a) => ["-r", sourceMapSupport, compiled, ...a],
  },
  {
    name: "pulumi up, compiled main without source maps: source-map-support (no map to read)",
    argv: (a) => ["-r", sourceMapSupport, compiledNoMaps, ...a],
  },
  {
    name: "tsx (not a pulumi up loader)",
    argv: (a) => [
      path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
      path.join(__dirname, "run-once.ts"),
      ...a,
    ],
  },
  {
    name: "node --enable-source-maps, compiled (not a pulumi up loader)",
    argv: (a) => ["--enable-source-maps", compiled, ...a],
  },
  { name: "node, compiled, no source maps (not a pulumi up loader)", argv: (a) => [compiledNoMaps, ...a] },
];

interface Run {
  resources: number;
  evalMs: number;
  cpuMs: number;
  heapMB: number;
  liveMB: number;
  rssMB: number;
  wallMs: number;
}

function runOnce(loader: Loader, args: string[]): Run {
  const start = process.hrtime.bigint();
  const r = spawnSync(NODE, loader.argv(args), {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, ...loader.env?.(args) },
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${loader.name} ${args.join(" ")} failed: ${r.stderr}`);
  const p = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as Omit<Run, "wallMs">;
  return { ...p, wallMs };
}

/** The median of each figure over runs. */
function median(runs: Run[]): Run {
  const mid = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const m = sorted.length >> 1;
    return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  };
  const keys = Object.keys(runs[0]) as (keyof Run)[];
  return Object.fromEntries(keys.map((k) => [k, mid(runs.map((r) => r[k]))])) as unknown as Run;
}

/** Product and floor at n nodes, RUNS times each, alternating (CPU time is what other load on the machine moves least). */
function pair(loader: Loader, n: number): { product: Run; floor: Run } {
  const products: Run[] = [];
  const floors: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const product = runOnce(loader, ["product", String(n)]);
    products.push(product);
    floors.push(runOnce(loader, ["floor", String(n), String(product.resources)]));
  }
  return { product: median(products), floor: median(floors) };
}

function renderMs(n: number): number {
  const spec = buildClusterSpec(benchConfig(n), {
    configKeys: new Map(),
    baseDir: ROOT,
    requireSecrets: false,
  });
  const inputs = placeholderInputs(ROOT);
  renderBundle(spec, inputs); // warm-up
  const runs = 5;
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) renderBundle(spec, inputs);
  return Number(process.hrtime.bigint() - start) / 1e6 / runs;
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const out = (lines: string[]) => process.stdout.write([...lines, ""].join("\n"));

compileProgram(ROOT, JS);
compileProgram(ROOT, JS_NO_MAPS, false);
for (const dir of [JS, JS_NO_MAPS])
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));

const coldLine = (loader: Loader) => {
  const r = runOnce(loader, ["product", "3"]);
  return (
    `First run of ${loader.name}, empty ts-node cache, 3 nodes: ${f0(r.evalMs)} ms to evaluate, ` +
    `${f0(r.wallMs)} ms process, ${f0(r.heapMB)} MB heap.`
  );
};
out([
  ...(TYPECHECK ? [coldLine(PULUMI_TYPECHECK)] : []),
  coldLine(PULUMI),
  "",
  `Loader of this table: ${PULUMI.name}, warm ts-node cache. Median of ${RUNS} run(s) each.`,
  "ms: wall time of the evaluation; CPU ms: CPU time of the same span (what other load on the machine moves least);",
  "marginal: the extra CPU ms per extra node since the previous size (flat or falling = linear or better);",
  "heap: V8 heap in use at the end, garbage included; live: after a full collection; peak RSS: the whole process.",
  "",
  "| nodes | resources | product ms | floor ms | product / floor | product CPU ms | floor CPU ms | " +
    "product / floor, CPU | product CPU ms/node | marginal CPU ms/node | product heap MB | floor heap MB | " +
    "product live MB | product peak RSS MB | floor peak RSS MB | render ms |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]);
let atLoaderNodes: { product: Run; floor: Run } | undefined;
let previous: { n: number; cpuMs: number } | undefined;
for (const n of SIZES) {
  const r = pair(PULUMI, n);
  if (n === LOADER_NODES) atLoaderNodes = r;
  const { product, floor } = r;
  const marginal = previous ? f1((product.cpuMs - previous.cpuMs) / (n - previous.n)) : "";
  previous = { n, cpuMs: product.cpuMs };
  out([
    `| ${n} | ${product.resources} | ${f0(product.evalMs)} | ${f0(floor.evalMs)} | ` +
      `${f2(product.evalMs / floor.evalMs)} | ${f0(product.cpuMs)} | ${f0(floor.cpuMs)} | ` +
      `${f2(product.cpuMs / floor.cpuMs)} | ${f1(product.cpuMs / n)} | ${marginal} | ` +
      `${f0(product.heapMB)} | ${f0(floor.heapMB)} | ${f0(product.liveMB)} | ${f0(product.rssMB)} | ` +
      `${f0(floor.rssMB)} | ${f1(renderMs(n))} |`,
  ]);
}
// The heap at the end counts garbage V8 has not collected yet, which it leaves while memory is plentiful (the floor's
// is as large). What the run needs is shown by capping the heap: the same run must complete within the cap.
const HEAP_CAP_MB = 350;
const capped: Loader = { ...PULUMI, argv: (a) => [`--max-old-space-size=${HEAP_CAP_MB}`, ...PULUMI.argv(a)] };
// A run that does not fit is a figure too (the target missed), not a reason to stop before the loader table.
let capLine: string;
try {
  const atCap = runOnce(capped, ["product", String(SIZES[SIZES.length - 1])]);
  capLine =
    `completed in ${f0(atCap.evalMs)} ms (${f0(atCap.cpuMs)} CPU ms), ` +
    `${f0(atCap.heapMB)} MB heap at the end, ${f0(atCap.liveMB)} MB live.`;
} catch (e) {
  const oom = /heap out of memory/.test(String(e));
  capLine = `DID NOT COMPLETE (${oom ? "V8 heap out of memory" : String(e).split("\n")[0]}).`;
}
out([
  "",
  `${SIZES[SIZES.length - 1]} nodes with the V8 heap capped at ${HEAP_CAP_MB} MB (node --max-old-space-size, ` +
    `Pulumi.yaml's nodeargs option): ${capLine}`,
]);
out([
  "",
  `${LOADER_NODES} nodes under each loader (median of ${RUNS}); process ms = spawn to exit, loader and SDK start-up ` +
    "included (what a user waits for, less the engine).",
  "",
  "| loader | product ms | floor ms | product / floor | product CPU ms | floor CPU ms | product / floor, CPU | " +
    "product process ms | floor process ms | product heap MB |",
  "|---|---|---|---|---|---|---|---|---|---|",
]);
for (const loader of [PULUMI, ...LOADERS]) {
  const { product, floor } = loader === PULUMI && atLoaderNodes ? atLoaderNodes : pair(loader, LOADER_NODES);
  out([
    `| ${loader.name} | ${f0(product.evalMs)} | ${f0(floor.evalMs)} | ${f2(product.evalMs / floor.evalMs)} | ` +
      `${f0(product.cpuMs)} | ${f0(floor.cpuMs)} | ${f2(product.cpuMs / floor.cpuMs)} | ` +
      `${f0(product.wallMs)} | ${f0(floor.wallMs)} | ` +
      `${f0(product.heapMB)} |`,
  ]);
}
fs.rmSync(TMP, { recursive: true, force: true });

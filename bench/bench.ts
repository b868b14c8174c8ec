// `npm run bench`: the program's evaluation under mocks next to a floor (bench/floor.ts: the same number of command
// resources, one apply each, same SDK, same mocks, same loader, same run), for 3, 10, 50 and 200 nodes under the
// loader `pulumi up` uses, then the pair at 20 nodes under each other way of loading the program, then the offline
// render time. `npm run bench -- --typecheck` adds one run with ts-node type-checking, as the language host does
// when it ignores Pulumi.yaml's `tsconfig` option. Figures only: no threshold here, speed targets are read by
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
const LOADER_NODES = 20;
const TYPECHECK = process.argv.includes("--typecheck");
const ROOT = path.join(__dirname, "..");
const NODE = process.execPath;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "rke2-bench-"));
const JS = path.join(TMP, "js");

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
const sourceMapSupport = require.resolve("source-map-support/register", {
  paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))],
});

const PULUMI: Loader = {
  name: `pulumi up: ts-node, ${tsconfigOption ?? "tsconfig.json"}`,
  argv: () => ["-e", PULUMI_LOADER],
  env: pulumiEnv(tsconfigOption, tsNodeCache),
};
const PULUMI_TYPECHECK: Loader = {
  name: "pulumi up: ts-node, tsconfig.json (type-checks)",
  argv: () => ["-e", PULUMI_LOADER],
  env: pulumiEnv(undefined, path.join(TMP, "ts-node-cache-typecheck")),
};
const LOADERS: Loader[] = [
  {
    name: "tsx",
    argv: (a) => [
      path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
      path.join(__dirname, "run-once.ts"),
      ...a,
    ],
  },
  { name: "js, source-map-support", argv: (a) => ["-r", sourceMapSupport, compiled, ...a] },
  { name: "js --enable-source-maps", argv: (a) => ["--enable-source-maps", compiled, ...a] },
  { name: "js, no source maps", argv: (a) => [compiled, ...a] },
];

interface Run {
  resources: number;
  evalMs: number;
  cpuMs: number;
  heapMB: number;
  liveMB: number;
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

/** Product then floor at n nodes, one run each (CPU time is the figure that other load on the machine moves least). */
function pair(loader: Loader, n: number): { product: Run; floor: Run } {
  const product = runOnce(loader, ["product", String(n)]);
  const floor = runOnce(loader, ["floor", String(n), String(product.resources)]);
  return { product, floor };
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
fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(JS, "node_modules"));

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
  `Below: ${PULUMI.name}, warm cache. ms: wall time of the evaluation; CPU ms: CPU time of the same span (what other load on the machine moves least).`,
  "",
  "| nodes | resources | product ms | floor ms | product / floor | product CPU ms | floor CPU ms | " +
    "product / floor, CPU | product ms/node | product CPU ms/node | product heap MB | floor heap MB | " +
    "product live MB | floor live MB | render ms |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]);
let atLoaderNodes: { product: Run; floor: Run } | undefined;
for (const n of SIZES) {
  const r = pair(PULUMI, n);
  if (n === LOADER_NODES) atLoaderNodes = r;
  const { product, floor } = r;
  out([
    `| ${n} | ${product.resources} | ${f0(product.evalMs)} | ${f0(floor.evalMs)} | ` +
      `${f2(product.evalMs / floor.evalMs)} | ${f0(product.cpuMs)} | ${f0(floor.cpuMs)} | ` +
      `${f2(product.cpuMs / floor.cpuMs)} | ${f1(product.evalMs / n)} | ${f1(product.cpuMs / n)} | ` +
      `${f0(product.heapMB)} | ${f0(floor.heapMB)} | ${f0(product.liveMB)} | ${f0(floor.liveMB)} | ` +
      `${f1(renderMs(n))} |`,
  ]);
}
out([
  "",
  `${LOADER_NODES} nodes under each loader; process = spawn to exit, loader and SDK start-up included.`,
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

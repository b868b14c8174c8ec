// `npm run bench`: the program's evaluation time under mocks and the offline render time, for 3, 10, 50 and 200
// nodes, total and per node. Figures only: no threshold here, speed targets are read by people, not asserted.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { renderBundle } from "../components/render/bundle";
import { placeholderInputs } from "../components/render/inputs";
import { buildClusterSpec } from "../components/spec/validate";
import { benchConfig } from "./program-once";

const SIZES = [3, 10, 50, 200];
const ROOT = path.join(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

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

const rows: string[] = [];
for (const n of SIZES) {
  const r = spawnSync(TSX, [path.join(__dirname, "program-once.ts"), String(n)], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`program run for ${n} nodes failed: ${r.stderr}`);
  const p = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as {
    resources: number;
    evalMs: number;
    heapMB: number;
  };
  const render = renderMs(n);
  rows.push(
    `| ${n} | ${p.resources} | ${p.evalMs.toFixed(0)} | ${(p.evalMs / n).toFixed(1)} | ${p.heapMB.toFixed(0)} | ` +
      `${render.toFixed(1)} | ${(render / n).toFixed(2)} |`,
  );
}
process.stdout.write(
  [
    "| nodes | resources | program eval ms (mocks) | per node ms | heap MB | render ms | render per node ms |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n"),
);

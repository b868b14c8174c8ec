// Compiles the program (index.ts, components/, stacks/, bench/) to JavaScript in `outDir`, one file at a time
// with the project's compiler options (isolatedModules holds, so this emits what `tsc` would), each with a source
// map pointing at the original .ts file unless `sourceMaps` is false (then the JavaScript has no sourceMappingURL
// and no map is written), and copies the non-TypeScript files the program reads (scripts, stack files). For the
// bench's loader comparison only: the build takes no part in the timed runs.
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const SOURCES = ["index.ts", "components", "stacks", "bench"];

function walk(p: string): string[] {
  if (!fs.statSync(p).isDirectory()) return [p];
  return fs.readdirSync(p).flatMap((e) => walk(path.join(p, e)));
}

export function compileProgram(root: string, outDir: string, sourceMaps = true): void {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (!config) throw new Error("cannot read tsconfig.json");
  const options: ts.CompilerOptions = { ...config.options, sourceMap: sourceMaps, outDir: undefined };
  for (const file of SOURCES.flatMap((s) => walk(path.join(root, s)))) {
    const target = path.join(outDir, path.relative(root, file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!file.endsWith(".ts")) {
      fs.copyFileSync(file, target);
      continue;
    }
    const js = target.replace(/\.ts$/, ".js");
    const out = ts.transpileModule(fs.readFileSync(file, "utf8"), {
      compilerOptions: options,
      fileName: path.basename(file),
    });
    fs.writeFileSync(js, out.outputText);
    if (!sourceMaps) continue;
    const map = JSON.parse(out.sourceMapText ?? "{}") as { sources: string[] };
    map.sources = [file];
    fs.writeFileSync(`${js}.map`, JSON.stringify(map));
  }
}

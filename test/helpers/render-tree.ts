// Reads a render output folder into a comparable form: one manifest line per file (path, mode, sha256) and the text
// of every file except the static scripts, whose text is already under review in components/render/scripts.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface Tree {
  manifest: string;
  files: Map<string, string>;
}

function walk(root: string, dir = root): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? walk(root, path.join(dir, e.name)) : [path.relative(root, path.join(dir, e.name))],
    )
    .sort();
}

export function readTree(root: string): Tree {
  const files = new Map<string, string>();
  const lines: string[] = [];
  for (const rel of walk(root)) {
    const abs = path.join(root, rel);
    const content = fs.readFileSync(abs, "utf8");
    const mode = (fs.statSync(abs).mode & 0o777).toString(8).padStart(4, "0");
    lines.push(`${rel} ${mode} ${createHash("sha256").update(content).digest("hex")}`);
    if (!rel.includes("/var/lib/hardened-rke2/bin/")) files.set(rel, content);
  }
  return { manifest: `${lines.join("\n")}\n`, files };
}

export function allText(root: string): string {
  return walk(root)
    .map((rel) => fs.readFileSync(path.join(root, rel), "utf8"))
    .join("\n");
}

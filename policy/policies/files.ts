// Reading what a node receives out of the files step of the bootstrap: its standard input holds one record per file,
// `<path> <mode> <owner> <group> <base64>` (components/bootstrap/remote.ts). Policies see secrets unpacked.
import { parse } from "yaml";

export interface NodeFileRecord {
  mode: string;
  content: string;
}

export const FILES_STEP = /-files$/;

export function decodeFiles(stdin: unknown): Map<string, NodeFileRecord> {
  const files = new Map<string, NodeFileRecord>();
  if (typeof stdin !== "string") return files;
  for (const line of stdin.split("\n")) {
    const [path, mode, , , b64] = line.split(" ");
    if (path) files.set(path, { mode, content: Buffer.from(b64 ?? "", "base64").toString("utf8") });
  }
  return files;
}

export function yamlOf(
  files: Map<string, NodeFileRecord>,
  path: string,
): Record<string, unknown> | undefined {
  const f = files.get(path);
  if (!f) return undefined;
  const doc: unknown = parse(f.content);
  return typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>) : undefined;
}

export function envOf(files: Map<string, NodeFileRecord>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of (files.get("/var/lib/hardened-rke2/node.env")?.content ?? "").split("\n")) {
    const m = /^([A-Z0-9_]+)='(.*)'$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** The node name of a bootstrap resource: `<cluster>-<node>-<step>`. */
export function nodeOf(resourceName: string): string {
  return resourceName.replace(/-(files|sysctl|etcd-user|install|start|ready)$/, "");
}

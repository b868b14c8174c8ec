// The node file-record format, encoder and decoder side by side: the files step's standard input carries one record
// per file, `<path> <mode> <owner> <group> <base64>`, which place-files.sh writes on the node and the policy pack reads
// back to judge what a node receives. The node env file's format is read here too, beside the writer's quoting.
import { PATHS, type NodeFile } from "./files";

/** A file as the policy pack sees it in a record. */
export interface FileRecord {
  mode: string;
  owner: string;
  group: string;
  content: string;
}

/** The files step's standard input: one record per file, `<path> <mode> <owner> <group> <base64>`. */
export function encodeFileRecords(files: NodeFile[]): string {
  return files
    .map((f) => {
      for (const field of [f.path, f.mode, f.owner, f.group]) {
        if (/\s/.test(field) || field === "")
          throw new Error(`file field ${JSON.stringify(field)} cannot be sent`);
      }
      return `${f.path} ${f.mode} ${f.owner} ${f.group} ${Buffer.from(f.content).toString("base64")}`;
    })
    .join("\n")
    .concat("\n");
}

/** The records back, by path; an empty map when the input is not text (unknown at preview, or absent). */
export function decodeFileRecords(stdin: unknown): Map<string, FileRecord> {
  const files = new Map<string, FileRecord>();
  if (typeof stdin !== "string") return files;
  for (const line of stdin.split("\n")) {
    const [path, mode, owner, group, b64] = line.split(" ");
    if (path) {
      files.set(path, { mode, owner, group, content: Buffer.from(b64 ?? "", "base64").toString("utf8") });
    }
  }
  return files;
}

/** The node env file's values (`KEY='value'` lines, single-quoted as rke2.ts's renderNodeEnv writes them). */
export function decodeNodeEnv(files: Map<string, FileRecord>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of (files.get(PATHS.nodeEnv)?.content ?? "").split("\n")) {
    const m = /^([A-Z0-9_]+)='(.*)'$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/'\\''/g, "'");
  }
  return env;
}

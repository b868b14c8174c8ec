// Reading what a node receives out of the files step of the bootstrap: the record format and the node env file are
// decoded by the same module that encodes them (components/render/records.ts); a node's steps are found through their
// parent component (nodes.ts). Policies see secrets unpacked.
import { parse } from "yaml";
import { decodeFileRecords, decodeNodeEnv, type FileRecord } from "../../components/render/records";

export type NodeFileRecord = FileRecord;

export const decodeFiles = decodeFileRecords;
export const envOf = decodeNodeEnv;

export function yamlOf(
  files: Map<string, NodeFileRecord>,
  path: string,
): Record<string, unknown> | undefined {
  const f = files.get(path);
  if (!f) return undefined;
  const doc: unknown = parse(f.content);
  return typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>) : undefined;
}

// Reading what a node receives out of the files step of the bootstrap: the record format and the node env file are
// decoded by the same module that encodes them (components/render/records.ts), and a node's steps are the product's
// own step list (components/render/node.ts). Policies see secrets unpacked.
import { parse } from "yaml";
import { SCRIPT_STEPS } from "../../components/render/node";
import { decodeFileRecords, decodeNodeEnv, type FileRecord } from "../../components/render/records";

export type NodeFileRecord = FileRecord;

/** Every bootstrap step of a node, in order: the files step, then the scripts. */
export const NODE_STEPS = ["files", ...SCRIPT_STEPS.map((s) => s.step)] as const;

export const FILES_STEP = /-files$/;

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

const STEP_SUFFIX = new RegExp(`-(${NODE_STEPS.join("|")})$`);

/** The node name of a bootstrap resource: `<cluster>-<node>-<step>`. */
export function nodeOf(resourceName: string): string {
  return resourceName.replace(STEP_SUFFIX, "");
}

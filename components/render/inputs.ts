// What a renderer needs besides the spec: secret values and the operator's local files. `pulumi up` passes the real
// values (inside secret Outputs); the offline render passes placeholders, so it needs no secret at all.
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT } from "../spec/constants";

export interface RenderInputs {
  /** The value of a secret stack config key (`clusterToken`, a registry password, …). */
  secret(key: string): string;
  /** Contents of an operator file named in the config (a CA or client certificate). */
  file(localPath: string): string;
  /** Contents of an operator file that is itself a secret (a client private key). */
  secretFile(localPath: string): string;
}

/** The text the offline render writes where a secret value would go. */
export function secretPlaceholder(key: string): string {
  return `<secret:${PROJECT}:${key}>`;
}

/** Inputs for the offline render: secrets become placeholders, public files are read from the project folder,
 * and secret files are never read. */
export function placeholderInputs(baseDir: string): RenderInputs {
  return {
    secret: secretPlaceholder,
    file: (p) => fs.readFileSync(path.resolve(baseDir, p), "utf8"),
    secretFile: (p) => `<secret-file:${p}>`,
  };
}

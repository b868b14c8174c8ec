// STAND-IN: an air-gap folder with RKE2's real file names and a matching checksum file, but tiny made-up contents.
// Only the loader's checksum checks read it; nothing here is a usable RKE2 release.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export const FAKE_ARTIFACTS: Record<string, string> = {
  "rke2.linux-amd64.tar.gz": "stand-in for the RKE2 release tarball\n",
  "rke2-images.linux-amd64.tar.zst": "stand-in for the RKE2 core and Canal images\n",
  "rke2-images-cilium.linux-amd64.tar.zst": "stand-in for the Cilium images\n",
};

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Writes the stand-in folder; `omit` leaves files out, `corrupt` changes a file after its checksum was listed. */
export function writeFakeArtifacts(dir: string, options: { omit?: string[]; corrupt?: string } = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (const [name, content] of Object.entries(FAKE_ARTIFACTS)) {
    lines.push(`${sha256(content)}  ${name}`);
    if (options.omit?.includes(name)) continue;
    fs.writeFileSync(path.join(dir, name), name === options.corrupt ? `${content}tampered\n` : content);
  }
  if (!options.omit?.includes("sha256sum-amd64.txt")) {
    fs.writeFileSync(path.join(dir, "sha256sum-amd64.txt"), `${lines.join("\n")}\n`);
  }
  return dir;
}

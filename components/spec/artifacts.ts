// Checks the operator's air-gap folder at load time, so a missing file or a wrong checksum is an error in preview
// (and in `render`), never a half-installed node. The node checks the same sums again before it uses a file.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DISTRIBUTION, type Distribution } from "./distribution";
import type { Arch } from "./install";

export interface AirgapArtifact {
  /** File name in the operator's folder, e.g. `rke2.linux-amd64.tar.gz`. */
  file: string;
  /** Its sha256 as the folder's checksum file lists it (and as the file really hashes: checked at load). */
  sha256: string;
  kind: "tarball" | "images";
}

export interface AirgapCheck {
  problems: string[];
  /** The checksum lines of the files the install uses, in `sha256sum -c` format. */
  checksumFile: string;
  artifacts: AirgapArtifact[];
}

/** The file names a distribution publishes for one architecture (rke2 scripts/package-bundle, package-images; K3s's
 * release assets): from the distribution table. */
export function artifactNames(arch: Arch, distribution: Distribution = "rke2") {
  const d = DISTRIBUTION[distribution];
  return {
    /** The install artifact: RKE2's tarball, K3s's binary. */
    tarball: d.artifact(arch).file,
    checksums: d.checksums(arch),
    /** Core images plus the default CNI's (Canal; K3s's airgap images hold flannel and its bundled components). */
    coreImages: d.images(arch),
    cniImages: (cni: string) => [
      `rke2-images-${cni}.linux-${arch}.tar.zst`,
      `rke2-images-${cni}.linux-${arch}.tar.gz`,
    ],
    defaultCni: d.cnis[0],
    title: d.title,
  };
}

/**
 * sha256 of a file, each file read at most once across runs while it stays the same file. `pulumi up` runs the
 * program twice (its preview, then the update) and every preview and `up` validates the spec, so without a record a
 * 1 GB image archive is read twice per `up` (issue #19; the SSH e2e counts the bytes). The record (below) is keyed by
 * the file's identity and every time it has: device, inode, size, mtime and ctime in nanoseconds. ctime cannot be set
 * from user space, so a file edited in place, replaced or restored with its old mtime gets a new key and is read
 * again. The node checks the same sums itself (`sha256sum --check` before install), so a record can never make a
 * node use a file it has not verified.
 */
export function sha256File(file: string): string {
  const abs = path.resolve(file);
  const key = statKey(abs);
  const records = readDigestRecords();
  const known = records[abs];
  if (known?.key === key && /^[0-9a-f]{64}$/.test(known.sha256)) return known.sha256;
  const digest = readDigest(abs);
  // Recorded only when the file did not change while it was read.
  if (statKey(abs) === key) writeDigestRecord(abs, { key, sha256: digest });
  return digest;
}

interface DigestRecord {
  key: string;
  sha256: string;
}

function statKey(file: string): string {
  const st = fs.statSync(file, { bigint: true });
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(":");
}

/** Where the digests are recorded: HARDENED_RKE2_CACHE_DIR, else $XDG_CACHE_HOME/hardened-rke2 or ~/.cache. */
export function digestRecordFile(): string {
  const dir =
    process.env.HARDENED_RKE2_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "hardened-rke2");
  return path.join(dir, "artifact-digests.json");
}

function readDigestRecords(): Record<string, DigestRecord> {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(digestRecordFile(), "utf8"));
    return parsed && typeof parsed === "object" ? (parsed as Record<string, DigestRecord>) : {};
  } catch {
    return {}; // none yet, or unreadable: every file is read
  }
}

/** Best effort: a record that cannot be written only costs the next run a read. Written whole, then renamed, so a
 * concurrent run reads the old record or the new one, never half of one. */
function writeDigestRecord(file: string, record: DigestRecord): void {
  const target = digestRecordFile();
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    // Records of files that are gone or changed are dropped, so the record stays as small as the folders in use.
    const records: Record<string, DigestRecord> = { [file]: record };
    for (const [other, r] of Object.entries(readDigestRecords())) {
      if (other === file) continue;
      try {
        if (statKey(other) === r.key) records[other] = r;
      } catch {
        // gone
      }
    }
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(records, null, 1)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, target);
  } catch {
    // read-only home, full disk: the digest is still right, only not remembered
  }
}

function readDigest(file: string): string {
  const hash = createHash("sha256");
  const buf = Buffer.alloc(1 << 20);
  const fd = fs.openSync(file, "r");
  try {
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

/** Parses `sha256sum` output: `<hex>  <name>` (or `<hex> *<name>`) per line. */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) sums.set(path.basename(m[2]), m[1]);
  }
  return sums;
}

export function checkAirgapFolder(
  baseDir: string,
  dir: string,
  arch: Arch,
  cni: string,
  imagesFromRegistry: boolean,
  distribution: Distribution = "rke2",
): AirgapCheck {
  const abs = path.resolve(baseDir, dir);
  const names = artifactNames(arch, distribution);
  const result: AirgapCheck = { problems: [], checksumFile: "", artifacts: [] };
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    result.problems.push(
      `${JSON.stringify(dir)} is not a folder (resolved to ${abs}); allowed: a folder holding ` +
        `${names.tarball}, ${names.checksums} and the image tarballs`,
    );
    return result;
  }
  const present = new Set(fs.readdirSync(abs));
  const missing = (file: string) =>
    `${JSON.stringify(dir)} has no ${file}; allowed: a folder with every ${names.title} ${arch} artifact the ` +
    `install needs (copy it from the ${names.title} release page)`;
  if (!present.has(names.checksums)) result.problems.push(missing(names.checksums));
  if (!present.has(names.tarball)) result.problems.push(missing(names.tarball));

  const files: string[] = [names.tarball];
  const pick = (candidates: string[]) => candidates.find((c) => present.has(c));
  const core = pick(names.coreImages);
  if (core) files.push(core);
  else if (!imagesFromRegistry) result.problems.push(missing(`${names.coreImages[0]} (or .tar.gz)`));
  if (cni !== names.defaultCni) {
    const cniImages = pick(names.cniImages(cni));
    if (cniImages) files.push(cniImages);
    else if (!imagesFromRegistry) {
      result.problems.push(missing(`${names.cniImages(cni)[0]} (or .tar.gz), the images of cni ${cni}`));
    }
  }
  if (result.problems.length > 0) return result;

  const sums = parseChecksums(fs.readFileSync(path.join(abs, names.checksums), "utf8"));
  const lines: string[] = [];
  for (const file of files) {
    const listed = sums.get(file);
    if (listed === undefined) {
      result.problems.push(
        `${names.checksums} in ${JSON.stringify(dir)} lists no checksum for ${file}; allowed: ` +
          "the checksum file published with the same release",
      );
      continue;
    }
    const actual = sha256File(path.join(abs, file));
    if (actual !== listed) {
      result.problems.push(
        `${file} in ${JSON.stringify(dir)} has sha256 ${actual} but ${names.checksums} lists ` +
          `${listed}; allowed: the file exactly as released (download it again)`,
      );
      continue;
    }
    lines.push(`${listed}  ${file}`);
    result.artifacts.push({ file, sha256: listed, kind: file === names.tarball ? "tarball" : "images" });
  }
  result.checksumFile = lines.length > 0 ? `${lines.join("\n")}\n` : "";
  return result;
}

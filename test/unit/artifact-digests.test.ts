// The artifact digests recorded across runs (issue #19): `pulumi up` runs the program twice and each run validates the
// air-gap folder, so a 1 GB archive must not be read on every run while it stays the same file, and must be read again
// the moment it changes, even when its size and mtime are put back.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { digestRecordFile, sha256File } from "../../components/spec/artifacts";

const digestOf = (text: string) => createHash("sha256").update(text).digest("hex");
let dir: string;
const saved = process.env.HARDENED_RKE2_CACHE_DIR;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "artifact-digests-"));
  process.env.HARDENED_RKE2_CACHE_DIR = path.join(dir, "cache");
});
afterEach(() => {
  if (saved === undefined) delete process.env.HARDENED_RKE2_CACHE_DIR;
  else process.env.HARDENED_RKE2_CACHE_DIR = saved;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Puts a different digest in the record for `file`: what sha256File returns then shows whether it read the file. */
function forgeRecord(file: string, digest: string) {
  const records = JSON.parse(fs.readFileSync(digestRecordFile(), "utf8"));
  records[file].sha256 = digest;
  fs.writeFileSync(digestRecordFile(), JSON.stringify(records));
}

describe("artifact digests", () => {
  it("records a file's digest in a 0600 file and answers from it while the file stays the same", () => {
    const file = path.join(dir, "rke2-images.linux-amd64.tar.zst");
    fs.writeFileSync(file, "images v1");
    expect(sha256File(file)).toBe(digestOf("images v1"));
    expect(fs.statSync(digestRecordFile()).mode & 0o777).toBe(0o600);
    const forged = "f".repeat(64);
    forgeRecord(file, forged);
    // The record answers: the file was not read again.
    expect(sha256File(file)).toBe(forged);
  });

  it("reads a file again when it changed in place, even with its size and mtime put back", () => {
    const file = path.join(dir, "rke2.linux-amd64.tar.gz");
    fs.writeFileSync(file, "tarball A");
    const times = path.join(dir, "times");
    execFileSync("touch", ["-r", file, times]); // the mtime to the nanosecond (utimes takes milliseconds)
    const before = fs.statSync(file, { bigint: true });
    expect(sha256File(file)).toBe(digestOf("tarball A"));
    fs.writeFileSync(file, "tarball B"); // same size
    execFileSync("touch", ["-r", times, file]);
    const after = fs.statSync(file, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    expect(sha256File(file)).toBe(digestOf("tarball B"));
  });

  it("drops the records of files that are gone", () => {
    const a = path.join(dir, "a");
    const b = path.join(dir, "b");
    fs.writeFileSync(a, "a");
    fs.writeFileSync(b, "b");
    sha256File(a);
    fs.rmSync(a);
    sha256File(b);
    expect(Object.keys(JSON.parse(fs.readFileSync(digestRecordFile(), "utf8")))).toEqual([b]);
  });
});

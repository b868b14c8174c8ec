// The stand-in RKE2 release knows the version it was written as, as a real release does: its rke2 says so and the
// kubelet stand-in it ships reports it on the Node (the day-2 upgrade checks read it there). Two versions are two
// different tarballs.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeStandinRelease } from "../helpers/standin-root";

function unpacked(version: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-release-"));
  writeStandinRelease(dir, { version });
  const out = path.join(dir, "x");
  fs.mkdirSync(out);
  const t = spawnSync("tar", ["-xzf", path.join(dir, "rke2.linux-amd64.tar.gz"), "-C", out], {
    encoding: "utf8",
  });
  if (t.status !== 0) throw new Error(t.stderr);
  return out;
}

describe("the stand-in RKE2 release", () => {
  it.each(["v1.33.5+rke2r1", "v1.33.6+rke2r1"])("%s: rke2 --version and the kubelet stand-in say it", (v) => {
    const dir = unpacked(v);
    const r = spawnSync("bash", [path.join(dir, "bin/rke2"), "--version"], { encoding: "utf8" });
    expect(r.stdout.trim()).toBe(`rke2 version ${v} (STAND-IN)`);
    expect(fs.readFileSync(path.join(dir, "share/rke2/kubelet-standin.sh"), "utf8")).toMatch(
      new RegExp(`^version=${v.replace(/[.+]/g, "\\$&")}$`, "m"),
    );
  });
});

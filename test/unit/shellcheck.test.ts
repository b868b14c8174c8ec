// Every script a node receives passes shellcheck (installed by .ci/run from Debian). A missing shellcheck fails the
// test rather than skipping it: an unchecked script must not look checked.
import { spawnSync } from "node:child_process";
import { SCRIPT_STEPS, scriptText } from "../../components/render/node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

describe("rendered scripts", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shellcheck-"));
  const files = SCRIPT_STEPS.map((s) => {
    const file = path.join(dir, s.file);
    fs.writeFileSync(file, scriptText(s.file));
    return file;
  });

  it("are checked by an installed shellcheck", () => {
    const version = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
    expect(version.error?.message ?? "").toBe("");
    expect(version.status).toBe(0);
  });

  const others = [
    "components/bootstrap/scripts/place-files.sh",
    "components/bootstrap/scripts/check-host-key.sh",
    "components/bootstrap/scripts/roll.sh",
    "components/bootstrap/scripts/restore.sh",
    "test/hosts/add-sshd.sh",
    "test/hosts/copy-with-libs.sh",
    "test/hosts/make-root.sh",
    "test/standins/systemctl-standin.sh",
    "test/standins/journalctl-standin.sh",
    "test/standins/kubectl-standin.sh",
    "test/standins/rke2-standin.sh",
    "test/standins/k3s-standin.sh",
    "test/standins/kubelet-standin.sh",
    "e2e/toolchain/build.sh",
    "policy/analyzer",
  ].map((f) => [f, path.join(__dirname, "../..", f)]);

  it.each([...SCRIPT_STEPS.map((s, i) => [s.step, files[i]]), ...others])(
    "%s passes shellcheck",
    (_step, file) => {
      const r = spawnSync("shellcheck", ["--severity=style", "--shell=bash", file], { encoding: "utf8" });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.status).toBe(0);
    },
  );

  it.each(SCRIPT_STEPS.map((s) => [s.file]))("%s is strict bash", (file) => {
    expect(scriptText(file).split("\n").slice(0, 12)).toEqual(expect.arrayContaining(["set -euo pipefail"]));
    expect(scriptText(file).startsWith("#!/usr/bin/env bash\n")).toBe(true);
  });
});

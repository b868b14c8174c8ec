// A stack's first preview, as CI meets a new environment: nothing exists yet, so the generated token, host keys,
// instance addresses and command outputs are all unknown. The real command provider answers a secret whose value is
// unknown with a secret that has no value, and the engine fails the preview ("triggers[0]: malformed secret: missing
// value", FACTS.md §5): no command may be sent one, except as its `stdin`, which the provider answers with an empty
// secret string and fills at `up`.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFakeArtifacts } from "../helpers/fake-artifacts";
import { runProgram, secretUnknowns, type ProgramRun } from "../helpers/program";

const artifacts = writeFakeArtifacts(fs.mkdtempSync(path.join(os.tmpdir(), "first-preview-")));

const COMMAND_TYPES = ["command:remote:Command", "command:remote:CopyToRemote", "command:local:Command"];

describe.each(["dev", "prod", "airgap", "airgap-aws"])("the first preview of the %s stack", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    // No clusterToken in the stack: the token is generated, unknown until the first `up`.
    run = await runProgram(
      stack,
      (c) => {
        if (stack.startsWith("airgap")) c.install.artifactsDir = artifacts;
      },
      { firstPreview: true },
    );
  });

  it("sends no command provider a secret whose value is unknown", () => {
    const commands = run.resources.filter((r) => COMMAND_TYPES.includes(r.type));
    expect(commands.length).toBeGreaterThan(0);
    const offending = commands.flatMap((c) =>
      secretUnknowns(c.wire)
        .filter((p) => p !== "stdin")
        .map((p) => `${c.name}: ${p}`),
    );
    expect(offending).toEqual([]);
  });
});

// The example stacks rendered offline and compared, file by file and mode by mode, with the reviewed golden
// output in test/golden/<stack>/. Regenerate after an intended change with `UPDATE_GOLDEN=1 npx jest golden`, then
// review the diff like code.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { render } from "../../cli/render";
import { writeFakeArtifacts } from "../helpers/fake-artifacts";
import { readTree } from "../helpers/render-tree";

const GOLDEN = path.resolve(__dirname, "../golden");
const update = process.env.UPDATE_GOLDEN === "1";

function renderStack(stack: string): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `golden-${stack}-`));
  const out = path.join(work, "out");
  // STAND-IN artifacts for the air-gapped stack: real file names, made-up contents (see helpers/fake-artifacts).
  const artifactsDir = stack.startsWith("airgap")
    ? writeFakeArtifacts(path.join(work, "artifacts"))
    : undefined;
  render({ stack, out, artifactsDir });
  return out;
}

describe.each(["dev", "prod", "airgap", "airgap-aws", "edge"])("stack %s", (stack) => {
  const out = renderStack(stack);
  const actual = readTree(out);
  const goldenDir = path.join(GOLDEN, stack);

  if (update) {
    fs.rmSync(goldenDir, { recursive: true, force: true });
    for (const [rel, content] of actual.files) {
      fs.mkdirSync(path.dirname(path.join(goldenDir, rel)), { recursive: true });
      fs.writeFileSync(path.join(goldenDir, rel), content);
    }
    fs.writeFileSync(path.join(goldenDir, "MANIFEST"), actual.manifest);
  }

  it("writes the reviewed file list, modes and checksums", () => {
    expect(actual.manifest).toBe(fs.readFileSync(path.join(goldenDir, "MANIFEST"), "utf8"));
  });

  it.each([...actual.files.keys()])("writes %s exactly", (rel) => {
    expect(actual.files.get(rel)).toBe(fs.readFileSync(path.join(goldenDir, rel), "utf8"));
  });
});

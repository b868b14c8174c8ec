// upgrade-roll-ordered over the real program's graph (the existing-hosts airgap stack under mocks), then with one
// dependency of the roll dropped at a time, as a program that lost its order would register it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { upgradeRollOrdered } from "../../policy/policies/roll";
import { writeFakeArtifacts } from "../helpers/fake-artifacts";
import { checkStack, fromRecorded, type Fixture } from "../helpers/policy";
import { runProgram, type ProgramRun } from "../helpers/program";

let run: ProgramRun;
beforeAll(async () => {
  // The artifacts folder is a stand-in (helpers/fake-artifacts), as in test/program/airgap.test.ts.
  const artifacts = writeFakeArtifacts(fs.mkdtempSync(path.join(os.tmpdir(), "roll-policy-")));
  run = await runProgram("airgap", (c) => (c.install.artifactsDir = artifacts));
}, 120_000);

/** The program's resources with `drop` removed from the dependencies of `from`. */
function without(from: string, drop: (dep: string) => boolean): Fixture[] {
  return fromRecorded(run.resources).map((f) =>
    f.name === from ? { ...f, dependsOn: (f.dependsOn ?? []).filter((d) => !drop(d)) } : f,
  );
}

describe("upgrade-roll-ordered", () => {
  it("passes the program's roll", async () => {
    expect(await checkStack(upgradeRollOrdered, fromRecorded(run.resources))).toEqual([]);
  });

  it("refuses servers that could roll together", async () => {
    const servers = [
      ...new Set(run.resources.map((r) => /^(airgap-cp-\d+)-drain$/.exec(r.name)?.[1])),
    ].filter(Boolean) as string[];
    expect(servers.length).toBeGreaterThanOrEqual(3);
    // The second server's drain and start no longer wait for the first one.
    const cut = (name: string) => (d: string) => d === `${servers[0]}-gate` && name.startsWith(servers[1]);
    let fixtures = without(`${servers[1]}-drain`, cut(`${servers[1]}-drain`));
    fixtures = fixtures.map((f) =>
      f.name === `${servers[1]}-start`
        ? { ...f, dependsOn: (f.dependsOn ?? []).filter((d) => !cut(f.name)(d)) }
        : f,
    );
    const found = await checkStack(upgradeRollOrdered, fixtures);
    expect(found).toContain(
      `servers ${servers[0]} and ${servers[1]} may be upgraded or restarted at the same time; etcd keeps quorum only while one member at a time is down`,
    );
  });

  it("refuses a node whose install does not wait for its drain, and one without a health gate", async () => {
    const node = run.resources.find((r) => r.name.endsWith("-drain"))?.name.replace(/-drain$/, "") as string;
    expect(
      await checkStack(
        upgradeRollOrdered,
        without(`${node}-install`, (d) => d.endsWith("-drain")),
      ),
    ).toEqual([`node ${node}: its install step does not wait for its drain step`]);
    const noGate = fromRecorded(run.resources).filter((f) => f.name !== `${node}-gate`);
    expect(await checkStack(upgradeRollOrdered, noGate)).toContain(
      `node ${node} has no gate step; its upgrade would not be drained and gated`,
    );
  });
});

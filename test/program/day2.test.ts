// Day 2 under mocks (prod stack: three servers, three agents): what keeps the admin kubeconfig current and the audit
// sample secret. What mocks cannot show (that the engine replaces the read when the start step's id changes) the
// SSH end-to-end run shows.
import { runProgram, isSecretValue, unwrap, type ProgramRun } from "../helpers/program";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("prod");
});

describe("day 2 (prod stack)", () => {
  it("reads the kubeconfig again whenever the stack restarts RKE2 on the first server (renewed certificates)", () => {
    const read = run.byName("prod-kubeconfig");
    // The start step's id is new with each run of the step (a replacement): the read's trigger follows it.
    expect(unwrap(read.inputs.triggers)).toEqual(["prod-server-0-start-id"]);
    expect(read.dependsOn).toContain("prod-server-0-ready");
    // The stash is replaced, and the new kubeconfig kept, when the read is replaced.
    expect(unwrap(run.byName("prod-kubeconfig").additionalSecretOutputs)).toEqual(
      expect.arrayContaining(["stdout", "stderr"]),
    );
    expect(read.inputs.addPreviousOutputInEnv).toBe(false);
    expect(read.inputs.logging).toBe("none");
  });

  it("keeps the audit sample (an audit event) secret and out of the logs, also where verification reads it", () => {
    const sample = run.byName("prod-audit-sample");
    expect(sample.inputs.logging).toBe("none");
    expect(sample.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    const verify = run.byName("prod-hardening-verify");
    expect(isSecretValue(verify.inputs.environment)).toBe(true);
    expect(JSON.stringify(unwrap(verify.inputs.environment))).toMatch(/PLANTED-AUDIT-USER/);
  });
});

// Day 2 under mocks (prod stack: three servers, three agents): the roll's order in the resource graph for an upgrade
// and a config change, what keeps the admin kubeconfig current, and the audit sample kept secret. What mocks cannot
// show (that the engine runs steps in this order, replaces the read when the start step's id changes, and that a
// failing node stops the roll) the SSH end-to-end run shows.
import { rollStages } from "../../components/bootstrap/roll";
import { runProgram, isSecretValue, unwrap, type ProgramRun } from "../helpers/program";
import { stepsOf } from "../helpers/program-checks";

const SERVERS = ["prod-server-0", "prod-server-1", "prod-server-2"];
const AGENTS = ["prod-workers-0", "prod-workers-1", "prod-workers-2"];
const batchOfTwo = (c: Record<string, any>) => (c.upgrade = { agentBatchSize: 2 });

let run: ProgramRun;
let upgraded: ProgramRun;
let reconfigured: ProgramRun;
beforeAll(async () => {
  run = await runProgram("prod", batchOfTwo);
  upgraded = await runProgram("prod", (c) => {
    batchOfTwo(c);
    c.version = "v1.34.1+rke2r1";
  });
  reconfigured = await runProgram("prod", (c) => {
    batchOfTwo(c);
    c.audit = { maxAge: 45 };
  });
}, 240_000);

/** True when `a` depends on `b`, directly or through other resources (what the engine waits for). */
function after(r: ProgramRun, a: string, b: string, seen = new Set<string>()): boolean {
  for (const d of r.byName(a).dependsOn) {
    if (d === b) return true;
    if (!seen.has(d) && r.resources.some((x) => x.name === d)) {
      seen.add(d);
      if (after(r, d, b, seen)) return true;
    }
  }
  return false;
}

const trigger = (r: ProgramRun, name: string) => unwrap(unwrap(r.byName(name).inputs.triggers)[0]) as string;

describe("the roll (prod stack, agentBatchSize 2)", () => {
  it("is each server alone, then the agents in batches of two", () => {
    const stages = rollStages(
      [
        ...SERVERS.map((name) => ({ name, role: "server" })),
        ...AGENTS.map((name) => ({ name, role: "agent" })),
      ],
      2,
    ).map((s) => s.map((n) => n.name));
    expect(stages).toEqual([...SERVERS.map((s) => [s]), AGENTS.slice(0, 2), AGENTS.slice(2)]);
    // In the graph: every stage's drain and start wait for every node of the stage before it to pass its gate (which
    // uncordons it) ...
    for (let i = 1; i < stages.length; i++)
      for (const node of stages[i])
        for (const before of stages[i - 1])
          for (const step of ["drain", "install", "start", "gate"])
            expect(
              `${node}-${step} after ${before}-gate: ${after(run, `${node}-${step}`, `${before}-gate`)}`,
            ).toBe(`${node}-${step} after ${before}-gate: true`);
    // ... and the nodes of one batch do not wait for each other.
    expect(after(run, "prod-workers-1-drain", "prod-workers-0-gate")).toBe(false);
    expect(after(run, "prod-workers-0-drain", "prod-workers-1-gate")).toBe(false);
    // Within a node: drained before the install, gated after the start (which waits for the node to join).
    for (const node of [...SERVERS, ...AGENTS]) {
      const role = node.includes("server") ? "server" : "agent";
      const steps = stepsOf(node, role);
      for (let i = 1; i < steps.length; i++) expect(after(run, steps[i], steps[i - 1])).toBe(true);
    }
  });

  it("gates a server on itself and an agent from the first server, with the stack's version and limits", () => {
    const host = (name: string) => unwrap(run.byName(name).inputs.connection).host as string;
    expect(host("prod-server-1-gate")).toBe(host("prod-server-1-start"));
    expect(host("prod-workers-2-drain")).toBe(host("prod-server-0-start"));
    const args = (name: string) =>
      /bash -c "\$script" script (.*?);/.exec(unwrap(run.byName(name).inputs.create))?.[1];
    expect(args("prod-server-1-drain")).toBe("drain server-1 server v1.33.5+rke2r1 600 rke2");
    expect(args("prod-workers-2-gate")).toBe("gate workers-2 agent v1.33.5+rke2r1 900 rke2");
  });

  it("drains, upgrades and gates every node on a version change; a config change restarts and gates without a drain", () => {
    const changed = (other: ProgramRun, step: string) =>
      [...SERVERS, ...AGENTS].filter((n) => trigger(run, `${n}-${step}`) !== trigger(other, `${n}-${step}`));
    const all = [...SERVERS, ...AGENTS];
    for (const step of ["drain", "install", "start", "gate"]) expect(changed(upgraded, step)).toEqual(all);
    // The audit retention is read by the API server only: the servers restart (gated), nothing is drained.
    expect(changed(reconfigured, "start")).toEqual(SERVERS);
    expect(changed(reconfigured, "gate")).toEqual(SERVERS);
    for (const step of ["drain", "install"]) expect(changed(reconfigured, step)).toEqual([]);
  });

  it("refuses nothing on a node before the release guard has accepted the version", () => {
    const guard = run.ofType("pulumi-nodejs:dynamic/hardened-rke2:ReleaseGuard");
    expect(guard.map((g) => [g.name, g.inputs.version])).toEqual([["prod-release", "v1.33.5+rke2r1"]]);
    for (const node of [...SERVERS, ...AGENTS])
      expect(run.byName(`${node}-files`).dependsOn).toContain("prod-release");
  });

  it("follows the version with the CIS profile (FACTS §1): cis-1.23 to cis across v1.28.1 → v1.28.2", async () => {
    const profileOf = async (version: string) => {
      const r = await runProgram("prod", (c) => (c.version = version));
      const records = unwrap(r.byName("prod-server-0-files").inputs.stdin) as string;
      const line = records.split("\n").find((l) => l.startsWith("/etc/rancher/rke2/config.yaml ")) as string;
      return /^profile: (\S+)$/m.exec(Buffer.from(line.split(" ")[4], "base64").toString())?.[1];
    };
    expect([await profileOf("v1.28.1+rke2r1"), await profileOf("v1.28.2+rke2r1")]).toEqual([
      "cis-1.23",
      "cis",
    ]);
  }, 120_000);
});

describe("the kubeconfig and the audit sample (prod stack)", () => {
  it("reads the kubeconfig again whenever the stack restarts RKE2 on the first server (renewed certificates)", () => {
    const read = run.byName("prod-kubeconfig");
    // The start step's id is new with each run of the step (a replacement): the read's trigger follows it.
    expect(unwrap(read.inputs.triggers)).toEqual(["prod-server-0-start-id"]);
    expect(read.dependsOn).toContain("prod-server-0-gate");
    expect(read.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
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

// An image change on AWS under mocks (prod stack: three servers, three agents in batches of two): the resource graph
// replaces machines stage by stage, servers one at a time then the agent batches, each node leaving the cluster
// before its machine goes; a first `up` and a run that changes no image have no such chain. What mocks cannot show
// (that the engine deletes the server's leave before its delete-before-replace instance, that the commands run) an
// end-to-end run on AWS would.
import { CONNECTION_CHECK } from "../../components/bootstrap/remote";
import { rollStages } from "../../components/bootstrap/roll";
import { policies } from "../../policy/policies";
import { checkPack, fromRecorded } from "../helpers/policy";
import { runProgram, unwrap, type ProgramRun, type Recorded } from "../helpers/program";
import { filesOf } from "../helpers/program-checks";

const OLD = "ami-0123456789abcdef0";
const NEW = "ami-0fedcba9876543210";
const NODES = ["server-0", "server-1", "server-2", "workers-0", "workers-1", "workers-2"];
const batchOfTwo = (c: Record<string, any>) => (c.upgrade = { agentBatchSize: 2 });
const refreshed = (c: Record<string, any>) => {
  batchOfTwo(c);
  c.nodes.amiRefresh = "2026-12";
};
const instance = (r: ProgramRun, node: string) => r.byName(`prod-nodes-${node}`);
/** What EC2 answers for the cluster's instances: each machine of a run, with the image it was made from. */
const machinesOf = (r: ProgramRun) =>
  NODES.map((n) => ({ id: instance(r, n).id as string, image: instance(r, n).inputs.ami as string }));
/** The roll steps a node's machine waits for (a previous stage's gate, its own leave). */
const rollDeps = (r: ProgramRun, node: string) =>
  instance(r, node)
    .dependsOn.filter((d) => /-(drain|gate|leave|start)$/.test(d))
    .sort();

let first: ProgramRun;
let same: ProgramRun;
let changed: ProgramRun;
let resumed: ProgramRun;
beforeAll(async () => {
  first = await runProgram("prod", batchOfTwo);
  // A newer image is published; the stack still names the kept one, which every machine runs.
  same = await runProgram("prod", batchOfTwo, {
    previous: first,
    newestAmi: NEW,
    running: machinesOf(first),
  });
  // amiRefresh asks for the newest image: every machine runs another one.
  changed = await runProgram("prod", refreshed, {
    previous: same,
    newestAmi: NEW,
    running: machinesOf(same),
  });
  // The roll stopped after the first server: the rest still run the old image, so the order still holds.
  resumed = await runProgram("prod", refreshed, {
    previous: changed,
    newestAmi: NEW,
    running: machinesOf(same).map((m, i) => (i === 0 ? machinesOf(changed)[0] : m)),
  });
}, 400_000);

describe("an image change on AWS (prod stack, agentBatchSize 2)", () => {
  it("names the new image only when asked, for every machine", () => {
    expect(NODES.map((n) => instance(same, n).inputs.ami)).toEqual(NODES.map(() => OLD));
    expect(NODES.map((n) => instance(changed, n).inputs.ami)).toEqual(NODES.map(() => NEW));
  });

  it("replaces each machine only after the stage before it is rolled: servers one at a time, then agent batches", () => {
    const stages = rollStages(
      NODES.map((n) => ({ name: n, role: n.startsWith("server") ? "server" : "agent" })),
      2,
    ).map((s) => s.map((n) => n.name));
    expect(stages).toEqual([
      ["server-0"],
      ["server-1"],
      ["server-2"],
      ["workers-0", "workers-1"],
      ["workers-2"],
    ]);
    const expected = Object.fromEntries(
      stages.flatMap((stage, k) =>
        stage.map((n) => [
          n,
          [
            ...(k === 0 ? [] : stages[k - 1].map((p) => `prod-${p}-gate`)),
            // An agent leaves through the first server before its machine goes; a server leaves from its own.
            ...(n.startsWith("workers") ? [`prod-${n}-leave`] : []),
          ].sort(),
        ]),
      ),
    );
    for (const r of [changed, resumed])
      expect(Object.fromEntries(NODES.map((n) => [n, rollDeps(r, n)]))).toEqual(expected);
  });

  it("chains nothing on a first up or on a run that changes no image: every machine is made or kept at once", () => {
    for (const r of [first, same]) expect(NODES.map((n) => rollDeps(r, n))).toEqual(NODES.map(() => []));
  });

  it("deletes each old machine before its successor is made, on every run", () => {
    for (const r of [first, same, changed])
      expect(NODES.map((n) => `${n}: ${instance(r, n).deleteBeforeReplace}`)).toEqual(
        NODES.map((n) => `${n}: true`),
      );
  });

  it("has each server leave from its own old machine, as a delete command replaced with the machine", () => {
    for (const s of ["server-0", "server-1", "server-2"]) {
      const leave = changed.byName(`prod-${s}-leave`);
      expect(leave.inputs.create).toBeUndefined();
      expect(unwrap(leave.inputs.delete)).toMatch(
        new RegExp(`bash -c "\\$script" script leave ${s} server `),
      );
      expect(unwrap(leave.inputs.triggers)).toEqual([instance(changed, s).id]);
      expect(leave.dependsOn).toContain(`prod-nodes-${s}`);
      expect(unwrap(leave.inputs.connection).host).toBe(instance(changed, s).outputs?.privateIp);
    }
    // One after the other, so `pulumi destroy` (which deletes in the reverse order) takes one member at a time.
    expect(changed.byName("prod-server-1-leave").dependsOn).toContain("prod-server-0-leave");
    expect(changed.byName("prod-server-2-leave").dependsOn).toContain("prod-server-1-leave");
  });

  it("has each agent leave through the first server after the stage before it, again for each new image", () => {
    const leave = changed.byName("prod-workers-2-leave");
    expect(leave.dependsOn).toEqual(expect.arrayContaining(["prod-workers-0-gate", "prod-workers-1-gate"]));
    expect(unwrap(leave.inputs.connection).host).toBe(instance(changed, "server-0").outputs?.privateIp);
    expect(unwrap(first.byName("prod-workers-2-leave").inputs.triggers)).toEqual([OLD]);
    expect(unwrap(leave.inputs.triggers)).toEqual([NEW]);
    // It drains only on a run that replaces machines: on a first up (or a stack that gains the step with a newer
    // product) it is a login check, never a drain of a node that stays.
    expect(unwrap(first.byName("prod-workers-2-leave").inputs.create)).toBe(CONNECTION_CHECK);
    expect(unwrap(same.byName("prod-workers-2-leave").inputs.create)).toBe(CONNECTION_CHECK);
    expect(unwrap(leave.inputs.create)).toMatch(/bash -c "\$script" script leave workers-2 agent v\S+ \d+/);
    // The agent starts only after its leave, so a leave never takes a new Node away.
    expect(changed.byName("prod-workers-2-start").dependsOn).toContain("prod-workers-2-leave");
  });

  it("runs every step again on a new machine, with the same content hashes", () => {
    for (const step of ["files", "sysctl", "install", "start", "gate"]) {
      const [before, after] = [same, changed].map(
        (r) => unwrap(r.byName(`prod-server-1-${step}`).inputs.triggers) as unknown[],
      );
      expect(unwrap(after[1])).not.toBe(unwrap(before[1]));
      if (step !== "files") expect(unwrap(after[0])).toBe(unwrap(before[0]));
    }
  });

  it("has the first server's new machine join the cluster it started, and only once it is a new machine", () => {
    const serverLine = (r: ProgramRun) =>
      filesOf(r, "prod-server-0")
        .get("/etc/rancher/rke2/config.yaml")
        ?.content.split("\n")
        .find((l) => l.startsWith("server:"));
    expect(serverLine(first)).toBeUndefined();
    expect(serverLine(same)).toBeUndefined();
    expect(serverLine(changed)).toBe("server: https://prod-nodes-nlb.elb.example:9345");
    // The other servers always join.
    expect(filesOf(first, "prod-server-1").get("/etc/rancher/rke2/config.yaml")?.content).toContain(
      "server: https://prod-nodes-nlb.elb.example:9345",
    );
  });

  it("passes the pack, which refuses the change when a machine does not wait for its stage or its leave", async () => {
    expect(await checkPack(policies, fromRecorded(changed.resources))).toEqual([]);
    // What a program that dropped two dependencies would send: server-1's machine no longer waits for server-0's roll,
    // and workers-2's no longer for its leave.
    const drop = (r: Recorded, name: string, dep: string): Recorded =>
      r.name === name ? { ...r, dependsOn: r.dependsOn.filter((d) => d !== dep) } : r;
    const weakened = changed.resources.map((r) =>
      drop(
        drop(r, "prod-nodes-server-1", "prod-server-0-gate"),
        "prod-nodes-workers-2",
        "prod-workers-2-leave",
      ),
    );
    expect(await checkPack(policies, fromRecorded(weakened))).toEqual([
      "aws-image-change-ordered: the machines of servers prod-server-0 and prod-server-1 may be replaced at the same time; etcd keeps quorum only while one member at a time is away",
      "aws-image-change-ordered: node prod-workers-2 is not drained and taken out of the cluster before its machine is replaced",
    ]);
    // The same graph on a run that replaces nothing is not judged by this policy (it has no chain to judge).
    expect(await checkPack(policies, fromRecorded(same.resources))).toEqual([]);
  });
});

// The restore under mocks (prod stack: three servers, three agents, `restore` set): the resource graph orders its
// steps as RKE2 documents a restore (docs.rke2.io, "Backup and Restore"), after every node's bootstrap and before
// the kubeconfig read and the in-cluster objects, each keyed on the restore's value. The engine running them in that
// order against a real etcd is test/e2e/restore.test.ts.
import { runProgram, unwrap, type ProgramRun } from "../helpers/program";

const SERVERS = ["server-0", "server-1", "server-2"];
const AGENTS = ["workers-0", "workers-1", "workers-2"];
let run: ProgramRun;
let plain: ProgramRun;
beforeAll(async () => {
  run = await runProgram("prod", (c) => (c.restore = { snapshot: "pre-upgrade-server-0-1764700000" }));
  plain = await runProgram("prod");
}, 240_000);

/** True when `a` depends on `b`, directly or through other resources. */
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
const args = (name: string) =>
  /bash -c "\$script" script (.*?);/.exec(unwrap(run.byName(name).inputs.create) as string)?.[1];

describe("a restore (prod stack)", () => {
  it("stops every server after every node's bootstrap, resets the first, then rejoins the others one at a time", () => {
    for (const s of SERVERS) {
      for (const n of [...SERVERS, ...AGENTS])
        expect(`${s} after ${n}: ${after(run, `prod-restore-stop-${s}`, `prod-${n}-gate`)}`).toBe(
          `${s} after ${n}: true`,
        );
      expect(after(run, "prod-restore-reset-server-0", `prod-restore-stop-${s}`)).toBe(true);
    }
    expect(after(run, "prod-restore-rejoin-server-1", "prod-restore-reset-server-0")).toBe(true);
    expect(after(run, "prod-restore-rejoin-server-2", "prod-restore-rejoin-server-1")).toBe(true);
    // No step on an agent: RKE2's restore is a matter of the servers (agents reconnect on their own).
    expect(run.resources.filter((r) => r.name.includes("-restore-")).map((r) => r.name)).toEqual([
      ...SERVERS.map((s) => `prod-restore-stop-${s}`),
      "prod-restore-reset-server-0",
      "prod-restore-rejoin-server-1",
      "prod-restore-rejoin-server-2",
    ]);
    // The kubeconfig is read, and the in-cluster objects applied, against the restored cluster.
    expect(after(run, "prod-kubeconfig", "prod-restore-rejoin-server-2")).toBe(true);
  });

  it("runs each step on its own server with plain words, keyed on the restore's value", () => {
    const host = (name: string) => unwrap(run.byName(name).inputs.connection).host as string;
    expect(host("prod-restore-reset-server-0")).toBe(host("prod-server-0-start"));
    expect(host("prod-restore-rejoin-server-2")).toBe(host("prod-server-2-start"));
    expect(args("prod-restore-reset-server-0")).toBe("reset server-0 pre-upgrade-server-0-1764700000 local");
    expect(args("prod-restore-stop-server-1")).toBe("stop server-1");
    expect(args("prod-restore-rejoin-server-1")).toBe("rejoin server-1");
    for (const r of run.resources.filter((x) => x.name.includes("-restore-")))
      expect(unwrap(r.inputs.triggers)).toEqual(["local:pre-upgrade-server-0-1764700000"]);
  });

  it("adds nothing to a stack without the key", () => {
    expect(plain.resources.filter((r) => r.name.includes("-restore-"))).toEqual([]);
  });
});

// The version rules of an upgrade and the guard that applies them at every preview and `up`: the engine hands the
// guard's `check` its previous inputs (from state) and the new ones; a failure stops the deployment before any node
// step (they all depend on the guard: test/program/day2.test.ts).
import * as pulumi from "@pulumi/pulumi";
import { releaseGuardProvider } from "../../components/bootstrap/release-guard";
import { rollCommand } from "../../components/bootstrap/roll";
import { upgradePathProblem } from "../../components/spec/version";
import { ConfigError } from "../../components/spec/problems";
import { existingConfig, spec } from "../helpers/spec";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString = require("require-from-string") as (code: string) => {
  handler(): pulumi.dynamic.ResourceProvider;
};

describe("upgradePathProblem", () => {
  it.each([
    ["v1.33.5+rke2r1", "v1.33.6+rke2r1"],
    ["v1.33.5+rke2r1", "v1.33.5+rke2r2"],
    ["v1.33.5+rke2r1", "v1.34.1+rke2r1"],
    ["v1.33.5+rke2r1", "v1.33.5+rke2r1"],
  ])("lets %s go to %s", (from, to) => {
    expect(upgradePathProblem(from, to)).toBeUndefined();
  });
  it.each([
    ["v1.33.5+rke2r1", "v1.33.4+rke2r1", /older than v1\.33\.5\+rke2r1.*does not support downgrades/],
    ["v1.33.5+rke2r2", "v1.33.5+rke2r1", /older than/],
    ["v1.34.1+rke2r1", "v1.33.9+rke2r1", /older than/],
    ["v1.32.3+rke2r1", "v1.34.1+rke2r1", /skips a Kubernetes minor.*first the newest v1\.33\.x release/],
  ])("refuses %s to %s", (from, to, why) => {
    expect(upgradePathProblem(from, to)).toMatch(why);
  });
});

describe("the release guard, as the dynamic-provider plugin loads it", () => {
  let guard: pulumi.dynamic.ResourceProvider;
  beforeAll(async () => {
    const { text } = await pulumi.runtime.serializeFunction(() => releaseGuardProvider, {
      allowSecrets: true,
    });
    guard = requireFromString(text).handler();
  });
  it("accepts any version on a new stack and one minor forward later", async () => {
    expect((await guard.check!({}, { version: "v1.33.5+rke2r1" })).failures).toEqual([]);
    expect(
      (await guard.check!({ version: "v1.33.5+rke2r1" }, { version: "v1.34.1+rke2r1" })).failures,
    ).toEqual([]);
  });
  it("refuses a downgrade and a skipped minor, naming the property", async () => {
    const down = await guard.check!({ version: "v1.34.1+rke2r1" }, { version: "v1.33.5+rke2r1" });
    expect(down.failures?.map((f) => `${f.property}: ${f.reason}`)).toEqual([
      expect.stringMatching(/^version: v1\.33\.5\+rke2r1 is older than v1\.34\.1\+rke2r1/),
    ]);
    const skip = await guard.check!({ version: "v1.32.3+rke2r1" }, { version: "v1.34.1+rke2r1" });
    expect(skip.failures).toHaveLength(1);
  });
  it("records a new version as an update, never a replacement", async () => {
    expect(await guard.diff!("id", { version: "a" }, { version: "b" })).toEqual({
      changes: true,
      replaces: [],
    });
    expect(await guard.diff!("id", { version: "a" }, { version: "a" })).toEqual({
      changes: false,
      replaces: [],
    });
    expect((await guard.update!("id", { version: "a" }, { version: "b" })).outs).toEqual({ version: "b" });
  });
});

describe("the roll's commands", () => {
  const s = spec(existingConfig());
  it("pass only plain words to the script", () => {
    expect(rollCommand("drain", { spec: s, node: { name: "s1", role: "server" } })).toMatch(
      /bash -c "\$script" script drain s1 server v1\.33\.5\+rke2r1 600 rke2; fi$/,
    );
    expect(() => rollCommand("gate", { spec: s, node: { name: "s1; reboot", role: "server" } })).toThrow(
      /unsafe script argument s1;/,
    );
  });
  it("take the batch size and limits from the upgrade section, refusing a batch of zero", () => {
    const c = { ...existingConfig(), upgrade: { agentBatchSize: 3, drainTimeoutSeconds: 120 } };
    expect(spec(c).upgrade).toEqual({
      agentBatchSize: 3,
      drainTimeoutSeconds: 120,
      healthTimeoutSeconds: 900,
    });
    expect(() => spec({ ...existingConfig(), upgrade: { agentBatchSize: 0 } })).toThrow(ConfigError);
  });
});

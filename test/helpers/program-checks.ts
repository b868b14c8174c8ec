// Checks every stack's program run must pass, whatever its node source.
import * as pulumi from "@pulumi/pulumi";
import { CONNECTION_CHECK, DRAIN_STDIN, readKubeconfig } from "../../components/bootstrap/remote";
import { isSecretValue, plainInputs, unwrap, type ProgramRun, type Recorded } from "./program";

export const COMMAND = "command:remote:Command";
const HEX64 = /^[0-9a-f]{64}$/;

/** The bootstrap steps of a node in order; etcd-user only on RKE2 servers; with FIPS, the kernel check before the
 * install and the module check after it; the roll's drain before the install, its health gate (which uncordons what
 * the drain cordoned) after the start (which waits for the join); the CIS host checks last (RKE2 only: K3s's host
 * checks are not built yet). */
export function stepsOf(node: string, role: "server" | "agent", fips = false, k3s = false): string[] {
  const steps = [
    "files",
    "sysctl",
    ...(role === "server" && !k3s ? ["etcd-user"] : []),
    ...(fips ? ["fips-kernel"] : []),
    "drain",
    "install",
    ...(fips ? ["fips-module"] : []),
    "start",
    "gate",
    ...(k3s ? [] : ["cis"]),
  ];
  return steps.map((s) => `${node}-${s}`);
}

export function dependsOn(run: ProgramRun, name: string, on: string): boolean {
  return run.byName(name).dependsOn.includes(on);
}

/** Every check that holds for any stack. */
export async function checkCommon(
  run: ProgramRun,
  nodes: { name: string; role: "server" | "agent" }[],
  opts: { fips?: boolean; distribution?: "rke2" | "k3s" } = {},
) {
  const distribution = opts.distribution ?? "rke2";
  // Steps run in order on each node, each after the previous one.
  for (const n of nodes) {
    const steps = stepsOf(n.name, n.role, opts.fips, distribution === "k3s");
    for (let i = 1; i < steps.length; i++) {
      expect(`${steps[i]} <- ${steps[i - 1]}: ${dependsOn(run, steps[i], steps[i - 1])}`).toBe(
        `${steps[i]} <- ${steps[i - 1]}: true`,
      );
    }
  }
  const commands = run.ofType(COMMAND).concat(run.ofType("command:remote:CopyToRemote"));
  for (const c of commands) {
    // The SSH connection carries the private key: a secret; the host key is always pinned.
    expect(`${c.name} connection secret: ${isSecretValue(c.inputs.connection)}`).toBe(
      `${c.name} connection secret: true`,
    );
    const conn = unwrap(c.inputs.connection);
    expect(conn.hostKey).toMatch(/^(ssh-ed25519|ecdsa-sha2-nistp256) \S+$/);
    expect(conn.privateKey).toContain("PLANTED-SSH-KEY");
    // A jump host, when there is one, is pinned the same way.
    if (conn.proxy !== undefined) {
      expect(conn.proxy.hostKey).toMatch(/^(ssh-ed25519|ecdsa-sha2-nistp256) \S+$/);
      expect(conn.proxy.privateKey).toContain("PLANTED-SSH-KEY");
    }
  }
  // Nothing secret is readable in any resource's plain inputs.
  for (const r of run.resources) {
    expect(`${r.name}: ${/PLANTED-/.test(plainInputs(r))}`).toBe(`${r.name}: false`);
  }
  // Every step re-runs only on a content hash; the files step's stdin (token, credentials) is a secret.
  for (const c of run.ofType(COMMAND).filter((x) => !x.name.endsWith("-kubeconfig"))) {
    // Bootstrap steps and the audit sample re-run on a content hash.
    const triggers = unwrap(c.inputs.triggers) as unknown[];
    const secretTrigger = isSecretValue(c.inputs.triggers) || isSecretValue(triggers[0]);
    // On a machine the stack made, its id follows the hash: a new machine (an image change) runs every step again.
    // A server's leave runs only when its machine is replaced: its one trigger is the machine's id.
    const machine = machineOf(run, c.name);
    if (c.name.endsWith("-leave") && c.inputs.delete !== undefined) {
      expect(triggers).toEqual([machine]);
      expect(c.inputs.create).toBeUndefined();
      continue;
    }
    // An agent's leave runs again whenever the stack's image changes.
    if (c.name.endsWith("-leave")) {
      expect(triggers).toEqual([expect.stringMatching(/^ami-[0-9a-f]+$/)]);
      continue;
    }
    // The gate runs again after every drain too: its last trigger is the drain's (the gate uncordons what the drain
    // cordoned, so no drain may go without a gate after it, even when nothing the start step reads changed).
    const gate = c.name.endsWith("-gate");
    expect(triggers).toHaveLength((machine === undefined ? 1 : 2) + (gate ? 1 : 0));
    expect(unwrap(triggers[0])).toMatch(HEX64);
    if (machine !== undefined) expect(`${c.name}: ${unwrap(triggers[1])}`).toBe(`${c.name}: ${machine}`);
    if (gate) {
      const drain = unwrap(
        unwrap(run.byName(c.name.replace(/-gate$/, "-drain")).inputs.triggers) as unknown[],
      );
      expect(`${c.name}: ${unwrap(triggers[triggers.length - 1])}`).toBe(`${c.name}: ${unwrap(drain[0])}`);
    }
    // The start step waits for the node to join too (its `ready` script), one command after the other.
    if (c.name.endsWith("-start"))
      expect(unwrap(c.inputs.create)).toMatch(
        / \/bin\/bash -c '\/\S+\/40-start\.sh && \/\S+\/50-wait-ready\.sh';/,
      );
    if (c.name.endsWith("-files")) {
      expect(isSecretValue(c.inputs.stdin)).toBe(true);
      expect(secretTrigger).toBe(true);
    }
    // Steps that read no secret keep readable triggers, so a diff shows which step will re-run.
    if (/-(sysctl|etcd-user|fips-kernel|install|fips-module)$/.test(c.name))
      expect(`${c.name} trigger secret: ${secretTrigger}`).toBe(`${c.name} trigger secret: false`);
    // Static commands: no value is interpolated into shell.
    expect(unwrap(c.inputs.create)).not.toMatch(/PLANTED|10\.\d+\.\d+\.\d+/);
  }
  // A changed connection alone (a rotated SSH key) re-runs no step: the update runs only a login check, and never
  // sends the previous output (the admin kubeconfig, for its read) as SSH environment.
  for (const c of run.ofType(COMMAND)) {
    expect(`${c.name} addPreviousOutputInEnv: ${c.inputs.addPreviousOutputInEnv}`).toBe(
      `${c.name} addPreviousOutputInEnv: false`,
    );
    // The audit sample and the CIS host checks are read again: their output is the verification's evidence.
    if (c.name.endsWith("-leave") && c.inputs.delete !== undefined) continue;
    const update =
      c.name.endsWith("-audit-sample") || c.name.endsWith("-cis")
        ? unwrap(c.inputs.create)
        : c.name.endsWith("-kubeconfig")
          ? readKubeconfig(distribution)
          : c.name.endsWith("-files")
            ? DRAIN_STDIN
            : CONNECTION_CHECK;
    expect(`${c.name} update: ${c.inputs.update}`).toBe(`${c.name} update: ${update}`);
  }
  const kube = run.ofType(COMMAND).find((c) => c.name.endsWith("-kubeconfig")) as Recorded;
  expect(kube.inputs.logging).toBe("none");
  expect(pulumi.Output.isInstance(run.outputs.kubeconfig)).toBe(true);
  expect(await pulumi.isSecret(run.outputs.kubeconfig as pulumi.Output<string>)).toBe(true);
}

/** The files a node's files step writes, decoded from its (secret) stdin: path → {mode, content}. */
export function filesOf(
  run: ProgramRun,
  node: string,
): Map<string, { mode: string; owner: string; content: string }> {
  const stdin = unwrap(run.byName(`${node}-files`).inputs.stdin) as string;
  const files = new Map<string, { mode: string; owner: string; content: string }>();
  for (const line of stdin.split("\n").filter(Boolean)) {
    const [path, mode, owner, group, b64] = line.split(" ");
    files.set(path, {
      mode,
      owner: `${owner}:${group}`,
      content: Buffer.from(b64 ?? "", "base64").toString("utf8"),
    });
  }
  return files;
}

/**
 * Every AWS resource and data source goes through the stack's explicit provider for nodes.region (never the ambient
 * default provider, whose region comes from aws:region or the environment). Returns what was checked, for a message.
 */
export function checkAwsProvider(run: ProgramRun, name: string, region: string) {
  const [provider, ...others] = run.ofType("pulumi:providers:aws");
  expect(others).toEqual([]);
  expect(provider.name).toBe(name);
  expect(provider.inputs.region).toBe(region);
  const ref = `pulumi:providers:aws::${name}::`;
  const aws = run.resources.filter((r) => r.type.startsWith("aws:"));
  expect(aws.length).toBeGreaterThan(0);
  expect(aws.filter((r) => !r.provider.includes(ref)).map((r) => r.name)).toEqual([]);
  const calls = run.invokes.filter((i) => i.token.startsWith("aws:"));
  expect(calls.filter((i) => !i.provider.includes(ref)).map((i) => i.token)).toEqual([]);
}

/**
 * The id of the machine a command's node runs on, when the stack made it (an AWS instance), else undefined. Only the
 * node's own steps carry it: an agent's drain and leave run on the first server and follow the image, not
 * the agent's machine; the stack-wide reads carry none.
 */
function machineOf(run: ProgramRun, command: string): string | undefined {
  const step =
    /^(.*)-(files|sysctl|etcd-user|fips-kernel|install|fips-module|start|gate|cis|leave|artifact-.*)$/.exec(
      command,
    );
  if (!step) return undefined;
  const [, bootstrap] = step;
  // The node's machine: `<cluster>-nodes-<node>` for the bootstrap `<cluster>-<node>` (the cluster's name may hold "-").
  const instance = run.resources.find(
    (r) => r.type === "aws:ec2/instance:Instance" && r.name.replace("-nodes-", "-") === bootstrap,
  );
  if (!instance) return undefined;
  if (step[2] === "leave" && instance.inputs.tags?.["hardened-rke2/role"] !== "server") return undefined;
  return instance.id;
}

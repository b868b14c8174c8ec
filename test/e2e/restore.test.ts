// A restore from an etcd snapshot, end to end over real SSH (helpers/ssh-hosts.ts: three test hosts, each a throw-away
// root with its own sshd, host key and loopback address), driven by the product's own `pulumi up` and its `restore`
// key: a 3-server cluster goes up (the stack refuses an even count), an object is written, a snapshot is taken with `rke2 etcd-snapshot save` (as the
// README says), the object is changed and another made, and `pulumi up` with `restore.snapshot` set restores it in
// RKE2's documented order (docs.rke2.io, "Backup and Restore"). The RKE2 stand-in (test/standins/rke2-standin.sh)
// runs a real etcd per server and saves and restores snapshots with the real etcdctl and etcdutl
// (e2e/toolchain/build.sh etcd-tools); what it stands in for is RKE2 itself, systemctl and the command provider.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clientFor } from "../../components/hardening/api";
import { placeTools, until } from "../helpers/control-plane";
import { projectCopy, spans, writeStackConfig, type Cli, type ResourceSpan } from "../helpers/pulumi-cli";
import { makeSshHost, newKeyPair, SSH_PORT, type SshHost } from "../helpers/ssh-hosts";
import { stopRootProcesses, writeStandinRelease } from "../helpers/standin-root";

jest.setTimeout(900_000);

const STACK = "restore";
const HOSTS: [name: string, address: string][] = [
  ["s1", "127.0.1.51"],
  ["s2", "127.0.1.52"],
  ["s3", "127.0.1.53"],
];
const work = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-restore-"));
const hosts: SshHost[] = [];
let cli: Cli;
let cluster: Record<string, unknown>;
let privateKey: string;
const outputs: string[] = [];
const timings: [string, string][] = [];
let n = 0;

function up(extra: string[] = []) {
  const eventLog = path.join(work, `events-${++n}.jsonl`);
  const r = cli.run(["up", "--yes", ...extra, "--event-log", eventLog]);
  outputs.push(r.out, fs.existsSync(eventLog) ? fs.readFileSync(eventLog, "utf8") : "");
  return { ...r, steps: fs.existsSync(eventLog) ? spans(eventLog) : [] };
}
const tail = (r: { status: number | null; out: string }) => ({
  status: r.status,
  tail: r.status === 0 ? "" : r.out.slice(-3000),
});
const hostOf = (name: string) => hosts.find((h) => h.name === name) as SshHost;
/** Runs a command as root on a test host, as an operator logged in there would. */
function onHost(name: string, argv: string[]) {
  const r = spawnSync(
    "chroot",
    [hostOf(name).root, "/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/usr/sbin", ...argv],
    { encoding: "utf8" },
  );
  outputs.push(r.stdout, r.stderr);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
const kubeconfig = () => {
  const r = cli.run(["stack", "output", "kubeconfig", "--show-secrets"]);
  return r.stdout.trim();
};
/** The kubeconfig pointed at one server's own API server (each serves the host's address). */
const apiOf = (name: string) =>
  clientFor(kubeconfig().replace(/server: https:\/\/[^\s]+/, `server: https://${hostOf(name).address}:6443`));
const configMap = async (name: string) => {
  const r = await clientFor(kubeconfig()).request("GET", `/api/v1/namespaces/default/configmaps/${name}`);
  return r.status === 200 ? (r.json as { data: Record<string, string> }).data : r.status;
};
const byName = (steps: ResourceSpan[], name: string) => {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}; have ${steps.map((x) => x.name).join(", ")}`);
  return s;
};
const etcdMembers = (name: string) => {
  const tls = "/var/lib/rancher/rke2/server/tls/etcd";
  return onHost(name, [
    "/opt/standin-control-plane/bin/etcdctl",
    `--endpoints=https://${hostOf(name).address}:2379`,
    `--cacert=${tls}/server-ca.crt`,
    `--cert=${tls}/client.crt`,
    `--key=${tls}/client.key`,
    "member",
    "list",
    "-w",
    "simple",
  ]);
};

beforeAll(async () => {
  fs.mkdirSync(path.join(work, "logs"));
  const key = newKeyPair(work, "operator");
  privateKey = fs.readFileSync(key.privateKeyFile, "utf8");
  for (const [name, address] of HOSTS) {
    const h = await makeSshHost(
      name,
      address,
      "root",
      `${key.privateKeyFile}.pub`,
      path.join(work, "logs"),
      true,
    );
    // The etcd tools the RKE2 stand-in saves and restores snapshots with (RKE2 has them built in).
    placeTools(h.root, ["etcdctl", "etcdutl"]);
    hosts.push(h);
  }
  const release = writeStandinRelease(path.join(work, "release"), { imagesBytes: 1 << 20 });
  cluster = {
    name: "restore",
    version: "v1.33.5+rke2r1",
    nodes: {
      source: "existing",
      hosts: hosts.map((h) => ({
        name: h.name,
        address: h.address,
        port: SSH_PORT,
        user: "root",
        role: "server",
        hostKey: h.hostKey,
      })),
    },
    install: { mode: "airgap", artifactsDir: release },
    upgrade: { drainTimeoutSeconds: 60, healthTimeoutSeconds: 180 },
  };
  cli = projectCopy(work, STACK, cluster);
  for (const [args, input] of [
    [["stack", "init"], undefined],
    [["config", "set", "--secret", "sshPrivateKey"], privateKey],
  ] as [string[], string | undefined][]) {
    const r = cli.run(args, input);
    if (r.status !== 0) throw new Error(r.out);
  }
}, 300_000);

afterAll(async () => {
  process.stdout.write(
    [
      "",
      "== restore from an etcd snapshot: timings",
      ...timings.map(([k, v]) => `   ${k.padEnd(50)} ${v}`),
      "",
    ].join("\n"),
  );
  for (const h of hosts) await stopRootProcesses(h.root);
  if (!process.env.HARDENED_RKE2_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
  else process.stdout.write(`kept ${work}\n`);
}, 120_000);

describe("a restore from an etcd snapshot over SSH (three servers)", () => {
  let snapshot = "";

  it("goes up, and a snapshot taken with `rke2 etcd-snapshot save` holds an object written before it", async () => {
    const first = up();
    timings.push(["up of three servers (wall)", `${first.seconds.toFixed(1)} s`]);
    expect(tail(first)).toEqual({ status: 0, tail: "" });
    const api = clientFor(kubeconfig());
    const created = await api.request("POST", "/api/v1/namespaces/default/configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "restore-proof" },
      data: { state: "before the snapshot" },
    });
    expect(created.status).toBe(201);
    const t0 = Date.now();
    const saved = onHost("s1", ["rke2", "etcd-snapshot", "save", "--name", "pre-change"]);
    timings.push(["rke2 etcd-snapshot save (wall)", `${((Date.now() - t0) / 1000).toFixed(1)} s`]);
    expect(saved.status).toBe(0);
    const file = /\/var\/lib\/rancher\/rke2\/server\/db\/snapshots\/(pre-change-s1-\d+)$/m.exec(
      saved.out,
    )?.[1];
    expect(file).toBeDefined();
    snapshot = file as string;
    // After the snapshot: the object changed, another one made. The restore must take both back.
    const changed = await api.request("PUT", "/api/v1/namespaces/default/configmaps/restore-proof", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "restore-proof" },
      data: { state: "after the snapshot" },
    });
    expect(changed.status).toBe(200);
    expect(
      (
        await api.request("POST", "/api/v1/namespaces/default/configmaps", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "made-after-snapshot" },
        })
      ).status,
    ).toBe(201);
    expect(await configMap("restore-proof")).toEqual({ state: "after the snapshot" });
  });

  it("restores it with the restore key: in RKE2's order, the object back, the other server rejoined", async () => {
    writeStackConfig(cli.dir, STACK, { ...cluster, restore: { snapshot } });
    const r = up();
    timings.push(["up with restore.snapshot (wall)", `${r.seconds.toFixed(1)} s`]);
    expect(tail(r)).toEqual({ status: 0, tail: "" });
    // The order, from the engine's own event log: every server stopped before the reset, the reset before the first
    // rejoin, one rejoin after the other.
    const step = (s: string) => byName(r.steps, `restore-restore-${s}`);
    for (const s of ["stop-s1", "stop-s2", "stop-s3"])
      expect(`${s} ended before the reset: ${step(s).endSeq < step("reset-s1").startSeq}`).toBe(
        `${s} ended before the reset: true`,
      );
    expect(step("rejoin-s2").startSeq).toBeGreaterThan(step("reset-s1").endSeq);
    expect(step("rejoin-s3").startSeq).toBeGreaterThan(step("rejoin-s2").endSeq);
    for (const s of ["stop-s1", "stop-s2", "stop-s3", "reset-s1", "rejoin-s2", "rejoin-s3"])
      timings.push([`  restore step ${s}`, `${step(s).end - step(s).start} s`]);
    // Nothing else ran: no node step, no in-cluster object.
    expect(
      [
        ...new Set(r.steps.filter((s) => !/^pulumi:/.test(s.type) && s.op !== "same").map((s) => s.name)),
      ].sort(),
    ).toEqual([
      "restore-restore-rejoin-s2",
      "restore-restore-rejoin-s3",
      "restore-restore-reset-s1",
      "restore-restore-stop-s1",
      "restore-restore-stop-s2",
      "restore-restore-stop-s3",
    ]);
    // What the hosts saw: RKE2's cluster reset with the snapshot on s1, the others' old etcd data set aside.
    expect(fs.readFileSync(path.join(hostOf("s1").root, "var/log/rke2-standin.log"), "utf8")).toMatch(
      new RegExp(`cluster-reset node=s1 restore=/var/lib/rancher/rke2/server/db/snapshots/${snapshot}$`, "m"),
    );
    expect(fs.existsSync(path.join(hostOf("s1").root, "var/lib/rancher/rke2/server/db/reset-flag"))).toBe(
      false,
    );
    for (const s of ["s2", "s3"])
      expect(
        fs
          .readdirSync(path.join(hostOf(s).root, "var/lib/rancher/rke2/server"))
          .filter((d) => d.startsWith("db-before-restore-")),
      ).toHaveLength(1);
    // The object as it was at the snapshot, the later one gone.
    expect(await configMap("restore-proof")).toEqual({ state: "before the snapshot" });
    expect(await configMap("made-after-snapshot")).toBe(404);
    // Three started etcd members again, and each server's API server ready (its /readyz includes its etcd).
    const members = await until("three started etcd members", 60, () => {
      const lines = etcdMembers("s1")
        .out.split("\n")
        .filter((l) => / started, /.test(l));
      return Promise.resolve(lines.length === 3 ? lines : undefined);
    });
    expect(members.map((l) => l.split(", ")[2]).sort()).toEqual([
      expect.stringMatching(/^s1-\w+$/),
      expect.stringMatching(/^s2-\w+$/),
      expect.stringMatching(/^s3-\w+$/),
    ]);
    for (const s of ["s1", "s2", "s3"])
      expect(
        `${s} ${await until(`${s} ready`, 60, async () => ((await apiOf(s).request("GET", "/readyz")).status === 200 ? 200 : undefined))}`,
      ).toBe(`${s} 200`);
    // The last server to rejoin serves the restored object from its own etcd member.
    const fromS3 = await apiOf("s3").request("GET", "/api/v1/namespaces/default/configmaps/restore-proof");
    expect((fromS3.json as { data: unknown }).data).toEqual({ state: "before the snapshot" });
  });

  it("changes nothing on the next up: the restore runs once per value", () => {
    const again = up(["--expect-no-changes"]);
    timings.push(["no-op up after the restore (wall)", `${again.seconds.toFixed(1)} s`]);
    expect(tail(again)).toEqual({ status: 0, tail: "" });
  });

  it("never shows the SSH private key", () => {
    const body = privateKey.split("\n")[1];
    expect(outputs.filter((o) => o.includes(body))).toEqual([]);
  });
});

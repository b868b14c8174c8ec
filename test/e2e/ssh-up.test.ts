// The product's own `pulumi up`, end to end over real SSH: the real Pulumi CLI, Node.js language host and kubernetes
// provider run index.ts on an existing-hosts, air-gapped stack (a registry mirror with a password secret, the
// stand-in RKE2 release) against four test hosts, each a throw-away root with its own OpenSSH sshd, host key and
// loopback address (helpers/ssh-hosts.ts). The node steps go over SSH through the command provider named by
// HARDENED_RKE2_COMMAND_PROVIDER_DIR (the stand-in under test/standins/command-provider by default). The first
// server's RKE2 stand-in starts the real etcd, kube-apiserver and kube-controller-manager; the stack's kubeconfig
// output, its Kubernetes provider and its verification step reach that API server.
// What is stood in for: the RKE2 binary (test/standins/rke2-standin.sh), systemctl inside the roots, and, by default,
// the command provider. Nothing leaves 127.0.0.0/8.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clientFor } from "../../components/hardening/api";
import { PATHS } from "../../components/render/files";
import { until } from "../helpers/control-plane";
import { REPO } from "../helpers/spec";
import { createHash } from "node:crypto";
import {
  criticalPath,
  dependenciesOf,
  projectCopy,
  spans,
  useChangedComponents,
  writeStackConfig,
  type Cli,
  type CliResult,
  type ResourceSpan,
} from "../helpers/pulumi-cli";
import { authorize, makeSshHost, newKeyPair, SSH_PORT, type SshHost } from "../helpers/ssh-hosts";
import { writeStandinRelease } from "../helpers/standin-root";
import { negativeRun } from "../helpers/cis-negative";
import { floorProject, mb, measuredRun, type IoSample } from "../helpers/proc-io";

// Each phase is a whole `pulumi` run on a possibly loaded 2-core machine: generous limits, no retried assertion.
jest.setTimeout(900_000);

const STACK = "e2e";
const HOSTS: [name: string, address: string, role: "server" | "agent", user: string][] = [
  ["s1", "127.0.1.31", "server", "root"],
  // Reached as a non-root user: every step goes through `sudo -n`, the artifacts over SFTP as that user.
  ["s2", "127.0.1.32", "server", "rke2admin"],
  ["s3", "127.0.1.33", "server", "root"],
  ["a1", "127.0.1.41", "agent", "root"],
];
/** The README's recovery after an interrupted `pulumi up` (section "An interrupted pulumi up"). */
const RECOVERY = [
  ["cancel", "--yes"],
  ["refresh", "--yes", "--clear-pending-creates"],
];
const SERVERS = HOSTS.filter((h) => h[2] === "server").map((h) => h[0]);
/** The stand-in images archive's size: a real one is about 1 GB, which a no-op run must not read once per node. */
const ARTIFACT_MB = Number(process.env.HARDENED_RKE2_E2E_ARTIFACT_MB ?? 1024);

const work = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-ssh-up-"));
const registryPassword = `e2e-registry-${Math.random().toString(36).slice(2)}-password`;
let hosts: SshHost[] = [];
let cli: Cli;
let operatorKey: { privateKeyFile: string; publicKey: string };
let release: string;
let cluster: Record<string, any>;
/** Every CLI output of the run, for the secret grep. */
const outputs: { run: string; text: string }[] = [];
/** Command lines seen on this machine while `pulumi up` ran (the hosts' processes included). */
const processLines = new Set<string>();
const timings: [string, string][] = [];
let eventLogN = 0;

function clusterConfig(keys: Record<string, string>): Record<string, any> {
  return {
    name: "e2e",
    version: "v1.33.5+rke2r1",
    nodes: {
      source: "existing",
      hosts: HOSTS.map(([name, address, role, user]) => ({
        name,
        address,
        port: SSH_PORT,
        user,
        role,
        hostKey: keys[name],
      })),
    },
    install: { mode: "airgap", artifactsDir: release },
    registries: {
      mirrors: { "docker.io": { endpoints: ["https://registry.internal.example:5000"] } },
      configs: {
        "registry.internal.example:5000": {
          auth: { username: "rke2-pull", passwordSecret: "registryPassword" },
          tls: { caFile: "stacks/files/example-registry-ca.crt" },
        },
      },
    },
    namespaces: [{ name: "shop" }],
    // A node that does not come back fails the run within minutes, not the default 15.
    upgrade: { drainTimeoutSeconds: 60, healthTimeoutSeconds: 180 },
  };
}

/** Runs the CLI, keeps its output for the secret grep, and returns it with the event log's steps. */
function pulumi(args: string[], input?: string): CliResult & { steps: ResourceSpan[]; eventLog: string } {
  const eventLog = path.join(work, `events-${++eventLogN}.jsonl`);
  const withLog = ["up", "preview", "destroy"].includes(args[0]) ? [...args, "--event-log", eventLog] : args;
  const r = cli.run(withLog, input);
  outputs.push({ run: `pulumi ${args.join(" ")}`, text: r.out });
  const steps = fs.existsSync(eventLog) ? spans(eventLog) : [];
  if (fs.existsSync(eventLog))
    outputs.push({ run: `event log of pulumi ${args.join(" ")}`, text: fs.readFileSync(eventLog, "utf8") });
  return { ...r, steps, eventLog };
}

/** Runs `pulumi up` in the background, sampling every process's command line while it runs. */
async function upSampled(args: string[]): Promise<CliResult & { steps: ResourceSpan[]; eventLog: string }> {
  const eventLog = path.join(work, `events-${++eventLogN}.jsonl`);
  const log = path.join(work, `up-${eventLogN}.log`);
  const t0 = Date.now();
  const p = cli.start(["up", "--yes", ...args, "--event-log", eventLog], log);
  const sample = setInterval(() => {
    for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        processLines.add(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "));
      } catch {
        // ended while we looked
      }
    }
  }, 100);
  const status = await new Promise<number | null>((resolve) => p.on("exit", (code) => resolve(code)));
  clearInterval(sample);
  const out = fs.readFileSync(log, "utf8");
  outputs.push(
    { run: `pulumi up ${args.join(" ")}`, text: out },
    {
      run: `event log of pulumi up ${args.join(" ")}`,
      text: fs.existsSync(eventLog) ? fs.readFileSync(eventLog, "utf8") : "",
    },
  );
  return { status, out, stdout: out, seconds: (Date.now() - t0) / 1000, steps: spans(eventLog), eventLog };
}

/** The bytes a no-op run read, per process role, as a ratio to the artifacts' total size (figures, not asserted). */
const artifactBytes = (dir = cluster.install.artifactsDir as string) =>
  fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
function noteReads(label: string, run: { io: IoSample; reaped: number }) {
  const total = artifactBytes();
  const all = Math.max(run.reaped, run.io.total);
  const ratio = (b: number) => `${mb(b)} = ${(b / total).toFixed(3)} x artifacts (${mb(total)})`;
  timings.push([`${label}: bytes read, CLI and every process it waited for`, ratio(all)]);
  for (const [role, bytes] of Object.entries(run.io.bytes))
    if (bytes > 0) timings.push([`${label}: bytes read by the ${role} (sampled)`, ratio(bytes)]);
  // A byte count, not a time: at most one read of the archive by the whole run (`pulumi up` runs the program twice,
  // its preview and its update, and each validates the folder; the recorded digests keep that to none while the files
  // stay the same). Only where the archive dominates what a run reads (with a small HARDENED_RKE2_E2E_ARTIFACT_MB the
  // program's own modules are most of the bytes).
  if (total >= 256 << 20) expect(all).toBeLessThan(1.1 * total);
}

/** A run's exit status with the end of its output, so a failure shows why. */
const outcome = (r: { status: number | null; out: string }) => ({
  status: r.status,
  tail: r.status === 0 ? "" : r.out.slice(-3000),
});
const OK = { status: 0, tail: "" };

/** A resource's own type from its URN (the part after the last parent type). */
const typeOf = (urn: string) => urn.split("::")[2]?.split("$").pop() ?? "";

const counts = () => Object.fromEntries(hosts.map((h) => [h.name, h.counts()]));
const byName = (steps: ResourceSpan[], name: string) => {
  const s = steps.find((x) => x.name === name && x.op !== "delete-replaced" && x.op !== "discard-replaced");
  if (!s)
    throw new Error(`no step ${name} in the run; have ${steps.map((x) => `${x.name}:${x.op}`).join(", ")}`);
  return s;
};
const changed = (steps: ResourceSpan[]) =>
  [
    ...new Set(steps.filter((s) => !/^pulumi:(pulumi:Stack|providers:)/.test(s.type)).map((s) => s.name)),
  ].sort();
/** A server's processes, and those the CIS host checks read the command lines of. */
const CHECKED_PROCESSES = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
  "kube-proxy",
];
const hostOf = (name: string) => hosts.find((h) => h.name === name) as SshHost;
/** The processes running in a host's root, by the name they were started as (argv[0]): arguments and uid. */
const processesOf = (h: SshHost) => {
  const real = fs.realpathSync(h.root);
  const found: Record<string, { args: string[]; uid: number }> = {};
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/root`) !== real) continue;
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
      if (args.length) found[path.basename(args[0])] = { args, uid };
    } catch {
      // ended while we looked
    }
  }
  return found;
};
/** name, kubelet version and Ready status of every Node, as the API server has them. */
async function nodesSeen(kubeconfig: string): Promise<string[]> {
  const r = await clientFor(kubeconfig).request("GET", "/api/v1/nodes");
  const items = (r.json as { items?: any[] }).items ?? [];
  return items
    .map((n) => {
      const ready = n.status?.conditions?.find((c: { type: string }) => c.type === "Ready")?.status;
      const roles = Object.keys(n.metadata.labels ?? {})
        .filter((l) => l.startsWith("node-role.kubernetes.io/"))
        .map((l) => l.split("/")[1])
        .sort();
      return `${n.metadata.name} ${n.status?.nodeInfo?.kubeletVersion} Ready=${ready} roles=${roles.join(",")}`;
    })
    .sort();
}
const systemctlLog = (h: SshHost) => {
  const f = path.join(h.root, "var/log/systemctl-standin.log");
  return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
};

beforeAll(async () => {
  fs.mkdirSync(path.join(work, "logs"));
  operatorKey = newKeyPair(work, "operator");
  const pubFile = `${operatorKey.privateKeyFile}.pub`;
  hosts = [];
  for (const [name, address, , user] of HOSTS)
    hosts.push(
      await makeSshHost(name, address, user, pubFile, path.join(work, "logs"), SERVERS.includes(name)),
    );
  release = writeStandinRelease(path.join(work, "release-v1.33.5"), { imagesBytes: ARTIFACT_MB << 20 });
  cluster = clusterConfig(Object.fromEntries(hosts.map((h) => [h.name, h.hostKey])));
  cli = projectCopy(work, STACK, cluster);
  for (const [args, input] of [
    [["stack", "init"], undefined],
    [["config", "set", "--secret", "sshPrivateKey"], fs.readFileSync(operatorKey.privateKeyFile, "utf8")],
    [["config", "set", "--secret", "registryPassword"], registryPassword],
  ] as [string[], string | undefined][]) {
    const r = pulumi(args, input);
    if (r.status !== 0) throw new Error(r.out);
  }
}, 300_000);

afterAll(async () => {
  const lines = [
    "",
    "== pulumi up over SSH: timings",
    ...timings.map(([k, v]) => `   ${k.padEnd(58)} ${v}`),
    "",
  ];
  process.stdout.write(lines.join("\n"));
  const { stopRootProcesses } = await import("../helpers/standin-root");
  for (const h of hosts) {
    await stopRootProcesses(h.root);
    if (process.env.HARDENED_RKE2_E2E_KEEP && fs.existsSync(path.join(h.root, "var/log")))
      fs.cpSync(path.join(h.root, "var/log"), path.join(work, "host-logs", h.name), { recursive: true });
  }
  // HARDENED_RKE2_E2E_KEEP=1 keeps the logs, state and event logs for a look after a failure.
  if (!process.env.HARDENED_RKE2_E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
  else process.stdout.write(`kept ${work}\n`);
}, 120_000);

describe("pulumi up over SSH on four test hosts", () => {
  it("previews a fresh stack with a generated token, the policy pack passing it and saying what it cannot see yet", () => {
    // As CI meets a new environment: the plain preview, with the pack (README, "Policy pack").
    const r = pulumi(["preview", "--policy-pack", path.join(REPO, "policy", "analyzer")]);
    timings.push(["preview of the fresh stack with the policy pack (wall)", `${r.seconds.toFixed(1)} s`]);
    expect(r.out).not.toMatch(/malformed secret/);
    expect(outcome(r)).toEqual(OK);
    // No mandatory violation (the false positives of a first preview, issue #18, included); the advisory says what
    // the pack judged by the nodes' plans and which Kubernetes objects it could not see.
    expect(r.out).not.toMatch(/\[mandatory\]/);
    expect(r.out).toMatch(
      /\[advisory\]\s+policy-pack-cannot-see-yet[\s\S]*4 node\(s\) \(e2e-a1, e2e-s1, e2e-s2, e2e-s3\) judged by their plan/,
    );
    expect(r.out).toMatch(/Kubernetes object\(s\) not judged by k8s-namespace-default-deny/);
    // A preview runs nothing on the hosts.
    expect(Object.values(counts()).map((c) => c.commands)).toEqual([0, 0, 0, 0]);
  });

  let first: Awaited<ReturnType<typeof upSampled>>;
  it("goes up from nothing: every node hardened, installed and started in order", async () => {
    first = await upSampled([]);
    timings.push(["first up (wall)", `${first.seconds.toFixed(1)} s`]);
    expect(first.out).not.toMatch(/error:/);
    expect(outcome(first)).toEqual(OK);
    const end = (n: string) => byName(first.steps, n).endSeq;
    const start = (n: string) => byName(first.steps, n).startSeq;
    // Servers one at a time: each starts RKE2 only after the previous one joined (its start step waits for that) and
    // passed its health gate.
    expect(start("e2e-s2-start")).toBeGreaterThan(end("e2e-s1-gate"));
    expect(start("e2e-s3-start")).toBeGreaterThan(end("e2e-s2-gate"));
    // The agent after the first server, and its preparation before it (in parallel with the servers' joins).
    expect(start("e2e-a1-start")).toBeGreaterThan(end("e2e-s1-gate"));
    for (const [name] of HOSTS) {
      // One host-key check for every host, before anything runs on any of them.
      expect(start(`e2e-${name}-files`)).toBeGreaterThan(end("e2e-host-keys"));
      const server = SERVERS.includes(name);
      const steps = ["files", "sysctl", ...(server ? ["etcd-user"] : []), "install", "start", "gate"];
      for (let i = 1; i < steps.length; i++)
        expect(start(`e2e-${name}-${steps[i]}`)).toBeGreaterThan(end(`e2e-${name}-${steps[i - 1]}`));
    }
    // What the hosts saw: the stand-in logs its start with the join target.
    for (const name of SERVERS.slice(1))
      expect(fs.readFileSync(path.join(hostOf(name).root, "var/log/rke2-standin.log"), "utf8")).toMatch(
        new RegExp(`start server node=${name} server=https://127\\.0\\.1\\.31:9345`),
      );
    expect(fs.readFileSync(path.join(hostOf("a1").root, "var/log/rke2-standin.log"), "utf8")).toMatch(
      /start agent node=a1 server=https:\/\/127\.0\.1\.31:9345/,
    );
    // The host reached through sudo got its artifacts over SFTP as its login user.
    expect(hostOf("s2").counts().bytesWritten).toBeGreaterThan(0);
    // The timings, and the critical path from the engine's own event times and the state's dependencies.
    const exported = pulumi(["stack", "export"]).stdout;
    const critical = criticalPath(first.steps, dependenciesOf(exported.slice(exported.indexOf("{"))));
    timings.push(["first up: critical path from the event log", `${critical.toFixed(0)} s`]);
    timings.push(["first up: wall / critical path", (first.seconds / Math.max(critical, 1)).toFixed(2)]);
    for (const phase of ["files", "install", "start", "gate"]) {
      const ps = first.steps.filter((s) => s.name.endsWith(`-${phase}`));
      const span = Math.max(...ps.map((s) => s.end)) - Math.min(...ps.map((s) => s.start));
      timings.push([`first up: ${phase} steps, first start to last end`, `${span} s`]);
    }
  });

  it("exports a kubeconfig that works against the API server, and cisVerification all PASS", async () => {
    const kubeconfig = pulumi(["stack", "output", "kubeconfig", "--show-secrets"]).stdout.trim();
    const ready = await clientFor(kubeconfig).request("GET", "/readyz");
    expect(ready.status).toBe(200);
    const np = await clientFor(kubeconfig).request(
      "GET",
      "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies",
    );
    expect((np.json as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(3);
    const verification = pulumi(["stack", "output", "cisVerification"]).stdout.trim();
    // The verification by control ID (and node, for the host checks), as `npm run e2e` shows it.
    process.stdout.write(`cisVerification:\n${verification}\n`);
    const lines = verification.split("\n").filter((l) => /^(PASS|FAIL) /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(lines.filter((l) => !l.startsWith("PASS "))).toEqual([]);
    // Every node reported its host checks: one line per control of its table.
    for (const [name] of HOSTS) expect(lines.some((l) => l.includes(` [${name}] `))).toBe(true);
    expect(verification).toMatch(/automated checks verified, 0 FAIL/);
  });

  it("fails each host check on a copy of a server's and an agent's real state with that check's cause put back", () => {
    // The per-check negative run: the files the checks read, copied out of s1's and a1's roots after the `up`, and
    // their processes' command lines as they run; for each line of the node's rendered check table, that audit's
    // cause put back in a fresh copy (helpers/cis-negative.ts) and the node's own check script run over it.
    const verified = /(\d+) of \d+ automated checks verified, 0 FAIL/.exec(
      pulumi(["stack", "output", "cisVerification"]).stdout,
    )?.[1];
    let negatives = 0;
    for (const name of ["s1", "a1"]) {
      const running = Object.fromEntries(
        Object.entries(processesOf(hostOf(name)))
          .filter(([p]) => CHECKED_PROCESSES.includes(p))
          .map(([p, { args }]) => [p, args.slice(1)]),
      );
      const r = negativeRun(
        hostOf(name).root,
        running,
        fs.mkdtempSync(path.join(work, `cis-negative-${name}-`)),
      );
      expect({ name, baseFails: r.baseFails, wrong: r.wrong }).toEqual({ name, baseFails: [], wrong: [] });
      negatives += r.failedAsExpected;
    }
    const line = `rke2-cis-1.12: ${verified} automated checks verified, ${negatives} negative cases failed as expected`;
    process.stdout.write(`${line}\n`);
    timings.push(["CIS host checks (s1, a1)", line]);
    expect(Number(verified)).toBeGreaterThanOrEqual(74);
  });

  it("runs RKE2's command lines and files on the first server, and every node's kubelet stand-in registers its Node", async () => {
    const s1 = processesOf(hostOf("s1"));
    const has = (name: string, flags: string[]) =>
      expect({ [name]: flags.filter((f) => !s1[name]?.args.includes(f)) }).toEqual({ [name]: [] });
    const tls = "/var/lib/rancher/rke2/server/tls";
    has("kube-apiserver", [
      "--anonymous-auth=false",
      "--profiling=false",
      "--enable-admission-plugins=NodeRestriction",
      `--etcd-certfile=${tls}/etcd/client.crt`,
      `--kubelet-certificate-authority=${tls}/server-ca.crt`,
      "--encryption-provider-config=/var/lib/rancher/rke2/server/cred/encryption-config.json",
      "--service-account-extend-token-expiration=false",
    ]);
    expect(s1["kube-apiserver"].args.join(" ")).toMatch(/--tls-cipher-suites=TLS_ECDHE_/);
    has("kube-controller-manager", [
      "--bind-address=127.0.0.1",
      "--profiling=false",
      "--use-service-account-credentials=true",
      "--terminated-pod-gc-threshold=1000",
    ]);
    has("kube-scheduler", ["--bind-address=127.0.0.1", "--profiling=false"]);
    // The joining servers run the same control plane, each with its own etcd member.
    for (const s of SERVERS.slice(1)) {
      const p = processesOf(hostOf(s));
      expect(`${s} ${CHECKED_PROCESSES.filter((c) => p[c]).join()}`).toBe(`${s} ${CHECKED_PROCESSES.join()}`);
    }
    // The third server joined an etcd cluster of the three (in the order etcd lists its members: by member ID).
    const initial = /^initial-cluster: (.*)$/m.exec(
      fs.readFileSync(path.join(hostOf("s3").root, "var/lib/rancher/rke2/server/db/etcd/config"), "utf8"),
    )?.[1];
    expect(
      (initial ?? "")
        .split(",")
        .map((m) => m.replace(/^(s\d)-\w+=/, "$1="))
        .sort(),
    ).toEqual(["s1=https://127.0.1.31:2380", "s2=https://127.0.1.32:2380", "s3=https://127.0.1.33:2380"]);
    // etcd with only its config file, as the etcd user (CIS profile), TLS for clients and peers in that file.
    has("etcd", ["--config-file=/var/lib/rancher/rke2/server/db/etcd/config"]);
    const root1 = hostOf("s1").root;
    const etcdUid = Number(
      /^etcd:x:(\d+):/m.exec(fs.readFileSync(path.join(root1, "etc/passwd"), "utf8"))?.[1],
    );
    expect(s1.etcd.uid).toBe(etcdUid);
    const etcdConfig = fs.readFileSync(
      path.join(root1, "var/lib/rancher/rke2/server/db/etcd/config"),
      "utf8",
    );
    expect(etcdConfig.match(/client-cert-auth: true/g)).toHaveLength(2);
    const stat = (p: string) => {
      const st = fs.statSync(path.join(root1, p));
      return `${(st.mode & 0o777).toString(8)} ${st.uid === etcdUid ? "etcd" : st.uid}`;
    };
    expect(stat("var/lib/rancher/rke2/server/db/etcd")).toBe("700 etcd");
    for (const m of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"])
      expect(`${m} ${stat(`var/lib/rancher/rke2/agent/pod-manifests/${m}.yaml`)}`).toBe(`${m} 600 0`);
    // A kubelet (the stand-in, by that process name) on every node with RKE2's command line, its Node registered at
    // the installed release, Ready, with the role labels of a server; kubectl where RKE2 puts it.
    for (const h of hosts)
      expect(
        `${h.name} ${processesOf(h)
          .kubelet?.args.filter((a) => a.startsWith("--config-dir="))
          .join()}`,
      ).toBe(`${h.name} --config-dir=/var/lib/rancher/rke2/agent/etc/kubelet.conf.d`);
    const kubeconfig = pulumi(["stack", "output", "kubeconfig", "--show-secrets"]).stdout.trim();
    expect(
      await until("every Node registered and Ready", 90, async () => {
        const seen = await nodesSeen(kubeconfig);
        return seen.length === 4 && seen.every((n) => n.includes("Ready=True")) ? seen : undefined;
      }),
    ).toEqual([
      "a1 v1.33.5+rke2r1 Ready=True roles=",
      ...SERVERS.map((s) => `${s} v1.33.5+rke2r1 Ready=True roles=control-plane,etcd,master`),
    ]);
    const kubectl = spawnSync(
      "chroot",
      [
        hostOf("s2").root,
        "/var/lib/rancher/rke2/bin/kubectl",
        "--kubeconfig",
        "/etc/rancher/rke2/rke2.yaml",
        "get",
        "nodes",
        "-o",
        "name",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(kubectl.stdout.split("\n").filter(Boolean).sort()).toEqual([
      "node/a1",
      "node/s1",
      "node/s2",
      "node/s3",
    ]);
  });

  it("changes nothing on a second up: no remote command run, no byte copied", async () => {
    const before = counts();
    const systemctl = hosts.map(systemctlLog);
    const again = await upSampled(["--expect-no-changes"]);
    timings.push(["no-op up (wall)", `${again.seconds.toFixed(1)} s`]);
    expect(outcome(again)).toEqual(OK);
    const after = counts();
    const delta = hosts.map((h) => ({
      host: h.name,
      commands: after[h.name].commands - before[h.name].commands,
      sftpSessions: after[h.name].sftpSessions - before[h.name].sftpSessions,
      bytes: after[h.name].bytesWritten - before[h.name].bytesWritten,
    }));
    timings.push([
      "no-op up: remote commands / bytes copied (all hosts)",
      `${delta.reduce((s, d) => s + d.commands, 0)} / ${delta.reduce((s, d) => s + d.bytes, 0)}`,
    ]);
    expect(delta).toEqual(hosts.map((h) => ({ host: h.name, commands: 0, sftpSessions: 0, bytes: 0 })));
    expect(hosts.map(systemctlLog)).toEqual(systemctl);
  });

  it("reads each artifact at most once in a no-op up, and measures it against a floor of do-nothing resources", async () => {
    const r = await measuredRun(
      cli,
      ["up", "--yes", "--expect-no-changes"],
      path.join(work, "noop-measured.log"),
      STACK,
    );
    outputs.push({ run: "pulumi up --expect-no-changes (measured)", text: r.out });
    expect(outcome(r)).toEqual(OK);
    noteReads("no-op up, 4 nodes", r);
    // The floor: as many custom resources as the stack holds, each doing nothing, on the same engine and loader.
    const exported = pulumi(["stack", "export"]).stdout;
    const state = JSON.parse(exported.slice(exported.indexOf("{"))) as {
      deployment: { resources: { type: string; custom?: boolean }[] };
    };
    const count = state.deployment.resources.filter(
      (x) => x.custom && !x.type.startsWith("pulumi:providers:"),
    ).length;
    const floor = floorProject(work, cli, count);
    const f = await measuredRun(
      floor,
      ["up", "--yes", "--expect-no-changes"],
      path.join(work, "floor-noop.log"),
      "floor",
    );
    expect(outcome(f)).toEqual(OK);
    timings.push([
      `no-op up, 4 nodes (wall) / floor: ${count} do-nothing resources`,
      `${r.seconds.toFixed(1)} s / ${f.seconds.toFixed(1)} s = ${(r.seconds / f.seconds).toFixed(2)}`,
    ]);
    timings.push(["floor no-op up: bytes read, all processes", mb(Math.max(f.reaped, f.io.total))]);
  });

  it("keeps the generated token when the dynamic provider's serialized code changes", () => {
    const token = fs.readFileSync(path.join(hostOf("s1").root, PATHS.token), "utf8");
    const before = counts();
    // One more statement in the token provider's `create`: the text the engine stores as its provider changes.
    useChangedComponents(cli.dir, {
      file: "bootstrap/generated.ts",
      from: "create(inputs: { bytes: number }) {",
      to: 'create(inputs: { bytes: number }) {\n    void "serialized differently";',
    });
    try {
      const r = pulumi(["up", "--yes", "--expect-no-changes"]);
      expect(r.out).not.toMatch(/error:/);
      expect(outcome(r)).toEqual(OK);
    } finally {
      useChangedComponents(cli.dir);
    }
    expect(fs.readFileSync(path.join(hostOf("s1").root, PATHS.token), "utf8")).toBe(token);
    expect(counts()).toEqual(before);
  });

  it("re-runs exactly the steps whose inputs changed on a config change, servers one at a time", () => {
    const before = counts();
    cluster = { ...cluster, audit: { maxAge: 45 } };
    writeStackConfig(cli.dir, STACK, cluster);
    // With the detail the README recommends for troubleshooting (--diff): its output is part of the secret grep below.
    const r = pulumi(["up", "--yes", "--diff"]);
    timings.push(["config change up (audit maxAge) (wall)", `${r.seconds.toFixed(1)} s`]);
    expect(outcome(r)).toEqual(OK);
    // What RKE2 reads at start changed on the servers (the API server's audit flag): their files, start (with its wait
    // to join) and health gate (no drain: a restart keeps the node's containers; the gate uncordons nothing, as no
    // drain marked the node), and the kubeconfig is read again after the first
    // server's restart (renewed certificates). Each restarted server's CIS host checks run again on what it now runs,
    // and the verification with them.
    expect(changed(r.steps)).toEqual(
      [
        "e2e-kubeconfig",
        "e2e-hardening-verify",
        ...SERVERS.flatMap((s) => [`e2e-${s}-files`, `e2e-${s}-gate`, `e2e-${s}-start`, `e2e-${s}-cis`]),
      ].sort(),
    );
    const start = (n: string) => byName(r.steps, n).startSeq;
    const end = (n: string) => byName(r.steps, n).endSeq;
    expect(start("e2e-s2-start")).toBeGreaterThan(end("e2e-s1-gate"));
    expect(start("e2e-s3-start")).toBeGreaterThan(end("e2e-s2-gate"));
    expect(counts().a1).toEqual(before.a1);
    expect(fs.readFileSync(path.join(hostOf("s3").root, "etc/rancher/rke2/config.yaml"), "utf8")).toMatch(
      /audit-log-maxage=45/,
    );
  });

  it("rotates the operator's SSH key without re-running a node step or replacing an in-cluster object", () => {
    const next = newKeyPair(work, "operator-next");
    for (const h of hosts) authorize(h, next.publicKey);
    expect(
      pulumi(["config", "set", "--secret", "sshPrivateKey"], fs.readFileSync(next.privateKeyFile, "utf8"))
        .status,
    ).toBe(0);
    const preview = pulumi(["preview", "--json"]);
    expect(outcome(preview)).toEqual(OK);
    const plan = JSON.parse(preview.stdout) as {
      steps: { op: string; urn: string }[];
    };
    // The in-cluster objects and their provider stay as they are (the kubeconfig comes from the stash, known here).
    const k8sChanges = plan.steps.filter(
      (s) => /^(kubernetes:|pulumi:providers:kubernetes$)/.test(typeOf(s.urn)) && s.op !== "same",
    );
    expect(k8sChanges.map((s) => `${s.op} ${s.urn.split("::").pop()}`)).toEqual([]);
    // Every remote step is updated (a login check), none replaced.
    expect([
      ...new Set(plan.steps.filter((s) => typeOf(s.urn).startsWith("command:remote:")).map((s) => s.op)),
    ]).toEqual(["update"]);
    const systemctl = hosts.map(systemctlLog);
    const files = hosts.map((h) => fs.readFileSync(path.join(h.root, PATHS.token), "utf8"));
    const r = pulumi(["up", "--yes"]);
    expect(outcome(r)).toEqual(OK);
    // Only updates (a login check each), no replacement: no step script ran, no service was touched.
    expect([...new Set(r.steps.filter((s) => /command:remote:/.test(s.type)).map((s) => s.op))]).toEqual([
      "update",
    ]);
    expect(hosts.map(systemctlLog)).toEqual(systemctl);
    expect(hosts.map((h) => fs.readFileSync(path.join(h.root, PATHS.token), "utf8"))).toEqual(files);
    // The old key can go: the stack no longer needs it.
    for (const h of hosts) authorize(h, next.publicKey, true);
    operatorKey = next;
    expect(pulumi(["up", "--yes", "--expect-no-changes"]).status).toBe(0);
  });

  it("stops on a host whose key does not match, in seconds, before any command runs there", () => {
    const wrong = newKeyPair(work, "not-a1-host-key").publicKey.split(" ").slice(0, 2).join(" ");
    const before = counts();
    const keys = { ...Object.fromEntries(hosts.map((h) => [h.name, h.hostKey])), a1: wrong };
    writeStackConfig(cli.dir, STACK, { ...cluster, nodes: clusterConfig(keys).nodes });
    const r = pulumi(["up", "--yes"]);
    timings.push(["wrong host key: time to fail", `${r.seconds.toFixed(1)} s`]);
    expect(r.status).not.toBe(0);
    // The stack's one host-key check (every existing host) names the node and the fix, and only that node; nothing
    // else ran against it.
    expect(r.out).toMatch(/command:local:Command \(e2e-host-keys\)/);
    expect(r.out).toMatch(/the SSH host key of a1 \(127\.0\.1\.41 port 2222\) is not the one the stack pins/);
    expect(r.out).toMatch(/ssh-keyscan -t ssh-ed25519 -p 2222 127\.0\.1\.41/);
    expect(r.out).toMatch(/1 of 4 hosts failed the host-key check/);
    expect(r.out).not.toMatch(/host key of s\d|s\d \(\S+ port \d+\) answered no SSH key scan/);
    expect(counts().a1.commands).toBe(before.a1.commands);
    expect(r.seconds).toBeLessThan(120);
    writeStackConfig(cli.dir, STACK, cluster);
    expect(pulumi(["up", "--yes", "--expect-no-changes"]).status).toBe(0);
  });

  it("converges after an up killed during the servers' install, with the README's recovery", async () => {
    const next = writeStandinRelease(path.join(work, "release-v1.33.6"), { version: "v1.33.6+rke2r1" });
    cluster = { ...cluster, version: "v1.33.6+rke2r1", install: { mode: "airgap", artifactsDir: next } };
    writeStackConfig(cli.dir, STACK, cluster);
    const eventLog = path.join(work, "events-interrupted.jsonl");
    const log = path.join(work, "up-interrupted.log");
    const p = cli.start(["up", "--yes", "--event-log", eventLog], log);
    const exited = new Promise<void>((resolve) => p.on("exit", () => resolve()));
    // Killed (the CLI and its plugins, as a closed terminal does) once a server's install has started.
    await until("a server's install step to start", 300, () =>
      Promise.resolve(
        fs.existsSync(eventLog) && spans(eventLog).some((s) => /^e2e-s\d-install$/.test(s.name))
          ? true
          : undefined,
      ),
    );
    process.kill(-(p.pid as number), "SIGKILL");
    await exited;
    outputs.push({ run: "the interrupted pulumi up", text: fs.readFileSync(log, "utf8") });
    const interrupted = spans(eventLog)
      .filter((s) => /-install$/.test(s.name))
      .map((s) => s.name);
    timings.push(["interrupted up: install steps started before the kill", `${interrupted.length}`]);
    // The README's recovery ("An interrupted pulumi up"), then the same `up` again.
    for (const args of RECOVERY) expect(pulumi(args).status).toBe(0);
    const r = pulumi(["up", "--yes"]);
    expect(r.out).not.toMatch(/error:/);
    expect(outcome(r)).toEqual(OK);
    expect(pulumi(["up", "--yes", "--expect-no-changes"]).status).toBe(0);
    // The same end state as an uninterrupted upgrade: every node runs the new release.
    const tarball = createHash("sha256")
      .update(fs.readFileSync(path.join(next, "rke2.linux-amd64.tar.gz")))
      .digest("hex");
    for (const h of hosts)
      expect(
        `${h.name} ${fs.readFileSync(path.join(h.root, "var/lib/hardened-rke2/installed.sha256"), "utf8").trim()}`,
      ).toBe(`${h.name} ${tarball}`);
    const verification = pulumi(["stack", "output", "cisVerification"]).stdout;
    expect(verification).not.toMatch(/^FAIL /m);
    // Each node's kubelet stand-in, restarted with the new release, reports it on its Node.
    const kubeconfig = pulumi(["stack", "output", "kubeconfig", "--show-secrets"]).stdout.trim();
    expect(
      await until("every Node at v1.33.6+rke2r1", 90, async () => {
        const seen = await nodesSeen(kubeconfig);
        return seen.filter((n) => n.includes(" v1.33.6+rke2r1 Ready=True")).length === 4
          ? seen.length
          : undefined;
      }),
    ).toBe(4);
  });

  it("refuses a downgrade; rolls an upgrade node by node, stops at a node that does not come back, resumes from it", async () => {
    // The start step waits for the node to join; the gate checks its health, then uncordons what the drain cordoned.
    const rolled = ["drain", "install", "start", "gate"];
    const order = ["s1", "s2", "s3", "a1"]; // servers one at a time, then the agent (agentBatchSize 1)
    const current = cluster;
    writeStackConfig(cli.dir, STACK, {
      ...cluster,
      version: "v1.33.5+rke2r1",
      install: { mode: "airgap", artifactsDir: release },
    });
    const down = pulumi(["preview"]);
    expect(down.status).not.toBe(0);
    expect(down.out).toMatch(
      /v1\.33\.5\+rke2r1 is older than v1\.33\.6\+rke2r1[^\n]*does not support downgrades/,
    );
    // Half the first release's image archive: the one-node no-op run at the end measures its reads against it.
    const next = writeStandinRelease(path.join(work, "release-v1.33.7"), {
      version: "v1.33.7+rke2r1",
      imagesBytes: (ARTIFACT_MB >> 1) << 20,
    });
    cluster = { ...current, version: "v1.33.7+rke2r1", install: { mode: "airgap", artifactsDir: next } };
    writeStackConfig(cli.dir, STACK, cluster);
    // s2 will not come back: a kernel parameter RKE2's CIS profile checks at start is wrong there (as after a change
    // made on the host by hand), so its RKE2 refuses to start.
    const param = path.join(hostOf("s2").root, "proc/sys/vm/panic_on_oom");
    fs.writeFileSync(param, "1\n");
    const stopped = pulumi(["up", "--yes"]);
    timings.push(["upgrade stopped at s2 (wall)", `${stopped.seconds.toFixed(1)} s`]);
    expect(stopped.status).not.toBe(0);
    expect(stopped.out).toMatch(/invalid kernel parameter value vm\.panic_on_oom=1/);
    const at = (r: typeof stopped, n: string) => byName(r.steps, `e2e-${n}`);
    // s1 went through every step in order, then s2 was drained and failed at its start; s3 and a1 were not touched.
    for (let i = 1; i < rolled.length; i++)
      expect(at(stopped, `s1-${rolled[i]}`).startSeq).toBeGreaterThan(
        at(stopped, `s1-${rolled[i - 1]}`).endSeq,
      );
    expect(at(stopped, "s2-drain").startSeq).toBeGreaterThan(at(stopped, "s1-gate").endSeq);
    expect(at(stopped, "s2-start").failed).toBe(true);
    expect(stopped.steps.filter((x) => /^e2e-(s3|a1)-(drain|install|start|gate)$/.test(x.name))).toEqual([]);
    // The rest of the cluster serves: the API answers, s2 is cordoned, s3 and a1 still run the release before.
    const kubeconfig = pulumi(["stack", "output", "kubeconfig", "--show-secrets"]).stdout.trim();
    const api = clientFor(kubeconfig);
    expect((await api.request("GET", "/readyz")).status).toBe(200);
    const node = async (n: string) => {
      const j = (await api.request("GET", `/api/v1/nodes/${n}`)).json as any;
      return `${n} ${j.status?.nodeInfo?.kubeletVersion} unschedulable=${j.spec?.unschedulable === true}`;
    };
    expect(await Promise.all(order.map(node))).toEqual([
      "s1 v1.33.7+rke2r1 unschedulable=false",
      expect.stringMatching(/^s2 \S+ unschedulable=true$/),
      "s3 v1.33.6+rke2r1 unschedulable=false",
      "a1 v1.33.6+rke2r1 unschedulable=false",
    ]);
    // s2 carries the drain's mark, which its gate reads to uncordon it on the resumed run; s1's gate removed its own.
    const mark = async (n: string) =>
      ((await api.request("GET", `/api/v1/nodes/${n}`)).json as any).metadata?.annotations?.[
        "hardened-rke2/drained"
      ];
    expect(await Promise.all(["s1", "s2"].map(mark))).toEqual([undefined, "true"]);
    // Fixed on the host, the next `up` resumes at s2: s1's steps and s2's drain and install do not run again.
    fs.writeFileSync(param, "0\n");
    const resumed = pulumi(["up", "--yes"]);
    timings.push(["upgrade resumed from s2 (wall)", `${resumed.seconds.toFixed(1)} s`]);
    expect(outcome(resumed)).toEqual(OK);
    // The steps that ran a command. A stopped `up` leaves the commands it replaced pending deletion (the engine
    // deletes a replaced resource only at the end of a successful run), so the next `up` shows s1's and s2's earlier
    // steps as `delete-replaced`: the node steps have no `delete`, so that runs nothing on a host.
    const steps = (r: typeof stopped) =>
      r.steps
        .filter((x) => x.op !== "delete-replaced" && x.op !== "discard-replaced")
        .filter((x) => /-(drain|install|start|gate)$/.test(x.name))
        .map((x) => x.name);
    expect(new Set(steps(resumed))).toEqual(
      new Set([
        ...["start", "gate"].map((x) => `e2e-s2-${x}`),
        ...["s3", "a1"].flatMap((n) => rolled.map((x) => `e2e-${n}-${x}`)),
      ]),
    );
    // In order, each node only after the one before it passed its gate (healthy, and uncordoned).
    for (const [prev, n] of [
      ["s2", "s3"],
      ["s3", "a1"],
    ])
      expect(at(resumed, `${n}-drain`).startSeq).toBeGreaterThan(at(resumed, `${prev}-gate`).endSeq);
    expect(
      await until("every Node at v1.33.7+rke2r1 and schedulable", 90, async () => {
        const seen = await Promise.all(order.map(node));
        return seen.every((x) => / v1\.33\.7\+rke2r1 unschedulable=false$/.test(x)) ? seen.length : undefined;
      }),
    ).toBe(4);
    expect(pulumi(["up", "--yes", "--expect-no-changes"]).status).toBe(0);
  });

  it("keeps the token, the SSH key and the registry password out of state, output, process lists and host files", () => {
    const token = fs.readFileSync(path.join(hostOf("s1").root, PATHS.token), "utf8").trim();
    const keyBody = fs
      .readFileSync(operatorKey.privateKeyFile, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      // The first line is the same for every OpenSSH ed25519 key (format header and key type): the rest is this key's.
      .slice(1);
    const kubeconfig = pulumi(["stack", "output", "kubeconfig", "--show-secrets"]).stdout;
    const adminKey = /client-key-data: (\S+)/.exec(kubeconfig)?.[1] ?? "no admin key in the kubeconfig";
    const secrets: Record<string, string[]> = {
      "admin client key": [adminKey],
      token: [token],
      "ssh private key": keyBody,
      "registry password": [registryPassword],
    };
    expect(token.length).toBeGreaterThanOrEqual(32);
    const exported = pulumi(["stack", "export"]).stdout;
    const where = (text: string) =>
      Object.entries(secrets)
        .filter(([, values]) => values.some((v) => text.includes(v)))
        .map(([k]) => k);
    // The files step carries each file base64-encoded, so a leak of its input would be encoded: state and CLI output
    // are also read with every base64 run decoded.
    const decoded = (text: string) =>
      [...text.matchAll(/[A-Za-z0-9+/]{24,}={0,2}/g)]
        .map((m) => Buffer.from(m[0], "base64").toString("latin1"))
        .join("\n");
    const whereEncoded = (text: string) => [...new Set([...where(text), ...where(decoded(text))])];
    expect({ state: whereEncoded(exported) }).toEqual({ state: [] });
    // Every CLI output at the default verbosity or with --diff. Not the event logs (the harness's debug flag) and not a
    // --show-secrets read: the Node SDK writes each registration's response, secrets included, as a debug line that
    // the event log, --debug and -v=3 --logflow print (README, "Troubleshooting output").
    const shown = outputs.filter((o) => !/^event log|--show-secrets/.test(o.run));
    expect(shown.length).toBeGreaterThan(20);
    const leaks = shown.flatMap((o) => whereEncoded(o.text).map((k) => `${k} in ${o.run}`));
    expect({ cliOutput: leaks }).toEqual({ cliOutput: [] });
    expect(processLines.size).toBeGreaterThan(50);
    expect({ processes: where([...processLines].join("\n")) }).toEqual({ processes: [] });
    // On the hosts: only in the 0600 files meant to hold them (the token file, registries.yaml), never the SSH key.
    const holders: string[] = [];
    for (const h of hosts) {
      const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const abs = path.join(dir, e.name);
          const rel = path.relative(h.root, abs);
          if (/^(proc|usr|opt|dev|run\/standin)(\/|$)/.test(rel)) continue;
          if (e.isDirectory()) walk(abs);
          else if (e.isFile() && fs.statSync(abs).size < 64 * 1024 * 1024) {
            const found = where(fs.readFileSync(abs, "latin1"));
            if (found.length)
              holders.push(
                `${h.name}:/${rel} ${(fs.statSync(abs).mode & 0o777).toString(8)} ${found.join(",")}`,
              );
          }
        }
      };
      walk(h.root);
    }
    timings.push(["files holding a secret on the hosts", `${holders.length}`]);
    expect(
      holders.filter(
        (l) =>
          !/ 600 (token|registry password|admin client key)(,(token|registry password|admin client key))*$/.test(
            l,
          ),
      ),
    ).toEqual([]);
    expect(holders.filter((l) => l.includes("ssh private key"))).toEqual([]);
  });

  it("reads each artifact at most once in a no-op up of one node", async () => {
    // The stack shrunk to its first server: the other nodes' steps leave the state (they have no delete).
    writeStackConfig(cli.dir, STACK, {
      ...cluster,
      nodes: { ...cluster.nodes, hosts: cluster.nodes.hosts.slice(0, 1) },
    });
    expect(outcome(pulumi(["up", "--yes"]))).toEqual(OK);
    const r = await measuredRun(
      cli,
      ["up", "--yes", "--expect-no-changes"],
      path.join(work, "noop-one.log"),
      STACK,
    );
    expect(outcome(r)).toEqual(OK);
    noteReads("no-op up, 1 node", r);
  });

  it("destroys the stack's own objects and leaves RKE2 running on existing hosts", async () => {
    const before = counts();
    const kubeconfig = pulumi(["stack", "output", "kubeconfig", "--show-secrets"]).stdout.trim();
    const r = pulumi(["destroy", "--yes"]);
    expect(outcome(r)).toEqual(OK);
    // No command ran on any host: the node steps have no delete.
    expect(Object.values(counts()).map((c) => c.commands)).toEqual(
      Object.values(before).map((c) => c.commands),
    );
    const api = clientFor(kubeconfig);
    expect((await api.request("GET", "/readyz")).status).toBe(200);
    // The stack's namespace is being deleted (its finalizers run in the controller manager).
    const shop = await api.request("GET", "/api/v1/namespaces/shop");
    expect(
      shop.status === 404 ||
        (shop.json as { metadata?: { deletionTimestamp?: string } }).metadata?.deletionTimestamp,
    ).toBeTruthy();
    // RKE2's own objects stay: the default ServiceAccounts and its default-network-policy.
    expect((await api.request("GET", "/api/v1/namespaces/kube-system/serviceaccounts/default")).status).toBe(
      200,
    );
    expect(
      (
        await api.request(
          "GET",
          "/apis/networking.k8s.io/v1/namespaces/kube-system/networkpolicies/default-network-policy",
        )
      ).status,
    ).toBe(200);
    const exported = pulumi(["stack", "export"]).stdout;
    const left =
      (JSON.parse(exported.slice(exported.indexOf("{"))) as { deployment: { resources?: unknown[] } })
        .deployment.resources ?? [];
    expect(left).toEqual([]);
  });
});

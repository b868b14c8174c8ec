// The in-cluster hardening applied by the real Pulumi engine (CLI built from Go modules), its Node.js language host
// and the real kubernetes provider, against the control plane a test host's first server runs after the product's
// node scripts hardened it (helpers/control-plane.ts), with the kubeconfig read back from that host: `pulumi up`, a
// second preview with no changes, the state holding no plain secret, and `pulumi destroy` leaving the cluster's own
// objects in place; and the policy pack run by the CLI on that stack and on a weakened copy of it. The program is the
// ClusterHardening component alone: the product's full program also bootstraps nodes over SSH with the command
// provider, which cannot be built here (README).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { renderClusterObjects } from "../../components/render/kube";
import {
  firstServerConfig,
  startFirstServer,
  TOOLCHAIN_BIN,
  type ControlPlane,
  inClusterExpectations,
} from "../helpers/control-plane";
import { REPO } from "../helpers/spec";

// The stack's config: the same cluster the test host runs (its install, air-gapped from the stand-in release on the
// host, plays no part in the in-cluster step).
const cluster = firstServerConfig("127.0.1.2", { namespaces: [{ name: "shop" }] });
const work = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-pulumi-"));
let cp: ControlPlane;

const env = {
  ...process.env,
  PATH: `${TOOLCHAIN_BIN}:${process.env.PATH ?? ""}`,
  PULUMI_HOME: path.join(work, "home"),
  PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
  PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
  PULUMI_SKIP_UPDATE_CHECK: "1",
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
};

function pulumi(args: string[], input?: string, timeout = 600_000) {
  const r = spawnSync(path.join(TOOLCHAIN_BIN, "pulumi"), [...args, "--non-interactive"], {
    cwd: path.join(work, "program"),
    env,
    input,
    encoding: "utf8",
    timeout,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(TOOLCHAIN_BIN, "pulumi")))
    throw new Error(
      "pulumi is not built: run `bash e2e/toolchain/build.sh pulumi language-nodejs kubernetes`",
    );
  cp = await startFirstServer(cluster);
  const program = path.join(work, "program");
  fs.mkdirSync(path.join(work, "state"), { recursive: true });
  fs.mkdirSync(program, { recursive: true });
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(program, "node_modules"));
  fs.writeFileSync(
    path.join(program, "Pulumi.yaml"),
    stringify({ name: "hardened-rke2-e2e", runtime: { name: "nodejs", options: { typescript: true } } }),
  );
  fs.writeFileSync(
    path.join(program, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: "ES2022",
        module: "commonjs",
        moduleResolution: "node",
        esModuleInterop: true,
        skipLibCheck: true,
      },
      files: ["index.ts"],
    }),
  );
  fs.writeFileSync(
    path.join(program, "index.ts"),
    [
      'import * as pulumi from "@pulumi/pulumi";',
      `import { ClusterHardening } from ${JSON.stringify(path.join(REPO, "components", "hardening"))};`,
      `import { buildClusterSpec } from ${JSON.stringify(path.join(REPO, "components", "spec", "validate"))};`,
      "const config = new pulumi.Config();",
      `const spec = buildClusterSpec(config.requireObject("cluster"), { configKeys: new Map(), baseDir: ${JSON.stringify(REPO)}, requireSecrets: false });`,
      // The weakened copy: the same program with a transform that strips the hardening from the objects it makes.
      'if (config.getBoolean("weaken")) pulumi.runtime.registerStackTransformation((a) => {',
      '  if (a.type === "kubernetes:core/v1:ServiceAccountPatch") return { props: { ...a.props, automountServiceAccountToken: true }, opts: a.opts };',
      '  if (a.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && a.props.metadata.namespace === "shop" && a.props.metadata.name === "hardened-rke2-default-deny")',
      '    return { props: { ...a.props, spec: { ...a.props.spec, policyTypes: ["Ingress"] } }, opts: a.opts };',
      '  if (a.type !== "kubernetes:core/v1:Namespace") return undefined;',
      "  const labels = { ...a.props.metadata.labels };",
      '  delete labels["pod-security.kubernetes.io/enforce"];',
      "  return { props: { ...a.props, metadata: { ...a.props.metadata, labels } }, opts: a.opts };",
      "});",
      'const h = new ClusterHardening("e2e", { spec, kubeconfig: config.requireSecret("kubeconfig"), clusterReady: [], projectDir: __dirname, verify: false });',
      "export const objects = Object.keys(h.objects).length;",
      "",
    ].join("\n"),
  );
  fs.writeFileSync(
    path.join(program, "Pulumi.e2e.yaml"),
    stringify({ config: { "hardened-rke2-e2e:cluster": cluster } }),
  );
  fs.writeFileSync(
    path.join(program, "Pulumi.e2e-weak.yaml"),
    stringify({ config: { "hardened-rke2-e2e:cluster": cluster, "hardened-rke2-e2e:weaken": true } }),
  );
  for (const step of [
    pulumi(["stack", "init", "e2e"]),
    pulumi(["config", "set", "--secret", "kubeconfig"], cp.kubeconfig),
    pulumi(["stack", "init", "e2e-weak"]),
    pulumi(["config", "set", "--secret", "kubeconfig", "--stack", "e2e-weak"], cp.kubeconfig),
  ]) {
    if (step.status !== 0) throw new Error(step.out);
  }
}, 600_000);

afterAll(async () => {
  await cp?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The violations the CLI prints under "Policies:", one line each: `policy (type: name): message`. */
function violations(out: string): string[] {
  const found = [...out.matchAll(/- \[(?:mandatory|advisory)\]\s+(\S+)\s+\(([^)]+)\)\n.*\n\s*(.+)/g)];
  return found.map(([, policy, resource, message]) => `${policy} (${resource}): ${message.trim()}`).sort();
}

// The pack runs as an executable analyzer (policy/analyzer): the CLI gives a folder pack to the Node.js language
// host, and the one the Go module proxy serves (v3.68.0) cannot run packs (README, "Policy pack").
describe("the policy pack with the real engine", () => {
  const pack = path.join(REPO, "policy", "analyzer");
  it("passes the stack as the product renders it", () => {
    const r = pulumi(["preview", "--policy-pack", pack, "--stack", "e2e"]);
    expect(r.out).toMatch(/Policies:\n\s+✅ hardened-rke2@v0\.1\.0/);
    expect(violations(r.out)).toEqual([]);
    expect(r.status).toBe(0);
  });

  it("refuses the weakened copy with the exact violations", () => {
    const r = pulumi(["preview", "--policy-pack", pack, "--stack", "e2e-weak"]);
    const sa = (ns: string) =>
      `k8s-default-sa-automount-off (kubernetes:core/v1:ServiceAccountPatch: e2e-serviceaccount-${ns}-default): default ServiceAccount in ${ns} keeps token automount; set automountServiceAccountToken: false (CIS 5.1.5)`;
    expect(violations(r.out)).toEqual(
      [
        ...["default", "kube-node-lease", "kube-public", "kube-system", "shop"].map(sa),
        "k8s-namespace-default-deny (pulumi:pulumi:Stack: hardened-rke2-e2e-e2e-weak): namespace shop: hardened-rke2-default-deny does not deny all egress; restore it as rendered (CIS 5.3.2)",
        "k8s-namespace-pod-security (kubernetes:core/v1:Namespace: e2e-namespace-shop): namespace shop has no pod-security.kubernetes.io/enforce label; set it to restricted (CIS 5.2)",
      ].sort(),
    );
    expect(r.status).not.toBe(0);
  });

  it("takes the pack's config: a policy set to advisory still reports, and no longer fails the preview", () => {
    const config = path.join(work, "advisory.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        "k8s-default-sa-automount-off": "advisory",
        "k8s-namespace-default-deny": "advisory",
        "k8s-namespace-pod-security": "advisory",
      }),
    );
    const r = pulumi([
      "preview",
      "--policy-pack",
      pack,
      "--policy-pack-config",
      config,
      "--stack",
      "e2e-weak",
    ]);
    expect(r.out).toMatch(/- \[advisory\]\s+k8s-namespace-pod-security/);
    expect(r.out).not.toMatch(/\[mandatory\]/);
    expect(violations(r.out)).toHaveLength(7);
    expect(r.status).toBe(0);
  });
});

describe("pulumi up with the real engine and kubernetes provider", () => {
  let up: { status: number | null; out: string };
  it("applies every rendered object", async () => {
    up = pulumi(["up", "--yes", "--skip-preview", "--stack", "e2e"]);
    expect(up.out).not.toMatch(/error:/);
    expect(up.status).toBe(0);
    const policies = await cp
      .client()
      .request("GET", "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies");
    expect(
      (policies.json as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name).sort(),
    ).toEqual([
      "hardened-rke2-allow-dns",
      "hardened-rke2-allow-same-namespace",
      "hardened-rke2-default-deny",
    ]);
    const sa = await cp.client().request("GET", "/api/v1/namespaces/kube-system/serviceaccounts/default");
    expect((sa.json as { automountServiceAccountToken?: boolean }).automountServiceAccountToken).toBe(false);
    expect(renderClusterObjects(cp.spec).length).toBeGreaterThan(20);
  });

  it("then passes every CIS control of the stack's own verification (cli/verify.ts, enforce)", () => {
    // What the stack's verify step runs after the in-cluster objects (a command.local.Command, whose provider cannot
    // be built here): the same script, environment and standard input.
    const auditLine = fs.readFileSync(cp.auditLog, "utf8").trim().split("\n").pop() ?? "";
    const r = spawnSync(path.join(REPO, "node_modules/.bin/tsx"), ["cli/verify.ts"], {
      cwd: REPO,
      input: cp.kubeconfig,
      encoding: "utf8",
      timeout: 120_000,
      env: {
        PATH: process.env.PATH,
        HARDENED_RKE2_EXPECT: JSON.stringify(inClusterExpectations(cp.spec)),
        HARDENED_RKE2_VERIFY_MODE: "enforce",
        HARDENED_RKE2_AUDIT_LINE: auditLine,
      },
    });
    expect(r.stderr).toBe("");
    const out = r.stdout.split("\n");
    expect(out.filter((l) => /^(PASS|FAIL) /.test(l)).map((l) => l.slice(0, 10))).toEqual([
      "PASS 5.3.2",
      "PASS 5.1.5",
      "PASS 5.2.2",
      "PASS 3.2.1",
    ]);
    // Then the count line by the stack's benchmark (the host checks are the SSH e2e's: inClusterExpectations).
    expect(out.filter((l) => l !== "" && !/^(PASS|FAIL) /.test(l))).toEqual([
      expect.stringMatching(/^hardened-rke2: rke2-cis-1\.12: \d+ of 78 automated checks verified, 0 FAIL/),
    ]);
    expect(r.status).toBe(0);
  });

  it("changes nothing on a second pulumi up", () => {
    const again = pulumi(["up", "--yes", "--expect-no-changes", "--stack", "e2e"]);
    expect(again.out).not.toMatch(/error:/);
    expect(again.out).toMatch(/Resources:\n\s+\d+ unchanged\n/);
    expect(again.status).toBe(0);
  });

  it("keeps the kubeconfig's admin key out of the state in plain text", () => {
    const state = fs
      .readdirSync(path.join(work, "state"), { recursive: true })
      .map((f) => path.join(work, "state", String(f)))
      .filter((f) => fs.statSync(f).isFile())
      .map((f) => fs.readFileSync(f, "utf8"))
      .join("\n");
    const key = /client-key-data: (\S+)/.exec(cp.kubeconfig)?.[1] ?? "no key";
    expect(state.length).toBeGreaterThan(1000);
    expect(state.includes(key)).toBe(false);
  });

  it("destroys its objects but leaves the cluster's own default ServiceAccounts, namespaces and RKE2's policies", async () => {
    const down = pulumi(["destroy", "--yes", "--skip-preview", "--stack", "e2e"], undefined, 150_000);
    expect(down.out).not.toMatch(/error:/);
    expect(down.status).toBe(0);
    expect(
      (await cp.client().request("GET", "/api/v1/namespaces/kube-system/serviceaccounts/default")).status,
    ).toBe(200);
    expect((await cp.client().request("GET", "/api/v1/namespaces/kube-public")).status).toBe(200);
    const left = await cp
      .client()
      .request("GET", "/apis/networking.k8s.io/v1/namespaces/kube-system/networkpolicies");
    expect(
      (left.json as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name),
    ).toEqual(["default-network-policy"]);
  });
});

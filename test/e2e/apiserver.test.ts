// End to end against a real kube-apiserver (v1.33, built from Go modules by e2e/toolchain/build.sh) and etcd, on
// 127.0.0.1 only: the API server runs with the audit policy, the Pod Security admission config and the audit flags
// this product renders; the rendered in-cluster objects are applied by server-side apply; then the checks read the
// cluster back. What it cannot prove: RKE2 itself (no real binary here) and the Pulumi engine's apply (the command
// provider cannot be built here, see README), so objects go in over the API directly.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { clientFor, fetchAnswers } from "../../components/hardening/api";
import { expectationsOf, formatResults, verifyControls } from "../../components/hardening/verify";
import { placeholderInputs } from "../../components/render/inputs";
import { GUARD_MESSAGE, guardExemptNamespaces, renderClusterObjects } from "../../components/render/kube";
import { renderPolicyFiles } from "../../components/render/policy";
import { rke2Config } from "../../components/render/rke2";
import { offlineFacts, registrationAddress } from "../../components/render/topology";
import { existingConfig, REPO, spec as specOf } from "../helpers/spec";

const BIN = path.join(
  process.env.HARDENED_RKE2_CACHE ?? path.join(os.homedir(), ".cache", "hardened-rke2"),
  "toolchain",
  "bin",
);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-apiserver-"));
const file = (n: string) => path.join(dir, n);
const procs: ChildProcess[] = [];

const spec = specOf(
  { ...existingConfig(), namespaces: [{ name: "shop" }] },
  { configKeys: new Map(), baseDir: REPO, requireSecrets: false },
);
const AUDIT_LOG = file("audit.log");

/** The flags the first server's rendered config.yaml passes to a control-plane component, as `--flag=value`. */
function rendered(key: "kube-apiserver-arg" | "kube-controller-manager-arg"): string[] {
  const facts = offlineFacts(spec);
  const config = rke2Config(spec, facts[0], registrationAddress(spec, facts));
  return (config[key] as string[]).map((a) => `--${a}`);
}

function openssl(...args: string[]) {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

function makePki() {
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.crt"),
    "-days",
    "1",
    "-subj",
    "/CN=e2e-ca",
  );
  const issue = (name: string, subj: string, ext: string) => {
    openssl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      file(`${name}.key`),
      "-out",
      file(`${name}.csr`),
      "-subj",
      subj,
    );
    fs.writeFileSync(file(`${name}.ext`), ext);
    openssl(
      "x509",
      "-req",
      "-in",
      file(`${name}.csr`),
      "-CA",
      file("ca.crt"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
      "-out",
      file(`${name}.crt`),
      "-days",
      "1",
      "-extfile",
      file(`${name}.ext`),
    );
  };
  issue("apiserver", "/CN=kube-apiserver", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  issue("admin", "/O=system:masters/CN=e2e-admin", "extendedKeyUsage=clientAuth\n");
  openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("sa.key"));
  openssl("pkey", "-in", file("sa.key"), "-pubout", "-out", file("sa.pub"));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function start(bin: string, args: string[], log: string): ChildProcess {
  const out = fs.openSync(file(log), "a");
  const p = spawn(path.join(BIN, bin), args, { stdio: ["ignore", out, out] });
  procs.push(p);
  return p;
}

let kubeconfig = "";
const client = () => clientFor(kubeconfig);

async function until<T>(what: string, seconds: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not happen within ${seconds}s (last error: ${String(last)})`);
}

/** Server-side apply, as the Pulumi kubernetes provider does it. */
async function apply(o: {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}) {
  const plurals: Record<string, string> = {
    Namespace: "namespaces",
    ServiceAccount: "serviceaccounts",
    NetworkPolicy: "networkpolicies",
    ValidatingAdmissionPolicy: "validatingadmissionpolicies",
    ValidatingAdmissionPolicyBinding: "validatingadmissionpolicybindings",
  };
  const plural = plurals[o.kind];
  if (!plural) throw new Error(`no API path for kind ${o.kind}`);
  const group = o.apiVersion.includes("/") ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const ns = o.metadata.namespace !== undefined ? `/namespaces/${o.metadata.namespace}` : "";
  const url = `${group}${ns}/${plural}/${o.metadata.name}?fieldManager=hardened-rke2&force=true`;
  const r = await client().request("PATCH", url, o, "application/apply-patch+yaml");
  if (r.status >= 300)
    throw new Error(`apply ${o.kind} ${o.metadata.name}: ${r.status} ${JSON.stringify(r.json)}`);
}

/** A pod Pod Security "restricted" admits, so only the default-ServiceAccount guard can refuse it. */
function restrictedPod(namespace: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "probe", namespace },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "c",
          image: "registry.invalid/probe:1",
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
      ...extra,
    },
  };
}

beforeAll(async () => {
  for (const b of ["etcd", "kube-apiserver", "kube-controller-manager"]) {
    if (!fs.existsSync(path.join(BIN, b)))
      throw new Error(`${b} is not built: run \`bash e2e/toolchain/build.sh etcd kube\``);
  }
  makePki();
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  start(
    "etcd",
    [
      `--data-dir=${file("etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      "--listen-metrics-urls=",
    ],
    "etcd.log",
  );

  // The API server gets exactly what the rendered config.yaml asks RKE2 for: our audit policy and pod-security
  // files, the audit flags, plus what a harness needs to run it (certs, etcd, service accounts).
  for (const f of renderPolicyFiles(spec, placeholderInputs(REPO))) {
    fs.writeFileSync(file(path.basename(f.path)), f.content, { mode: 0o600 });
  }
  const apiArgs = rendered("kube-apiserver-arg").map((a) =>
    a.replace(/^--audit-log-path=.*$/, `--audit-log-path=${AUDIT_LOG}`),
  );
  start(
    "kube-apiserver",
    [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${file("apiserver.crt")}`,
      `--tls-private-key-file=${file("apiserver.key")}`,
      `--client-ca-file=${file("ca.crt")}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${file("sa.pub")}`,
      `--service-account-signing-key-file=${file("sa.key")}`,
      "--service-cluster-ip-range=10.43.0.0/16",
      "--authorization-mode=Node,RBAC",
      "--anonymous-auth=false",
      // RKE2 runs its API server with privileged pods allowed (its CNI needs them), so Pod Security is what
      // refuses a privileged pod; without this flag the API server itself would, and the check would prove nothing.
      "--allow-privileged=true",
      "--endpoint-reconciler-type=none",
      `--audit-policy-file=${file("audit-policy.yaml")}`,
      `--admission-control-config-file=${file("hardened-rke2-pss.yaml")}`,
      ...apiArgs,
    ],
    "kube-apiserver.log",
  );

  const b64 = (n: string) => fs.readFileSync(file(n)).toString("base64");
  kubeconfig = stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "e2e",
        cluster: { server: `https://127.0.0.1:${apiPort}`, "certificate-authority-data": b64("ca.crt") },
      },
    ],
    users: [
      {
        name: "admin",
        user: { "client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key") },
      },
    ],
    contexts: [{ name: "e2e", context: { cluster: "e2e", user: "admin" } }],
    "current-context": "e2e",
  });
  await until("kube-apiserver /readyz", 120, async () =>
    (await client().request("GET", "/readyz")).status === 200 ? true : undefined,
  );
  // kube-controller-manager with the flag the rendered config sets (CIS 1.3.1); its service-account controllers make
  // each namespace's default ServiceAccount, as in a real cluster.
  fs.writeFileSync(file("kcm.kubeconfig"), kubeconfig, { mode: 0o600 });
  start(
    "kube-controller-manager",
    [
      `--kubeconfig=${file("kcm.kubeconfig")}`,
      `--authentication-kubeconfig=${file("kcm.kubeconfig")}`,
      `--authorization-kubeconfig=${file("kcm.kubeconfig")}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${await freePort()}`,
      `--cert-dir=${file("kcm-certs")}`,
      `--service-account-private-key-file=${file("sa.key")}`,
      `--root-ca-file=${file("ca.crt")}`,
      "--controllers=serviceaccount,serviceaccount-token,namespace,podgc",
      "--use-service-account-credentials=false",
      "--leader-elect=false",
      ...rendered("kube-controller-manager-arg"),
    ],
    "kube-controller-manager.log",
  );
  await until("the default ServiceAccount in default", 120, async () =>
    (await client().request("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200
      ? true
      : undefined,
  );
  await until("the built-in namespaces", 60, async () =>
    (await client().request("GET", "/api/v1/namespaces/kube-node-lease")).status === 200 ? true : undefined,
  );
  for (const r of renderClusterObjects(spec)) await apply(r.object);
}, 300_000);

afterAll(() => {
  for (const p of procs) p.kill("SIGTERM");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("the rendered hardening on a real kube-apiserver", () => {
  it("has every control pass, read back through the API (CIS 5.3.2, 5.1.5, 5.2.2, 3.2.1)", async () => {
    const lastLine = () => fs.readFileSync(AUDIT_LOG, "utf8").trim().split("\n").pop() ?? "";
    const answers = await fetchAnswers(client(), "");
    const results = verifyControls(expectationsOf(spec, guardExemptNamespaces(spec)), {
      ...answers,
      auditLogLine: lastLine(),
    });
    expect(
      formatResults(results)
        .split("\n")
        .map((l) => l.slice(0, 10)),
    ).toEqual(["PASS 5.3.2", "PASS 5.1.5", "PASS 5.2.2", "PASS 3.2.1"]);
    expect(answers.namespaces.sort()).toEqual([
      "default",
      "kube-node-lease",
      "kube-public",
      "kube-system",
      "shop",
    ]);
  });

  it("refuses a privileged pod with Pod Security's message", async () => {
    const r = await client().request("POST", "/api/v1/namespaces/shop/pods?dryRun=All", {
      ...restrictedPod("shop"),
      spec: { containers: [{ name: "c", image: "x", securityContext: { privileged: true } }] },
    });
    expect(`${r.status} ${(r.json as { message: string }).message}`).toMatch(
      /^403 .*violates PodSecurity "restricted:latest"/,
    );
  });

  it("refuses, in a namespace made outside the stack, a pod mounting the default ServiceAccount's token", async () => {
    await client().request("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "outside" },
    });
    const refused = await until("the guard to refuse", 60, async () => {
      const r = await client().request(
        "POST",
        "/api/v1/namespaces/outside/pods?dryRun=All",
        restrictedPod("outside"),
      );
      return r.status === 403 || r.status === 422 ? (r.json as { message: string }).message : undefined;
    });
    expect(refused).toContain(GUARD_MESSAGE);
    const allowed = await client().request(
      "POST",
      "/api/v1/namespaces/outside/pods?dryRun=All",
      restrictedPod("outside", { automountServiceAccountToken: false }),
    );
    expect(allowed.status).toBe(201);
  });

  it("then names the failing control: the outside namespace has no NetworkPolicy", async () => {
    const answers = await fetchAnswers(client(), '{"level":"Metadata"}');
    const [np] = verifyControls(expectationsOf(spec, guardExemptNamespaces(spec)), answers);
    expect(np).toEqual({
      id: "5.3.2",
      title: "Every namespace has a NetworkPolicy",
      pass: false,
      detail: "no NetworkPolicy in: outside",
    });
  });

  it("writes audit events for these requests at the policy's level", () => {
    const events = fs
      .readFileSync(AUDIT_LOG, "utf8")
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            level: string;
            verb: string;
            objectRef?: { resource?: string; namespace?: string };
          },
      );
    const podCreates = events.filter((e) => e.verb === "create" && e.objectRef?.resource === "pods");
    expect(podCreates.length).toBeGreaterThan(0);
    expect(new Set(podCreates.map((e) => e.level))).toEqual(new Set(["Metadata"]));
  });
});

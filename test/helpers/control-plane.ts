// A real Kubernetes control plane for the end-to-end suites: etcd, kube-apiserver and kube-controller-manager built
// from Go modules (e2e/toolchain/build.sh etcd kube), on 127.0.0.1 only, run with the audit policy, the Pod Security
// admission file and the component flags this product renders for the first server.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { clientFor } from "../../components/hardening/api";
import { placeholderInputs } from "../../components/render/inputs";
import { renderPolicyFiles } from "../../components/render/policy";
import { rke2Config } from "../../components/render/rke2";
import { offlineFacts, registrationAddress } from "../../components/render/topology";
import type { ClusterSpec } from "../../components/spec/types";
import { issue, makeCa, openssl } from "./pki";
import { REPO } from "./spec";

export const TOOLCHAIN_BIN = path.join(
  process.env.HARDENED_RKE2_CACHE ?? path.join(os.homedir(), ".cache", "hardened-rke2"),
  "toolchain",
  "bin",
);

export interface ControlPlane {
  dir: string;
  kubeconfig: string;
  auditLog: string;
  client: () => ReturnType<typeof clientFor>;
  /** Server-side apply with the product's field manager, as the Pulumi kubernetes provider does. */
  apply(o: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
  }): Promise<void>;
  /** Stops every process and removes the folder (etcd's data, certificates, logs). */
  stop(): Promise<void>;
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

export async function until<T>(
  what: string,
  seconds: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
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

/** The flags the first server's rendered config.yaml passes to a control-plane component, as `--flag=value`. */
export function renderedFlags(
  spec: ClusterSpec,
  key: "kube-apiserver-arg" | "kube-controller-manager-arg",
): string[] {
  const facts = offlineFacts(spec);
  const config = rke2Config(spec, facts[0], registrationAddress(spec, facts));
  return (config[key] as string[]).map((a) => `--${a}`);
}

const PLURALS: Record<string, string> = {
  Namespace: "namespaces",
  ServiceAccount: "serviceaccounts",
  NetworkPolicy: "networkpolicies",
  ValidatingAdmissionPolicy: "validatingadmissionpolicies",
  ValidatingAdmissionPolicyBinding: "validatingadmissionpolicybindings",
};

export async function startControlPlane(spec: ClusterSpec): Promise<ControlPlane> {
  for (const b of ["etcd", "kube-apiserver", "kube-controller-manager"]) {
    if (!fs.existsSync(path.join(TOOLCHAIN_BIN, b)))
      throw new Error(`${b} is not built: run \`bash e2e/toolchain/build.sh etcd kube\``);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-control-plane-"));
  const file = (n: string) => path.join(dir, n);
  const procs: ChildProcess[] = [];
  const start = (bin: string, args: string[]) => {
    const out = fs.openSync(file(`${bin}.log`), "a");
    procs.push(spawn(path.join(TOOLCHAIN_BIN, bin), args, { stdio: ["ignore", out, out] }));
  };
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const timer = setTimeout(() => (p.kill("SIGKILL"), resolve()), 10_000);
            p.once("exit", () => (clearTimeout(timer), resolve()));
            p.kill("SIGTERM");
          }),
      ),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    makeCa(dir, "ca");
    issue(
      dir,
      "apiserver",
      "ca",
      "/CN=kube-apiserver",
      "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    );
    issue(dir, "admin", "ca", "/O=system:masters/CN=e2e-admin", "extendedKeyUsage=clientAuth\n");
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("sa.key"));
    openssl("pkey", "-in", file("sa.key"), "-pubout", "-out", file("sa.pub"));

    const [etcdClient, etcdPeer, apiPort, kcmPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    start("etcd", [
      `--data-dir=${file("etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      "--listen-metrics-urls=",
    ]);

    // The API server gets exactly what the rendered config.yaml asks RKE2 for (our audit policy and pod-security
    // files, the audit flags) plus what a harness needs to run it (certs, etcd, service accounts).
    for (const f of renderPolicyFiles(spec, placeholderInputs(REPO))) {
      fs.writeFileSync(file(path.basename(f.path)), f.content, { mode: 0o600 });
    }
    const auditLog = file("audit.log");
    const apiFlags = renderedFlags(spec, "kube-apiserver-arg").map((a) =>
      a.replace(/^--audit-log-path=.*$/, `--audit-log-path=${auditLog}`),
    );
    start("kube-apiserver", [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${file("apiserver.crt")}`,
      `--tls-private-key-file=${file("apiserver.key")}`,
      `--client-ca-file=${file("ca.crt")}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${file("sa.pub")}`,
      `--service-account-signing-key-file=${file("sa.key")}`,
      "--service-cluster-ip-range=10.43.0.0/16",
      "--authorization-mode=Node,RBAC",
      "--anonymous-auth=false",
      // RKE2 runs its API server with privileged pods allowed (its CNI needs them), so Pod Security is what refuses
      // a privileged pod; without this flag the API server itself would, and the check would prove nothing.
      "--allow-privileged=true",
      "--endpoint-reconciler-type=none",
      `--audit-policy-file=${file("audit-policy.yaml")}`,
      `--admission-control-config-file=${file("hardened-rke2-pss.yaml")}`,
      ...apiFlags,
    ]);

    const b64 = (n: string) => fs.readFileSync(file(n)).toString("base64");
    const kubeconfig = stringify({
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
    const client = () => clientFor(kubeconfig);
    await until("kube-apiserver /readyz", 120, async () =>
      (await client().request("GET", "/readyz")).status === 200 ? true : undefined,
    );

    // kube-controller-manager with the flags the rendered config sets (CIS 1.3.1); its service-account controllers
    // make each namespace's default ServiceAccount and its garbage collector finishes the foreground deletions the
    // Pulumi kubernetes provider asks for, as in a real cluster.
    fs.writeFileSync(file("kcm.kubeconfig"), kubeconfig, { mode: 0o600 });
    start("kube-controller-manager", [
      `--kubeconfig=${file("kcm.kubeconfig")}`,
      `--authentication-kubeconfig=${file("kcm.kubeconfig")}`,
      `--authorization-kubeconfig=${file("kcm.kubeconfig")}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${kcmPort}`,
      `--cert-dir=${file("kcm-certs")}`,
      `--service-account-private-key-file=${file("sa.key")}`,
      `--root-ca-file=${file("ca.crt")}`,
      "--controllers=serviceaccount,serviceaccount-token,namespace,podgc,garbagecollector",
      "--use-service-account-credentials=false",
      "--leader-elect=false",
      ...renderedFlags(spec, "kube-controller-manager-arg"),
    ]);
    await until("the default ServiceAccount in kube-node-lease", 120, async () =>
      (await client().request("GET", "/api/v1/namespaces/kube-node-lease/serviceaccounts/default")).status ===
      200
        ? true
        : undefined,
    );

    return {
      dir,
      kubeconfig,
      auditLog,
      client,
      stop,
      apply: async (o) => {
        const plural = PLURALS[o.kind];
        if (!plural) throw new Error(`no API path for kind ${o.kind}`);
        const group = o.apiVersion.includes("/") ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
        const ns = o.metadata.namespace !== undefined ? `/namespaces/${o.metadata.namespace}` : "";
        const url = `${group}${ns}/${plural}/${o.metadata.name}?fieldManager=hardened-rke2&force=true`;
        const r = await client().request("PATCH", url, o, "application/apply-patch+yaml");
        if (r.status >= 300)
          throw new Error(`apply ${o.kind} ${o.metadata.name}: ${r.status} ${JSON.stringify(r.json)}`);
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// A real Kubernetes control plane for the end-to-end suites, as a test host's first server runs it: the product's node
// scripts harden and install the host (a throw-away root, helpers/standin-root.ts), and the RKE2 stand-in starts
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from Go modules (e2e/toolchain/build.sh etcd
// kube kube-tools) with RKE2's flags and files and those the rendered config.yaml gives, bound to the host's own
// address on loopback (127.0.1.N), and its kubelet stand-in registers the node. With `distribution: k3s` the K3s
// stand-in starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler with K3s's flags and those of
// the rendered /etc/rancher/k3s/config.yaml (no kubelet: it registers no Node). The
// kubeconfig is read back with the product's own command and rewritten to the registration address, as `pulumi up`
// does; its CA is verified on every request.
import * as fs from "node:fs";
import { expectationsOf } from "../../components/hardening/verify";
import * as os from "node:os";
import * as path from "node:path";
import { readKubeconfig, rewriteKubeconfig } from "../../components/bootstrap/remote";
import { clientFor } from "../../components/hardening/api";
import { renderBundle } from "../../components/render/bundle";
import type { RenderInputs } from "../../components/render/inputs";
import { DISTRIBUTION, pathsOf, type Distribution } from "../../components/spec/distribution";
import { offlineFacts, registrationAddress } from "../../components/spec/plan";
import type { ClusterSpec } from "../../components/spec/types";
import {
  bootstrap,
  inRoot,
  K3S_ARTIFACTS,
  makeRoot,
  stopRootProcesses,
  writeK3sStandinRelease,
  writeStandinRelease,
} from "./standin-root";
import { REPO, spec as specOf } from "./spec";

export const TOOLCHAIN_BIN = path.join(
  process.env.HARDENED_RKE2_CACHE ?? path.join(os.homedir(), ".cache", "hardened-rke2"),
  "toolchain",
  "bin",
);

export const CONTROL_PLANE = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
/** What the K3s stand-in needs: the K3s e2e checks no scheduler flag, so kube-scheduler (e2e/toolchain/build.sh
 * kube-tools) is placed, and started, only when it was built. */
export function k3sControlPlane(): string[] {
  return CONTROL_PLANE.filter((b) => b !== "kube-scheduler" || fs.existsSync(path.join(TOOLCHAIN_BIN, b)));
}
/** Put on every test host: the RKE2 stand-in places kubectl where RKE2 does and starts its kubelet stand-in there. */
export const HOST_TOOLS = ["kubectl"];
export const BUILD_HINT = "run `bash e2e/toolchain/build.sh etcd kube kube-tools`";

/** Links (or copies) the built binaries into a test root, where the RKE2 stand-in looks for them. */
export function placeTools(root: string, names: string[]): void {
  fs.mkdirSync(path.join(root, "opt/standin-control-plane/bin"), { recursive: true });
  for (const b of names) {
    if (!fs.existsSync(path.join(TOOLCHAIN_BIN, b))) throw new Error(`${b} is not built: ${BUILD_HINT}`);
    const target = path.join(root, "opt/standin-control-plane/bin", b);
    const built = fs.realpathSync(path.join(TOOLCHAIN_BIN, b)); // the cache's bin/ holds symlinks
    try {
      fs.linkSync(built, target);
    } catch {
      fs.copyFileSync(built, target);
    }
    fs.chmodSync(target, 0o755);
  }
}

export interface ControlPlane {
  spec: ClusterSpec;
  /** The first server's root file system. */
  root: string;
  /** The other nodes, in the order they joined, each on a host of its own. */
  joined: { name: string; role: string; root: string }[];
  kubeconfig: string;
  /** The audit log as the rendered config places it, inside the root. */
  auditLog: string;
  client: () => ReturnType<typeof clientFor>;
  /** Server-side apply with the product's field manager, as the Pulumi kubernetes provider does. */
  apply(o: Applicable): Promise<void>;
  /** Deletes the object. */
  remove(o: Applicable): Promise<void>;
  /** Runs one of the node's installed step scripts again (for example `start` after config.yaml changed). */
  step(name: string): { status: number | null; out: string };
  /** Waits until the API server answers /readyz and the controller manager has made the default ServiceAccounts. */
  ready(): Promise<void>;
  /** Stops every process in the root. */
  stop(): Promise<void>;
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

const PLURALS: Record<string, string> = {
  Namespace: "namespaces",
  ServiceAccount: "serviceaccounts",
  NetworkPolicy: "networkpolicies",
  ValidatingAdmissionPolicy: "validatingadmissionpolicies",
  ValidatingAdmissionPolicyBinding: "validatingadmissionpolicybindings",
};

interface Applicable {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

/** Server-side apply with the product's field manager, as the Pulumi kubernetes provider does. */
function controlPlaneApi(client: () => ReturnType<typeof clientFor>) {
  const urlOf = (o: Applicable) => {
    const plural = PLURALS[o.kind];
    if (!plural) throw new Error(`no API path for kind ${o.kind}`);
    const group = o.apiVersion.includes("/") ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
    const ns = o.metadata.namespace !== undefined ? `/namespaces/${o.metadata.namespace}` : "";
    return `${group}${ns}/${plural}/${o.metadata.name}`;
  };
  return {
    apply: async (o: Applicable): Promise<void> => {
      const url = `${urlOf(o)}?fieldManager=hardened-rke2&force=true`;
      const r = await client().request("PATCH", url, o, "application/apply-patch+yaml");
      if (r.status >= 300)
        throw new Error(`apply ${o.kind} ${o.metadata.name}: ${r.status} ${JSON.stringify(r.json)}`);
    },
    remove: async (o: Applicable): Promise<void> => {
      const r = await client().request("DELETE", urlOf(o));
      if (r.status >= 300)
        throw new Error(`delete ${o.kind} ${o.metadata.name}: ${r.status} ${JSON.stringify(r.json)}`);
    },
  };
}

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAW1dhevxjWB8K/ttpJP6AxPF+eUXm+JPlL9gxUfC+Gw";

/** The config of a cluster of test hosts, `[name, address, role]` each, the first a server; air-gapped from the
 * stand-in release by startFirstServer. */
export function e2eClusterConfig(
  hosts: [string, string, "server" | "agent"][],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: "e2e",
    version: "v1.33.5+rke2r1",
    nodes: {
      source: "existing",
      hosts: hosts.map(([name, address, role]) => ({ name, address, role, hostKey: HOST_KEY })),
    },
    ...extra,
  };
}

/** A one-server cluster on a test host at `address`. */
export const firstServerConfig = (address: string, extra: Record<string, unknown> = {}) =>
  e2eClusterConfig([["s1", address, "server"]], extra);

/**
 * Hardens and installs a test host as its first server with the product's own scripts, and waits for the control
 * plane the RKE2 stand-in starts there; then each other node of the config on a host of its own, in the product's
 * join order (servers one at a time, then agents), where the stand-in registers it against the first server as in
 * the unit tests (no control plane of its own). `config` is the stack's raw cluster config; its install is replaced
 * by the air-gapped stand-in release.
 */
export async function startFirstServer(config: Record<string, unknown>): Promise<ControlPlane> {
  const distribution = (config.distribution ?? "rke2") as Distribution;
  // The K3s stand-in runs no kubelet, so it needs no kubectl on the host.
  const tools = distribution === "k3s" ? k3sControlPlane() : [...CONTROL_PLANE, ...HOST_TOOLS];
  for (const b of tools) {
    if (!fs.existsSync(path.join(TOOLCHAIN_BIN, b))) throw new Error(`${b} is not built: ${BUILD_HINT}`);
  }
  const releaseDir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-release-"));
  const [release, artifacts] =
    distribution === "k3s"
      ? [writeK3sStandinRelease(releaseDir), K3S_ARTIFACTS]
      : [writeStandinRelease(releaseDir), undefined];
  const spec = specOf(
    { ...config, install: { mode: "airgap", artifactsDir: release } },
    { configKeys: new Map(), baseDir: REPO, requireSecrets: false },
  );
  const facts = offlineFacts(spec);
  const token = "e2e-cluster-token-not-a-real-secret";
  const inputs: RenderInputs = {
    secret: () => token,
    file: (p) => fs.readFileSync(path.resolve(REPO, p), "utf8"),
    secretFile: (p) => fs.readFileSync(path.resolve(REPO, p), "utf8"),
  };
  const [node, ...others] = renderBundle(spec, inputs).nodes;
  const root = makeRoot();
  const stop = () => stopRootProcesses(root);
  try {
    // The real control-plane binaries, where the stand-in looks for them, and the host's own address.
    placeTools(root, tools);
    fs.writeFileSync(path.join(root, "etc/standin-host-address"), `${facts[0].privateAddress}\n`);

    const bootstrapOn = (host: string, b: typeof node) => {
      const steps = bootstrap(host, b, release, [], artifacts);
      if (steps.some((s) => s.status !== 0))
        throw new Error(`bootstrap of ${b.node.name} failed: ${JSON.stringify(steps, null, 2)}`);
    };
    bootstrapOn(root, node);

    const read = inRoot(root, ["/usr/bin/bash", "-c", readKubeconfig(spec.distribution)]);
    if (read.status !== 0) throw new Error(`reading the kubeconfig failed: ${read.stderr}`);
    const kubeconfig = rewriteKubeconfig(read.stdout, registrationAddress(spec, facts));
    const client = () => clientFor(kubeconfig);
    const ready = async () => {
      await until("kube-apiserver /readyz", 120, async () =>
        (await client().request("GET", "/readyz")).status === 200 ? true : undefined,
      );
      await until("the default ServiceAccount in kube-node-lease", 120, async () =>
        (await client().request("GET", "/api/v1/namespaces/kube-node-lease/serviceaccounts/default"))
          .status === 200
          ? true
          : undefined,
      );
    };
    await ready();
    const api = controlPlaneApi(client);
    // STAND-IN for what RKE2 applies itself at start under the CIS profile (FACTS.md, rke2 pkg/rke2/np.go): its
    // default-network-policy in kube-system, kube-public and default, which the product's objects must leave alone.
    // K3s has no profile and applies none (docs.k3s.io security/hardening-guide, "NetworkPolicies").
    const profilePolicies = DISTRIBUTION[spec.distribution].hasProfile
      ? ["kube-system", "kube-public", "default"]
      : [];
    for (const namespace of profilePolicies) {
      await api.apply({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "default-network-policy", namespace },
        spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] },
      });
    }
    const joined: ControlPlane["joined"] = [];
    for (const other of others) {
      const host = makeRoot();
      fs.writeFileSync(path.join(host, "etc/standin-host-address"), `${other.node.privateAddress}\n`);
      bootstrapOn(host, other);
      joined.push({ name: other.node.name, role: other.node.role, root: host });
    }
    fs.rmSync(release, { recursive: true, force: true }); // placed on the hosts; the steps re-run later need no copy
    const auditPath = /audit-log-path=(\S+)/.exec(
      fs.readFileSync(path.join(root, pathsOf(spec.distribution).config), "utf8"),
    )?.[1];
    if (!auditPath) throw new Error("the rendered config.yaml sets no audit-log-path");

    return {
      spec,
      root,
      joined,
      kubeconfig,
      auditLog: path.join(root, auditPath),
      client,
      ready,
      stop,
      step: (name) => {
        const script = node.scripts.find((s) => s.step === name);
        if (!script) throw new Error(`no step ${name}`);
        const r = inRoot(root, [script.path]);
        return { status: r.status, out: r.stdout + r.stderr };
      },
      ...api,
    };
  } catch (err) {
    fs.rmSync(release, { recursive: true, force: true });
    await stop();
    const logs = CONTROL_PLANE.map((b) => path.join(root, `var/log/standin-${b}.log`))
      .filter((f) => fs.existsSync(f))
      .map((f) => `--- ${path.basename(f)}\n${fs.readFileSync(f, "utf8").slice(-2000)}`);
    throw new Error(`${String(err)}\n${logs.join("\n")}`);
  }
}

/**
 * The stack's expectations without the per-node host checks: these suites run a control plane on the first server's
 * root only (the other nodes register against it with none of their own), so the `cis` step's host checks are proved
 * by the SSH e2e, where every node is a host of its own; here the in-cluster controls are.
 */
export const inClusterExpectations = (spec: ClusterSpec) => ({ ...expectationsOf(spec), hostCheckNodes: [] });

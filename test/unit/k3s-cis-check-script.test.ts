// The CIS host-check script (components/render/scripts/60-cis-check.sh) on K3s: a throw-away root laid out as a
// hardened K3s v1.33 server and agent are (K3s's paths, no pod manifests, etcd's folder root-owned) and a journal
// holding the `Running <component> <flags>` lines K3s logs (docs.k3s.io security/self-assessment-1.12: the returned
// values of 1.2.x, 1.3.x, 1.4.x, 4.2.x and 4.3.1, where its audits read them). Every control of the rendered table
// passes; then the cause of each table line is put back in a fresh copy (a flag removed or weakened in the journal's
// line, a file's mode or owner, a config key) and exactly that control must FAIL. Runs as root (chown).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { renderCisChecks } from "../../components/render/cis-checks";
import { BENCHMARK_CONTROLS, notCheckedOf } from "../../components/spec/cis-catalogue";
import { offlineFacts } from "../../components/spec/plan";
import {
  ALSO_FAILS,
  breakLine,
  etcdConfigOf,
  failing,
  type Fixture,
  nodeFiles,
  put,
  run,
  writeProc,
} from "../helpers/cis-negative";
import { existingConfig, spec as specOf } from "../helpers/spec";

const spec = specOf({ ...existingConfig(), distribution: "k3s", version: "v1.33.5+k3s1" });
const K = "/var/lib/rancher/k3s";
const TLS = `${K}/server/tls`;
const CIPHERS =
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256," +
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305";

/** The command lines a hardened K3s server logs (the self-assessment's returned values, shortened to what matters). */
function processes(): Record<string, string[]> {
  return {
    "kube-apiserver": [
      `--admission-control-config-file=${K}/server/psa.yaml`,
      "--anonymous-auth=false",
      "--audit-log-maxage=30",
      "--audit-log-maxbackup=10",
      "--audit-log-maxsize=100",
      `--audit-log-path=${K}/server/logs/audit.log`,
      `--audit-policy-file=${K}/server/audit.yaml`,
      "--authorization-mode=Node,RBAC",
      "--bind-address=127.0.0.1",
      `--client-ca-file=${TLS}/client-ca.crt`,
      "--enable-admission-plugins=NodeRestriction,EventRateLimit",
      `--encryption-provider-config=${K}/server/cred/encryption-config.json`,
      `--etcd-cafile=${TLS}/etcd/server-ca.crt`,
      `--etcd-certfile=${TLS}/etcd/client.crt`,
      `--etcd-keyfile=${TLS}/etcd/client.key`,
      `--kubelet-certificate-authority=${TLS}/server-ca.crt`,
      `--kubelet-client-certificate=${TLS}/client-kube-apiserver.crt`,
      `--kubelet-client-key=${TLS}/client-kube-apiserver.key`,
      "--profiling=false",
      "--request-timeout=60s",
      "--service-account-extend-token-expiration=false",
      `--service-account-key-file=${TLS}/service.key`,
      "--service-account-lookup=true",
      `--tls-cert-file=${TLS}/serving-kube-apiserver.crt`,
      `--tls-cipher-suites=${CIPHERS}`,
      `--tls-private-key-file=${TLS}/serving-kube-apiserver.key`,
    ],
    "kube-controller-manager": [
      "--bind-address=127.0.0.1",
      "--profiling=false",
      `--root-ca-file=${TLS}/server-ca.crt`,
      `--service-account-private-key-file=${TLS}/service.current.key`,
      "--terminated-pod-gc-threshold=10",
      "--use-service-account-credentials=true",
    ],
    "kube-scheduler": ["--bind-address=127.0.0.1", "--profiling=false"],
    kubelet: [
      `--config-dir=${K}/agent/etc/kubelet.conf.d`,
      "--hostname-override=server-0",
      `--kubeconfig=${K}/agent/kubelet.kubeconfig`,
      "--make-iptables-util-chains=true",
      "--node-labels=",
      "--read-only-port=0",
      "--streaming-connection-idle-timeout=5m",
      `--tls-cipher-suites=${CIPHERS}`,
    ],
    "kube-proxy": ["--healthz-bind-address=127.0.0.1", `--kubeconfig=${K}/agent/kubeproxy.kubeconfig`],
  };
}

const KUBELET_CONFIG = {
  apiVersion: "kubelet.config.k8s.io/v1beta1",
  kind: "KubeletConfiguration",
  authentication: { anonymous: { enabled: false }, x509: { clientCAFile: `${K}/agent/client-ca.crt` } },
  authorization: { mode: "Webhook" },
  tlsCertFile: `${K}/agent/serving-kubelet.crt`,
  tlsPrivateKeyFile: `${K}/agent/serving-kubelet.key`,
};

const ETCD_CONFIG = etcdConfigOf(K);

const nodes = offlineFacts(spec);
const tableOf = (role: "server" | "agent") => {
  const node = nodes.find((n) => n.role === role);
  if (!node) throw new Error(`no ${role} in the stack`);
  return renderCisChecks(spec, node).content;
};
const linesOf = (table: string) => table.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
const idsOf = (table: string) => [...new Set(linesOf(table).map((l) => l.split("\t")[0]))];

/** A hardened K3s server's (or agent's) files and journal, with the rendered check table. */
function fixture(role: "server" | "agent"): Fixture {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "k3s-cis-check-"));
  const root = path.join(base, "root");
  const f: Fixture = {
    root,
    proc: path.join(base, "proc"),
    args: processes(),
    dataDir: K,
    journal: path.join(base, "journal.log"),
  };
  if (role === "agent") {
    for (const p of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) delete f.args[p];
  }
  put(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0o644);
  put(root, "etc/group", "root:x:0:\n", 0o644);
  put(root, "var/lib/hardened-rke2/cis-checks.tsv", tableOf(role), 0o600);
  for (const p of ["config.yaml", "cluster-token"]) put(root, `etc/rancher/k3s/${p}`, "x\n", 0o600);
  if (role === "server") {
    for (const p of ["audit.yaml", "psa.yaml"]) put(root, `${K}/server/${p}`, "x\n", 0o600);
    // K3s's etcd runs inside the k3s process, as root: its folder is root's (1.1.12 Not Applicable).
    fs.mkdirSync(path.join(root, `${K}/server/db/etcd`), { recursive: true, mode: 0o700 });
    fs.chmodSync(path.join(root, `${K}/server/db/etcd`), 0o700);
    put(root, `${K}/server/db/etcd/config`, stringify(ETCD_CONFIG), 0o600);
  }
  nodeFiles(root, K, role, KUBELET_CONFIG);
  writeProc(f);
  return f;
}

const serverTable = tableOf("server");
const agentTable = tableOf("agent");

describe("60-cis-check.sh on a hardened K3s server", () => {
  const v = run(fixture("server"));

  it("passes every control of the server's table, reading the components' flags from K3s's journal", () => {
    expect(v.status).toBe(0);
    expect(failing(v).map((id) => v.lines.get(id))).toEqual([]);
    expect([...v.lines.keys()]).toEqual(idsOf(serverTable));
    expect(v.lines.get("1.2.17")).toBe("PASS 1.2.17 kube-apiserver --audit-log-maxage=30");
    const n = idsOf(serverTable).length;
    expect(v.count).toBe(`hardened-rke2: cis: ${n} host checks, ${n} PASS, 0 FAIL`);
  });

  it("checks every Automated control of k3s-cis-1.12 but the ones K3s's self-assessment marks Not Applicable", () => {
    const reasons = notCheckedOf("k3s");
    const expected = BENCHMARK_CONTROLS.filter(
      (c) => c.automated && c.ids["k3s-cis-1.12"] !== "-" && reasons[c.ids["rke2-cis-1.12"]] === undefined,
    )
      .map((c) => c.ids["k3s-cis-1.12"])
      // Controls checked in the cluster only (the verification's own checks), not on the host.
      .filter((id) => !id.startsWith("5.") && !id.startsWith("3.1"));
    expect(expected.filter((id) => !idsOf(serverTable).includes(id))).toEqual([]);
    // The table reads K3s's files and journal, nothing of RKE2's.
    expect(serverTable).not.toMatch(/rancher\/rke2/);
    expect(serverTable).toMatch(/^#% args-journal k3s$/m);
    expect(agentTable).toMatch(/^#% args-journal k3s-agent$/m);
  });

  it("fails the control-plane checks when the journal holds no component's start (K3s not started)", () => {
    const f = fixture("server");
    fs.writeFileSync(f.journal ?? "", "");
    const seen = run(f);
    expect(seen.lines.get("1.2.1")).toBe("FAIL 1.2.1 kube-apiserver is not running");
    expect(seen.lines.get("1.3.2")).toBe("FAIL 1.3.2 kube-controller-manager is not running");
  });
});

describe("60-cis-check.sh on K3s: each audit's cause put back fails exactly its control", () => {
  it.each(linesOf(serverTable).map((l) => [l.split("\t").slice(0, 3).join(" "), l]))(
    "server: %s",
    (_n, line) => {
      const f = fixture("server");
      breakLine(f, line);
      const id = line.split("\t")[0];
      expect(failing(run(f))).toEqual([id, ...(ALSO_FAILS[id] ?? [])]);
    },
  );

  it.each(linesOf(agentTable).map((l) => [l.split("\t").slice(0, 3).join(" "), l]))(
    "agent: %s",
    (_n, line) => {
      const f = fixture("agent");
      breakLine(f, line);
      expect(failing(run(f))).toEqual([line.split("\t")[0]]);
    },
  );
});

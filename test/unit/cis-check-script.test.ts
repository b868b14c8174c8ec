// The CIS host-check script (components/render/scripts/60-cis-check.sh) over a throw-away root and process table laid
// out as a hardened RKE2 v1.33 server is (RKE2's CIS-profile flags, files, modes and owners; the kubelet settings in
// RKE2's kubelet.conf.d file, the cipher suites as the kubelet-arg the product renders): every control passes. Then,
// table-driven over every line of the rendered check table, the cause of that one audit is put back in a fresh copy
// (a file made group-readable or handed to another owner, a flag removed or weakened, a config key changed) and
// exactly that control must FAIL. Runs as root (chown).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { cisCheckLines } from "../../components/render/cis-checks";
import { KUBELET_CIPHER_SUITES } from "../../components/spec/cis-catalogue";
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

const spec = specOf(existingConfig());
const R = "/var/lib/rancher/rke2";
const TLS = `${R}/server/tls`;
const ETCD_UID = 1001;

/** Command lines as RKE2 starts the components under `profile: cis` (k3s pkg/daemons/control defaults). */
function processes(): Record<string, string[]> {
  return {
    "kube-apiserver": [
      "--admission-control-config-file=/etc/rancher/rke2/hardened-rke2-pss.yaml",
      "--allow-privileged=true",
      "--anonymous-auth=false",
      "--audit-log-maxage=30",
      "--audit-log-maxbackup=10",
      "--audit-log-maxsize=100",
      `--audit-log-path=${R}/server/logs/audit.log`,
      "--audit-policy-file=/etc/rancher/rke2/audit-policy.yaml",
      "--authorization-mode=Node,RBAC",
      `--client-ca-file=${TLS}/client-ca.crt`,
      "--enable-admission-plugins=NodeRestriction",
      `--encryption-provider-config=${R}/server/cred/encryption-config.json`,
      `--etcd-cafile=${TLS}/etcd/server-ca.crt`,
      `--etcd-certfile=${TLS}/etcd/client.crt`,
      `--etcd-keyfile=${TLS}/etcd/client.key`,
      `--kubelet-certificate-authority=${TLS}/server-ca.crt`,
      `--kubelet-client-certificate=${TLS}/client-kube-apiserver.crt`,
      `--kubelet-client-key=${TLS}/client-kube-apiserver.key`,
      "--profiling=false",
      "--service-account-extend-token-expiration=false",
      `--service-account-key-file=${TLS}/service.key`,
      "--service-account-lookup=true",
      "--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      `--tls-cert-file=${TLS}/serving-kube-apiserver.crt`,
      `--tls-private-key-file=${TLS}/serving-kube-apiserver.key`,
    ],
    "kube-controller-manager": [
      "--bind-address=127.0.0.1",
      "--profiling=false",
      `--root-ca-file=${TLS}/server-ca.crt`,
      `--service-account-private-key-file=${TLS}/service.current.key`,
      "--terminated-pod-gc-threshold=1000",
      "--use-service-account-credentials=true",
    ],
    "kube-scheduler": ["--bind-address=127.0.0.1", "--profiling=false"],
    etcd: [`--config-file=${R}/server/db/etcd/config`],
    kubelet: [
      `--config-dir=${R}/agent/etc/kubelet.conf.d`,
      "--hostname-override=server-0",
      `--kubeconfig=${R}/agent/kubelet.kubeconfig`,
      `--tls-cipher-suites=${KUBELET_CIPHER_SUITES.join(",")}`,
    ],
    "kube-proxy": ["--metrics-bind-address=127.0.0.1:10249", `--kubeconfig=${R}/agent/kubeproxy.kubeconfig`],
  };
}

const KUBELET_CONFIG = {
  apiVersion: "kubelet.config.k8s.io/v1beta1",
  kind: "KubeletConfiguration",
  authentication: { anonymous: { enabled: false }, x509: { clientCAFile: `${R}/agent/client-ca.crt` } },
  authorization: { mode: "Webhook" },
  readOnlyPort: 0,
  makeIPTablesUtilChains: true,
  tlsCertFile: `${R}/agent/serving-kubelet.crt`,
  tlsPrivateKeyFile: `${R}/agent/serving-kubelet.key`,
  streamingConnectionIdleTimeout: "5m0s",
};

const ETCD_CONFIG = etcdConfigOf(R);

/** A hardened server's (or agent's) files and processes, with the rendered check table. */
function fixture(table: string[], role: "server" | "agent" = "server"): Fixture {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "cis-check-"));
  const root = path.join(base, "root");
  const f: Fixture = { root, proc: path.join(base, "proc"), args: processes() };
  if (role === "agent") {
    for (const p of ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"]) delete f.args[p];
  }
  put(
    root,
    "etc/passwd",
    `root:x:0:0::/root:/bin/sh\netcd:x:${ETCD_UID}:${ETCD_UID}::/:/sbin/nologin\n`,
    0o644,
  );
  put(root, "etc/group", `root:x:0:\netcd:x:${ETCD_UID}:\n`, 0o644);
  put(root, "var/lib/hardened-rke2/cis-checks.tsv", `# table\n${table.join("\n")}\n`, 0o600);
  for (const p of ["config.yaml", "cluster-token", "audit-policy.yaml", "hardened-rke2-pss.yaml"]) {
    put(root, `etc/rancher/rke2/${p}`, "x\n", 0o600);
  }
  if (role === "server") {
    for (const m of ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"]) {
      put(root, `${R}/agent/pod-manifests/${m}.yaml`, "kind: Pod\n", 0o600);
    }
    fs.mkdirSync(path.join(root, `${R}/server/db/etcd`), { recursive: true });
    fs.chmodSync(path.join(root, `${R}/server/db/etcd`), 0o700);
    fs.chownSync(path.join(root, `${R}/server/db/etcd`), ETCD_UID, ETCD_UID);
    put(root, `${R}/server/db/etcd/config`, stringify(ETCD_CONFIG), 0o600, ETCD_UID, ETCD_UID);
  }
  nodeFiles(root, R, role, KUBELET_CONFIG);
  writeProc(f);
  return f;
}

const serverTable = cisCheckLines(spec, "server");
const agentTable = cisCheckLines(spec, "agent");
const idsOf = (table: string[]) => [...new Set(table.map((l) => l.split("\t")[0]))];

describe("60-cis-check.sh on a hardened server", () => {
  const v = run(fixture(serverTable));

  it("passes every control of the server's table, with one line per control and a count", () => {
    expect(v.status).toBe(0);
    expect(failing(v).map((id) => v.lines.get(id))).toEqual([]);
    expect([...v.lines.keys()]).toEqual(idsOf(serverTable));
    const n = idsOf(serverTable).length;
    expect(v.count).toBe(`hardened-rke2: cis: ${n} host checks, ${n} PASS, 0 FAIL`);
  });

  it("covers every Automated control of rke2-cis-1.12 a server can check on the host", () => {
    // 78 Automated, less 1.2.20 (any value passes), 4.1.1/4.1.2 (no kubelet service file), 4.2.7 (RKE2 sets it).
    expect(idsOf(serverTable).length).toBeGreaterThanOrEqual(74);
  });
});

describe("60-cis-check.sh: each audit's cause put back fails exactly its control", () => {
  it.each(serverTable.map((l) => [l.split("\t").slice(0, 3).join(" "), l]))("server: %s", (_name, line) => {
    const f = fixture(serverTable);
    breakLine(f, line);
    const id = line.split("\t")[0];
    expect(failing(run(f))).toEqual([id, ...(ALSO_FAILS[id] ?? [])]);
  });

  it.each(agentTable.map((l) => [l.split("\t").slice(0, 3).join(" "), l]))("agent: %s", (_name, line) => {
    const f = fixture(agentTable, "agent");
    breakLine(f, line);
    expect(failing(run(f))).toEqual([line.split("\t")[0]]);
  });
});

describe("60-cis-check.sh on an agent", () => {
  it("passes the node target and the product's files, without any control-plane process", () => {
    const v = run(fixture(agentTable, "agent"));
    expect(failing(v)).toEqual([]);
    expect(idsOf(agentTable).every((id) => id.startsWith("4.") || id === "1.1.x")).toBe(true);
  });

  it("fails the kubelet's checks when the kubelet is not running and its config is gone", () => {
    const f = fixture(agentTable, "agent");
    delete f.args.kubelet;
    writeProc(f);
    fs.rmSync(path.join(f.root, `${R}/agent/etc/kubelet.conf.d`), { recursive: true });
    const kubeletIds = [
      ...new Set(agentTable.filter((l) => l.split("\t")[1] === "kubelet").map((l) => l.split("\t")[0])),
    ];
    expect(failing(run(f))).toEqual(expect.arrayContaining(kubeletIds));
  });
});

// The operator-side CIS checks over recorded host facts: a server as rendered, then one flag or file broken at a time;
// on K3s, with the command lines read from K3s's log as its self-assessment reads them. Cannot prove a real K3s logs
// these lines (the K3s e2e's stand-in logs them in K3s's format, test/standins/k3s-standin.sh).
import { hostChecks, k3sComponentArgs, type HostFacts } from "../../components/hardening/host-checks";
import { existingConfig, spec as specOf } from "../helpers/spec";

const spec = specOf(existingConfig());
const rootFile = { mode: 0o100600, uid: 0, gid: 0 };

function healthy(): HostFacts {
  return {
    processes: {
      "kube-apiserver": [
        "--audit-policy-file=/etc/rancher/rke2/audit-policy.yaml",
        "--admission-control-config-file=/etc/rancher/rke2/hardened-rke2-pss.yaml",
        "--audit-log-path=/var/lib/rancher/rke2/server/logs/audit.log",
        "--audit-log-maxage=30",
        "--audit-log-maxbackup=10",
        "--audit-log-maxsize=100",
        "--encryption-provider-config=/var/lib/rancher/rke2/server/cred/encryption-config.json",
      ],
      "kube-controller-manager": ["--terminated-pod-gc-threshold=1000"],
    },
    files: {
      "/etc/rancher/rke2/config.yaml": rootFile,
      "/etc/rancher/rke2/cluster-token": rootFile,
      "/etc/rancher/rke2/audit-policy.yaml": rootFile,
      "/etc/rancher/rke2/hardened-rke2-pss.yaml": rootFile,
    },
    encryptionConfig: JSON.stringify({
      kind: "EncryptionConfiguration",
      apiVersion: "apiserver.config.k8s.io/v1",
      resources: [{ resources: ["secrets"], providers: [{ aescbc: { keys: [] } }, { identity: {} }] }],
    }),
  };
}

const verdicts = (f: HostFacts) =>
  hostChecks(spec, f).map((r) => `${r.id} ${r.pass ? "PASS" : "FAIL"} ${r.title}`);

describe("hostChecks", () => {
  it("passes a server as rendered, with CIS 1.12 control IDs", () => {
    expect(verdicts(healthy())).toEqual([
      "1.2.16 PASS --audit-log-path is set",
      "1.2.17 PASS --audit-log-maxage is 30 or more",
      "1.2.18 PASS --audit-log-maxbackup is 10 or more",
      "1.2.19 PASS --audit-log-maxsize is 100 or more",
      "1.2.27–1.2.28 PASS --encryption-provider-config is set and encrypts Secrets",
      "3.2.1 PASS --audit-policy-file is set",
      "5.2.1 PASS --admission-control-config-file is set",
      "1.3.1 PASS --terminated-pod-gc-threshold is set",
      "1.1.x PASS /etc/rancher/rke2/config.yaml is 600 or stricter and root:root",
      "1.1.x PASS /etc/rancher/rke2/cluster-token is 600 or stricter and root:root",
      "1.1.x PASS /etc/rancher/rke2/audit-policy.yaml is 600 or stricter and root:root",
      "1.1.x PASS /etc/rancher/rke2/hardened-rke2-pss.yaml is 600 or stricter and root:root",
    ]);
  });

  it("fails a weakened flag, a stopped process and a readable file, saying which", () => {
    const f = healthy();
    f.processes["kube-apiserver"] = f.processes["kube-apiserver"]?.map((a) =>
      a.startsWith("--audit-log-maxage") ? "--audit-log-maxage=7" : a,
    );
    delete f.processes["kube-controller-manager"];
    f.files["/etc/rancher/rke2/cluster-token"] = { mode: 0o100644, uid: 0, gid: 0 };
    const failed = hostChecks(spec, f)
      .filter((r) => !r.pass)
      .map((r) => `${r.id}: ${r.detail}`);
    expect(failed).toEqual([
      "1.2.17: --audit-log-maxage=7",
      "1.3.1: kube-controller-manager is not running",
      "1.1.x: mode 644, owner 0:0",
    ]);
  });

  it("reads a flag given twice as the process does, by its last value (RKE2's default first, the config's after)", () => {
    const f = healthy();
    f.processes["kube-apiserver"] = [...(f.processes["kube-apiserver"] ?? []), "--audit-log-maxage=7"];
    const failed = hostChecks(spec, f)
      .filter((r) => !r.pass)
      .map((r) => `${r.id}: ${r.detail}`);
    expect(failed).toEqual(["1.2.17: --audit-log-maxage=7"]);
  });

  it("fails Secrets left in plain text: no encryption flag, or identity first for secrets", () => {
    const f = healthy();
    const encryptionFail = (facts: HostFacts) =>
      hostChecks(spec, facts)
        .filter((r) => !r.pass)
        .map((r) => `${r.id}: ${r.detail}`);
    f.encryptionConfig = JSON.stringify({
      resources: [{ resources: ["secrets"], providers: [{ identity: {} }, { aescbc: { keys: [] } }] }],
    });
    expect(encryptionFail(f)).toEqual(["1.2.27–1.2.28: Secrets written with identity"]);
    f.processes["kube-apiserver"] = f.processes["kube-apiserver"]?.filter(
      (a) => !a.startsWith("--encryption-provider-config"),
    );
    expect(encryptionFail(f)).toEqual(["1.2.27–1.2.28: kube-apiserver runs without the flag"]);
  });
});

describe("hostChecks on K3s, from K3s's log", () => {
  const k3s = specOf({ ...existingConfig(), distribution: "k3s", version: "v1.33.5+k3s1" });
  const logged = (component: string, args: string[]) =>
    `Dec 07 09:00:00 s1 k3s[811]: time="2026-12-07T09:00:00Z" level=info msg="Running ${component} ${args.join(" ")}"`;
  const api = [
    "--admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml",
    "--audit-log-maxage=30",
    "--audit-log-maxbackup=10",
    "--audit-log-maxsize=100",
    "--audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log",
    "--audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml",
    "--encryption-provider-config=/var/lib/rancher/k3s/server/cred/encryption-config.json",
  ];
  const log = [
    logged("kube-apiserver", ["--audit-log-maxage=7"]), // an earlier start: the last line is the one in force
    'time="2026-12-07T09:00:01Z" level=info msg="Waiting for API server to become available"',
    logged("kube-apiserver", api),
    logged("kube-controller-manager", ["--profiling=false", "--terminated-pod-gc-threshold=10"]),
  ].join("\n");

  it("reads each component's flags from the last line K3s logged for it, with or without journald's prefix", () => {
    expect(k3sComponentArgs(log, "kube-apiserver")).toEqual(api);
    expect(k3sComponentArgs(log, "kube-controller-manager")).toEqual([
      "--profiling=false",
      "--terminated-pod-gc-threshold=10",
    ]);
    expect(k3sComponentArgs("Running kube-apiserver --a=1 --b=2\n", "kube-apiserver")).toEqual([
      "--a=1",
      "--b=2",
    ]);
    expect(k3sComponentArgs(log, "kube-scheduler")).toBeUndefined();
  });

  it("passes a K3s server as rendered, under the K3s benchmark's IDs and K3s's own file paths", () => {
    const facts: HostFacts = {
      processes: {
        "kube-apiserver": k3sComponentArgs(log, "kube-apiserver"),
        "kube-controller-manager": k3sComponentArgs(log, "kube-controller-manager"),
      },
      files: Object.fromEntries(
        [
          "/etc/rancher/k3s/config.yaml",
          "/etc/rancher/k3s/cluster-token",
          "/var/lib/rancher/k3s/server/audit.yaml",
          "/var/lib/rancher/k3s/server/psa.yaml",
        ].map((f) => [f, rootFile]),
      ),
      encryptionConfig: healthy().encryptionConfig,
    };
    const results = hostChecks(k3s, facts);
    expect(results.filter((r) => !r.pass)).toEqual([]);
    expect(results.map((r) => `${r.id} ${r.title}`).slice(-4)).toEqual([
      "1.1.x /etc/rancher/k3s/config.yaml is 600 or stricter and root:root",
      "1.1.x /etc/rancher/k3s/cluster-token is 600 or stricter and root:root",
      "1.1.x /var/lib/rancher/k3s/server/audit.yaml is 600 or stricter and root:root",
      "1.1.x /var/lib/rancher/k3s/server/psa.yaml is 600 or stricter and root:root",
    ]);
    // K3s prepends no audit flag of its own: a flag config.yaml leaves out is absent from the line.
    facts.processes["kube-apiserver"] = api.filter((a) => !a.startsWith("--audit-log-maxage="));
    expect(
      hostChecks(k3s, facts)
        .filter((r) => !r.pass)
        .map((r) => `${r.id} ${r.title}: ${r.detail}`),
    ).toEqual(["1.2.17 --audit-log-maxage is 30 or more: kube-apiserver runs without the flag"]);
  });
});

// The operator-side CIS checks over recorded host facts: a server as rendered, then one flag or file broken at a time.
import { hostChecks, type HostFacts } from "../../components/hardening/host-checks";
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

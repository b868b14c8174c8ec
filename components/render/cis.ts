// The CIS control map: every control the RKE2 hardening guide touches, by its ID in the benchmark that applies to the
// stack's RKE2 version, with how this stack satisfies it and where an auditor can see it. Control IDs come from
// kube-bench and rancher/security-scan (../shared/research/FACTS.md §7): the audit and encryption rows shift between
// benchmark versions, the others do not.
import type { ClusterSpec } from "../spec/types";
import type { Benchmark } from "../spec/version";
import { PATHS } from "./files";
import { TERMINATED_POD_GC_THRESHOLD } from "./rke2";

export type Means = "RKE2 profile" | "rendered file" | "in-cluster object" | "operator";

export interface ControlRow {
  id: string;
  title: string;
  means: Means;
  where: string;
}

/** IDs per benchmark family: [rke2-cis-1.7, rke2-cis-1.8, CIS 1.9–1.12]. */
type Ids = readonly [string, string, string];

function pick(ids: Ids, benchmark: Benchmark): string {
  switch (benchmark) {
    case "rke2-cis-1.7":
      return ids[0];
    case "rke2-cis-1.8":
      return ids[1];
    case "cis-1.9":
    case "cis-1.10":
    case "cis-1.11":
    case "cis-1.12":
      return ids[2];
    default: {
      const never: never = benchmark;
      throw new Error(`unknown benchmark ${String(never)}`);
    }
  }
}

const same = (id: string): Ids => [id, id, id];

export function controlMap(spec: ClusterSpec): ControlRow[] {
  const b = spec.benchmark;
  const apiArgs = `${PATHS.config} (kube-apiserver-arg)`;
  const rows: (Omit<ControlRow, "id"> & { ids: Ids })[] = [
    {
      ids: same("1.1.1–1.1.8"),
      title: "Control-plane static pod manifests are 600 and root:root",
      means: "RKE2 profile",
      where: "/var/lib/rancher/rke2/agent/pod-manifests/*.yaml",
    },
    {
      ids: same("1.1.11"),
      title: "etcd data directory is 700",
      means: "RKE2 profile",
      where: "/var/lib/rancher/rke2/server/db/etcd",
    },
    {
      ids: same("1.1.12"),
      title: "etcd data directory is owned by etcd:etcd",
      means: "rendered file",
      where: `${PATHS.scriptsDir}/20-etcd-user.sh (etcd user and group; RKE2 then chowns the data dir)`,
    },
    {
      ids: same("1.1.13–1.1.18"),
      title: "admin, scheduler and controller-manager kubeconfigs are 600 and root:root",
      means: "RKE2 profile",
      where:
        "/var/lib/rancher/rke2/server/cred/*.kubeconfig; admin kubeconfig mode 0600 via write-kubeconfig-mode",
    },
    {
      ids: same("1.1.19–1.1.21"),
      title: "PKI directory root-owned, certificates 644, keys 600",
      means: "RKE2 profile",
      where: "/var/lib/rancher/rke2/server/tls",
    },
    {
      ids: ["1.2.18", "1.2.17", "1.2.16"],
      title: "--audit-log-path is set",
      means: "rendered file",
      where: `${apiArgs}: audit-log-path=${spec.audit.logPath}`,
    },
    {
      ids: ["1.2.19", "1.2.18", "1.2.17"],
      title: "--audit-log-maxage is 30 or more",
      means: "rendered file",
      where: `${apiArgs}: audit-log-maxage=${spec.audit.maxAge}`,
    },
    {
      ids: ["1.2.20", "1.2.19", "1.2.18"],
      title: "--audit-log-maxbackup is 10 or more",
      means: "rendered file",
      where: `${apiArgs}: audit-log-maxbackup=${spec.audit.maxBackup}`,
    },
    {
      ids: ["1.2.21", "1.2.20", "1.2.19"],
      title: "--audit-log-maxsize is 100 or more",
      means: "rendered file",
      where: `${apiArgs}: audit-log-maxsize=${spec.audit.maxSize}`,
    },
    {
      ids: ["1.2.29", "1.2.28", "1.2.27–1.2.28"],
      title: "--encryption-provider-config is set and its providers are appropriate",
      means: "rendered file",
      where: `${PATHS.config}: secrets-encryption: true (RKE2 writes server/cred/encryption-config.json, aescbc)`,
    },
    {
      ids: same("1.3.1"),
      title: "--terminated-pod-gc-threshold is set",
      means: "rendered file",
      where: `${PATHS.config} (kube-controller-manager-arg): terminated-pod-gc-threshold=${TERMINATED_POD_GC_THRESHOLD}`,
    },
    {
      ids: same("2.1–2.7"),
      title: "etcd serves and peers over TLS with client-certificate auth and its own CA",
      means: "RKE2 profile",
      where: "/var/lib/rancher/rke2/server/db/etcd/config",
    },
    {
      ids: same("3.2.1"),
      title: "A minimal audit policy is created",
      means: "rendered file",
      where:
        spec.audit.policyFile !== undefined
          ? `${PATHS.auditPolicy} (the operator's ${spec.audit.policyFile})`
          : `${PATHS.auditPolicy} (Metadata or above for every request)`,
    },
    {
      ids: same("3.2.2"),
      title: "The audit policy covers key security concerns",
      means: "rendered file",
      where: `${PATHS.auditPolicy}: secrets and tokens at Metadata, RBAC and exec at Request`,
    },
    {
      ids: ["4.1.x", "4.1.1–4.1.10", "4.1.1–4.1.10"],
      title: "kubelet service, kubeconfig and client CA files are 600 and root:root",
      means: "RKE2 profile",
      where: "/var/lib/rancher/rke2/agent/{kubelet,kubeproxy}.kubeconfig, client-ca.crt",
    },
    {
      ids: same("4.2.x"),
      title:
        "kubelet: anonymous auth off, Webhook authorization, client CA, read-only port 0, iptables chains",
      means: "RKE2 profile",
      where: "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d/00-rke2-defaults.conf",
    },
    {
      ids: same("host"),
      title:
        "Kernel parameters vm.panic_on_oom=0, vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1 (RKE2 refuses to start under the CIS profile without them)",
      means: "rendered file",
      where: `${PATHS.sysctl}, applied by ${PATHS.scriptsDir}/10-sysctl.sh`,
    },
    {
      ids: same("5.1.1–5.1.4"),
      title: "RBAC: cluster-admin, secrets access, wildcards and pod creation are granted sparingly",
      means: "operator",
      where: "review the RoleBindings your workloads add; the stack grants none",
    },
    {
      ids: same("5.1.5"),
      title: "Default service accounts are not used (automountServiceAccountToken: false)",
      means: "in-cluster object",
      where: spec.admissionGuard.enabled
        ? "manifests/serviceaccounts.yaml: default SA in every built-in and managed namespace; manifests/admission.yaml: other namespaces refuse pods mounting the default SA's token"
        : "manifests/serviceaccounts.yaml: default SA in every built-in and managed namespace",
    },
    {
      ids: same("5.2.1"),
      title: "At least one active policy control mechanism (Pod Security Admission)",
      means: "rendered file",
      where: `${PATHS.podSecurity}: enforce restricted cluster-wide`,
    },
    {
      ids: same("5.2.2–5.2.9"),
      title:
        "No privileged, host-namespace, privilege-escalating, root, NET_RAW or added-capability containers",
      means: "rendered file",
      where: `${PATHS.podSecurity} (restricted) and managed namespaces' pod-security labels; exemptions in CIS.md below`,
    },
    {
      ids: same("5.3.1"),
      title: "The CNI supports NetworkPolicies",
      means: "rendered file",
      where: `${PATHS.config}: cni: ${spec.cni}`,
    },
    {
      ids: same("5.3.2"),
      title: "All namespaces have NetworkPolicies",
      means: "in-cluster object",
      where:
        "manifests/networkpolicies.yaml: every built-in and managed namespace; namespaces created outside the stack are the operator's (add them to the stack)",
    },
    {
      ids: same("5.4.1"),
      title: "Secrets are mounted as files rather than environment variables",
      means: "operator",
      where: "workload manifests",
    },
    {
      ids: same("5.7.1"),
      title: "Namespaces draw administrative boundaries",
      means: "in-cluster object",
      where: "manifests/namespaces.yaml: managed namespaces with their own policies",
    },
  ];
  return rows.map(({ ids, ...rest }) => ({ id: pick(ids, b), ...rest }));
}

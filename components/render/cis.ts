// CIS.md's control map: every control of the catalogue (components/spec/cis-catalogue.ts) the stack lists, by its ID
// in the benchmark of the stack's RKE2 version, with how this stack satisfies it and where an auditor can see it.
import { CATALOGUE, CONTROL_KEYS, cisId, type ControlKey, type Means } from "../spec/cis-catalogue";
import { CNI_CHART, disabledCharts, ingressPorts, overriddenCharts, type AddonChart } from "../spec/addons";
import type { ClusterSpec } from "../spec/types";
import { addonManifestPath } from "./addons";
import { PATHS } from "./files";
import { TERMINATED_POD_GC_THRESHOLD } from "./rke2";

export type { Means } from "../spec/cis-catalogue";

export interface ControlRow {
  /** The catalogue key: the same control in every output. */
  key: ControlKey;
  id: string;
  title: string;
  means: Means;
  where: string;
}

type Listed = Exclude<
  ControlKey,
  | "productFiles"
  | "protectKernelDefaults"
  | "podSecurityLabels"
  | "privilegedContainers"
  | "rootContainers"
  | "fips"
>;

/** What the add-on overrides change in the kube-system exceptions (empty when the stack overrides nothing there). */
function addonPolicyNotes(spec: ClusterSpec, overridden: AddonChart[]): string {
  const notes: string[] = [];
  for (const chart of disabledCharts(spec.addons)) {
    notes.push(`${chart} disabled (${PATHS.config}: disable), so its kube-system exception is not rendered`);
  }
  if (overridden.includes("rke2-ingress-nginx")) {
    notes.push(
      `${addonManifestPath("rke2-ingress-nginx")}: allow-ingress-controller opens the chart's ports ${ingressPorts(spec.addons).join(", ")}`,
    );
  }
  if (overridden.includes("rke2-metrics-server")) {
    notes.push(`${addonManifestPath("rke2-metrics-server")}: allow-metrics-server admits every port`);
  }
  return notes.map((n) => `; ${n}`).join("");
}

/** Where in this stack's render an auditor sees each listed control. */
function whereOf(spec: ClusterSpec): Record<Listed, string> {
  const apiArgs = `${PATHS.config} (kube-apiserver-arg)`;
  const overridden = overriddenCharts(spec.addons).map((o) => o.chart);
  return {
    podManifests: "/var/lib/rancher/rke2/agent/pod-manifests/*.yaml",
    etcdDataDirMode: "/var/lib/rancher/rke2/server/db/etcd",
    etcdDataDirOwner: `${PATHS.scriptsDir}/20-etcd-user.sh (etcd user and group; RKE2 then chowns the data dir)`,
    credentialKubeconfigs:
      "/var/lib/rancher/rke2/server/cred/*.kubeconfig; admin kubeconfig mode 0600 via write-kubeconfig-mode",
    pki: "/var/lib/rancher/rke2/server/tls",
    auditLogPath: `${apiArgs}: audit-log-path=${spec.audit.logPath}`,
    auditLogMaxAge: `${apiArgs}: audit-log-maxage=${spec.audit.maxAge}`,
    auditLogMaxBackup: `${apiArgs}: audit-log-maxbackup=${spec.audit.maxBackup}`,
    auditLogMaxSize: `${apiArgs}: audit-log-maxsize=${spec.audit.maxSize}`,
    encryption: `${PATHS.config}: secrets-encryption: true (RKE2 writes server/cred/encryption-config.json, aescbc)`,
    terminatedPodGc: `${PATHS.config} (kube-controller-manager-arg): terminated-pod-gc-threshold=${TERMINATED_POD_GC_THRESHOLD}`,
    etcdTls: "/var/lib/rancher/rke2/server/db/etcd/config",
    auditPolicy:
      spec.audit.policyFile !== undefined
        ? `${PATHS.auditPolicy} (the operator's ${spec.audit.policyFile})`
        : `${PATHS.auditPolicy} (Metadata or above for every request)`,
    auditPolicyCoverage: `${PATHS.auditPolicy}: secrets and tokens at Metadata, RBAC and exec at Request`,
    kubeletFiles: "/var/lib/rancher/rke2/agent/{kubelet,kubeproxy}.kubeconfig, client-ca.crt",
    kubeletFlags: "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d/00-rke2-defaults.conf",
    kernelParameters: `${PATHS.sysctl}, applied by ${PATHS.scriptsDir}/10-sysctl.sh`,
    rbac: "review the RoleBindings your workloads add; the stack grants none",
    defaultServiceAccounts: spec.admissionGuard.enabled
      ? "manifests/serviceaccounts.yaml: default SA in every built-in and managed namespace; manifests/admission.yaml: other namespaces refuse pods mounting the default SA's token"
      : "manifests/serviceaccounts.yaml: default SA in every built-in and managed namespace",
    policyControl: `${PATHS.podSecurity}: enforce restricted cluster-wide`,
    restrictedPods: `${PATHS.podSecurity} (restricted) and managed namespaces' pod-security labels; exemptions in CIS.md below`,
    cniNetworkPolicy:
      `${PATHS.config}: cni: ${spec.cni}` +
      (overridden.includes(CNI_CHART[spec.cni])
        ? `; ${addonManifestPath(CNI_CHART[spec.cni])} (values checked to keep NetworkPolicy enforcement on)`
        : ""),
    namespaceNetworkPolicies:
      "manifests/networkpolicies.yaml: every built-in and managed namespace; namespaces created outside the stack are the operator's (add them to the stack)" +
      addonPolicyNotes(spec, overridden),
    secretsAsFiles: "workload manifests",
    namespaceBoundaries: "manifests/namespaces.yaml: managed namespaces with their own policies",
  };
}

export function controlMap(spec: ClusterSpec): ControlRow[] {
  const where = whereOf(spec);
  return CONTROL_KEYS.filter((key): key is Listed => CATALOGUE[key].listed).map((key) => ({
    key,
    id: cisId(key, spec.benchmark),
    title: CATALOGUE[key].title,
    means: CATALOGUE[key].satisfiedBy,
    where: where[key],
  }));
}

// CIS.md's control map: one row per control of the stack's benchmark (components/spec/cis-catalogue.ts), by its ID
// there and the ID plain kube-bench's auto-detected benchmark gives the same control, with how this stack satisfies
// it, where an auditor sees that, and what verifies it; then the product's own checks that are no benchmark control.
import {
  BENCHMARK_CONTROLS,
  CATALOGUE,
  CONTROL_KEYS,
  HOST_AUDITS,
  hostAuditsOf,
  K3S_NOT_APPLICABLE,
  NOT_CHECKED,
  checkedBy,
  keyOf,
  satisfiedBy,
  type Audit,
  type Checker,
  type ControlKey,
  type Means,
} from "../spec/cis-catalogue";
import { CNI_CHART, disabledCharts, ingressPorts, overriddenCharts, type AddonChart } from "../spec/addons";
import type { ClusterSpec } from "../spec/types";
import { kubeBenchFor, needsExplicitTokenExpirationFlag } from "../spec/version";
import { addonManifestPath } from "./addons";
import { pathsFor } from "./files";
import { DISTRIBUTION } from "../spec/distribution";
import { apiServerArgs, kubeletArgs } from "./rke2";

export type { Means } from "../spec/cis-catalogue";

export interface ControlRow {
  /** The catalogue key, where the product names the control in code. */
  key?: ControlKey;
  /** Its ID in the stack's benchmark. */
  id: string;
  /** Its ID in the benchmark plain kube-bench auto-detects ("-" where that benchmark lacks it). */
  kubeBenchId: string;
  title: string;
  /** Automated in the stack's benchmark (kube-bench scores it), or Manual; false for the product's own checks. */
  automated: boolean;
  means: Means;
  where: string;
  verifiedBy: string;
}

/** What the add-on overrides change in the kube-system exceptions (empty when the stack overrides nothing there). */
function addonPolicyNotes(spec: ClusterSpec, overridden: AddonChart[]): string {
  const notes: string[] = [];
  for (const chart of disabledCharts(spec.addons)) {
    notes.push(
      `${chart} disabled (${pathsFor(spec.distribution).config}: disable), so its kube-system exception is not rendered`,
    );
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

/** Where the CNI that enforces NetworkPolicy is chosen (CIS 5.3.1). */
function cniWhere(spec: ClusterSpec, overridden: AddonChart[]): string {
  const paths = pathsFor(spec.distribution);
  // K3s: flannel plus its embedded network policy controller, on unless `disable-network-policy` is set, which the
  // product never writes (K3s hardening guide, "NetworkPolicies").
  if (spec.cni === "flannel")
    return `${paths.config}: no disable-network-policy (K3s's embedded network policy controller enforces NetworkPolicy with flannel)`;
  const chart = CNI_CHART[spec.cni];
  return (
    `${paths.config}: cni: ${spec.cni}` +
    (chart && overridden.includes(chart)
      ? `; ${addonManifestPath(chart)} (values checked to keep NetworkPolicy enforcement on)`
      : "")
  );
}

/** Where in this stack's render an auditor sees each listed control. */
function whereOf(spec: ClusterSpec): Record<ControlKey, string> {
  const apiArgs = `${pathsFor(spec.distribution).config} (kube-apiserver-arg)`;
  const overridden = overriddenCharts(spec.addons).map((o) => o.chart);
  return {
    etcdDataDirOwner: `${pathsFor(spec.distribution).scriptsDir}/20-etcd-user.sh (etcd user and group; RKE2 then chowns the data dir)`,
    credentialKubeconfigs: `${pathsFor(spec.distribution).config}: write-kubeconfig-mode: "0600" (server/cred/admin.kubeconfig)`,
    auditLogPath: `${apiArgs}: audit-log-path=${spec.audit.logPath}`,
    auditLogMaxAge: `${apiArgs}: audit-log-maxage=${spec.audit.maxAge}`,
    auditLogMaxBackup: `${apiArgs}: audit-log-maxbackup=${spec.audit.maxBackup}`,
    auditLogMaxSize: `${apiArgs}: audit-log-maxsize=${spec.audit.maxSize}`,
    encryption: `${pathsFor(spec.distribution).config}: secrets-encryption: true (${DISTRIBUTION[spec.distribution].title} writes server/cred/encryption-config.json, aescbc)`,
    tokenExpiration: needsExplicitTokenExpirationFlag(spec.version)
      ? `${apiArgs}: service-account-extend-token-expiration=false`
      : "RKE2 sets --service-account-extend-token-expiration=false itself under the CIS profile from this release",
    terminatedPodGc: `${pathsFor(spec.distribution).config} (kube-controller-manager-arg): terminated-pod-gc-threshold=${DISTRIBUTION[spec.distribution].terminatedPodGcThreshold}`,
    auditPolicy:
      spec.audit.policyFile !== undefined
        ? `${pathsFor(spec.distribution).auditPolicy} (the operator's ${spec.audit.policyFile})`
        : `${pathsFor(spec.distribution).auditPolicy} (Metadata or above for every request)`,
    auditPolicyCoverage: `${pathsFor(spec.distribution).auditPolicy}: secrets and tokens at Metadata, RBAC and exec at Request`,
    kubeletCiphers: `${pathsFor(spec.distribution).config} (kubelet-arg, servers and agents): ${kubeletArgs(spec)[0]}`,
    kernelParameters: `${pathsFor(spec.distribution).sysctl}, applied by ${pathsFor(spec.distribution).scriptsDir}/10-sysctl.sh`,
    defaultServiceAccounts: spec.admissionGuard.enabled
      ? "manifests/serviceaccounts.yaml: default SA in every built-in and managed namespace; manifests/admission.yaml: other namespaces refuse pods mounting the default SA's token"
      : "manifests/serviceaccounts.yaml: default SA in every built-in and managed namespace",
    policyControl: `${pathsFor(spec.distribution).podSecurity}: enforce restricted cluster-wide`,
    podSecurityLabels:
      "manifests/namespaces.yaml: pod-security.kubernetes.io/enforce on every managed namespace",
    restrictedPods: `${pathsFor(spec.distribution).podSecurity} (restricted) and managed namespaces' pod-security labels; exemptions in CIS.md below`,
    privilegedContainers: `${pathsFor(spec.distribution).podSecurity} (restricted refuses privileged pods); exemptions in CIS.md below`,
    rootContainers: `${pathsFor(spec.distribution).podSecurity} (restricted requires runAsNonRoot); exemptions in CIS.md below`,
    cniNetworkPolicy: cniWhere(spec, overridden),
    namespaceNetworkPolicies:
      "manifests/networkpolicies.yaml: every built-in and managed namespace; namespaces created outside the stack are the operator's (add them to the stack)" +
      addonPolicyNotes(spec, overridden),
    namespaceBoundaries: "manifests/namespaces.yaml: managed namespaces with their own policies",
    productFiles: `${pathsFor(spec.distribution).config}, ${pathsFor(spec.distribution).token}, ${pathsFor(spec.distribution).auditPolicy}, ${pathsFor(spec.distribution).podSecurity}: 0600 root:root`,
    protectKernelDefaults: `${pathsFor(spec.distribution).config}: protect-kernel-defaults: true`,
    fips: spec.fips ? "fips: true: the FIPS kernel and module steps" : "fips: false (not checked)",
  };
}

/** What an audit reads, for the `where` of a control RKE2's profile satisfies. */
function describe(a: Audit): string {
  const expect = (op: string, value?: string) =>
    op === "set"
      ? "set"
      : op === "unset"
        ? "not set"
        : `${op.replace("|unset", " (or unset)")} ${value ?? ""}`.trim();
  switch (a.kind) {
    case "mode":
      return `${a.path} mode ${a.max} or stricter`;
    case "owner":
      return `${a.path} owned by ${a.owner}`;
    case "flag":
      return `${a.process} --${a.flag} ${expect(a.op, a.value)}`;
    case "kubelet":
      return `kubelet ${a.flag ? `--${a.flag} or ` : ""}${a.key} ${expect(a.op, a.value)}`;
    case "etcd":
      return `etcd config ${a.key} ${expect(a.op, a.value)}`;
    case "encryption":
      return `encryption config: Secrets written with one of ${a.allowed}`;
  }
}

const CHECKER_TEXT: Record<Checker, string> = {
  "host check": "host check (<node>-cis step)",
  verification: "in-cluster verification",
  schema: "config schema",
  policy: "policy pack",
};

function verifiedText(checkers: readonly Checker[], automated: boolean): string {
  if (checkers.length === 0) return automated ? "not verified" : "operator review (manual)";
  return [...new Set(checkers)].map((c) => CHECKER_TEXT[c]).join("; ");
}

/**
 * A K3s row the catalogue has no product key for: Not Applicable where K3s's self-assessment says so; a flag the
 * stack's config renders (the hardening guide's kube-apiserver and kubelet arguments); else K3s's own default, which
 * its self-assessment guide checks (the audits read the same flags; paths are under /var/lib/rancher/k3s).
 */
function k3sRow(spec: ClusterSpec, id112: string): { means: Means; where: string } | undefined {
  const reason = K3S_NOT_APPLICABLE[id112];
  if (reason !== undefined) return { means: "not applicable", where: reason };
  const config = pathsFor(spec.distribution).config;
  const rendered = [
    ...apiServerArgs(spec).map((a) => ({ arg: a, key: "kube-apiserver-arg" })),
    ...kubeletArgs(spec).map((a) => ({ arg: a, key: "kubelet-arg" })),
  ];
  const audits = hostAuditsOf("k3s")[id112] ?? [];
  const flags = audits.flatMap((a) => (a.kind === "flag" || a.kind === "kubelet" ? [a.flag] : []));
  // Controls with no host audit whose flag the K3s config renders: EventRateLimit (the plugin list) and the request
  // timeout (its audit passes any value, so there is none).
  const extra: Record<string, string> = { "1.2.9": "enable-admission-plugins", "1.2.20": "request-timeout" };
  if (extra[id112] !== undefined) flags.push(extra[id112]);
  const hit = rendered.find((r) => flags.some((f) => f !== "" && r.arg.startsWith(`${f}=`)));
  if (hit) return { means: "rendered file", where: `${config} (${hit.key}): ${hit.arg}` };
  if (audits.length === 0) return undefined;
  return {
    means: "K3s itself",
    where: audits.map(describe).join("; "),
  };
}

export function controlMap(spec: ClusterSpec): ControlRow[] {
  const where = whereOf(spec);
  const kb = kubeBenchFor(spec.version);
  const d = DISTRIBUTION[spec.distribution];
  // Without the host-check step (K3s for now) a control is verified only by what else checks it.
  const checkers = (list: readonly Checker[]) => list.filter((c) => d.hostChecks || c !== "host check");
  const benchmarkRows = BENCHMARK_CONTROLS.filter((c) => c.ids[spec.benchmark] !== "-").map((c) => {
    const id112 = c.ids["rke2-cis-1.12"];
    const k3s = spec.distribution === "k3s" ? k3sRow(spec, id112) : undefined;
    const key = k3s?.means === "not applicable" ? undefined : keyOf(id112);
    if (k3s && (!key || k3s.means === "not applicable")) {
      return {
        id: c.ids[spec.benchmark],
        kubeBenchId: c.ids[kb],
        title: c.title,
        automated: c.automated,
        means: k3s.means,
        where: k3s.where,
        verifiedBy:
          k3s.means === "not applicable"
            ? "not applicable (K3s self-assessment)"
            : verifiedText(checkers(checkedBy(c)), c.automated),
      };
    }
    const profile = satisfiedBy(c);
    // What RKE2's profile does there, K3s does by itself (its self-assessment checks the same audits).
    const means: Means = profile === "RKE2 profile" && !d.hasProfile ? "K3s itself" : profile;
    const audits = HOST_AUDITS[id112] ?? [];
    return {
      ...(key ? { key } : {}),
      id: c.ids[spec.benchmark],
      kubeBenchId: c.ids[kb],
      title: c.title,
      automated: c.automated,
      means,
      where: key
        ? where[key]
        : NOT_CHECKED[id112] !== undefined
          ? `${d.title}'s own way of running the component`
          : means === "RKE2 profile"
            ? audits.map(describe).join("; ")
            : "left to the operator's review",
      verifiedBy:
        NOT_CHECKED[id112] !== undefined
          ? `not checked: ${NOT_CHECKED[id112]}`
          : verifiedText(checkers(checkedBy(c)), c.automated),
    };
  });
  const own = CONTROL_KEYS.filter((k) => CATALOGUE[k].refs.length === 0).map((key) => ({
    key,
    id: CATALOGUE[key].ids[spec.benchmark],
    kubeBenchId: CATALOGUE[key].ids[kb],
    title: CATALOGUE[key].title,
    automated: false,
    means: CATALOGUE[key].satisfiedBy,
    where: where[key],
    verifiedBy: verifiedText(checkers(CATALOGUE[key].checkedBy), false),
  }));
  return [...benchmarkRows, ...own];
}

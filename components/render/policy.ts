// The API server's audit policy and Pod Security Admission configuration: both read by kube-apiserver only at start,
// so they are written before RKE2 first starts.
import { DISTRIBUTION } from "../spec/distribution";
import type { ClusterSpec } from "../spec/types";
import { pathsFor, rootFile, yamlFile, type NodeFile } from "./files";
import type { RenderInputs } from "./inputs";

/**
 * A CIS-grade audit policy (CIS 3.2.1, 3.2.2): every request is logged at Metadata or above. Health probes are
 * dropped as noise. Secrets, ConfigMaps and token requests stay at Metadata so their values never reach the log;
 * changes to RBAC and to pods' exec/attach are logged with the request body, since they are the actions an incident
 * review needs to reconstruct.
 */
export function auditPolicy(): Record<string, unknown> {
  return {
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["RequestReceived"],
    rules: [
      { level: "None", nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"] },
      {
        level: "Metadata",
        resources: [
          { group: "", resources: ["secrets", "configmaps", "serviceaccounts/token"] },
          { group: "authentication.k8s.io", resources: ["tokenreviews"] },
        ],
      },
      {
        level: "Request",
        verbs: ["create", "update", "patch", "delete", "deletecollection"],
        resources: [
          { group: "rbac.authorization.k8s.io" },
          { group: "", resources: ["pods/exec", "pods/attach", "pods/portforward"] },
        ],
      },
      { level: "Metadata" },
    ],
  };
}

/** PSA exemptions: the stack's reviewed list. kube-system always: RKE2's CNI, ingress and static pods need host
 * access; tigera-operator with Calico, whose operator runs there (RKE2's own CIS list has the same entries). */
export function podSecurityExemptions(spec: ClusterSpec): { namespace: string; reason: string }[] {
  const builtIn = [
    {
      namespace: "kube-system",
      // K3s's guide exempts kube-system too: its bundled CoreDNS, metrics-server, Traefik, svclb and local-path
      // provisioner run there (hardening guide, "Pod Security").
      reason:
        spec.distribution === "k3s"
          ? "K3s's bundled CoreDNS, metrics-server, Traefik, svclb and local-path provisioner pods run here"
          : "RKE2 control plane, CNI, ingress and metrics pods need host access",
    },
  ];
  if (spec.cni === "calico") {
    builtIn.push({
      namespace: "tigera-operator",
      reason: "the Calico operator RKE2 deploys for cni: calico",
    });
  }
  const extra = spec.podSecurity.exemptions.filter((e) => !builtIn.some((b) => b.namespace === e.namespace));
  return [...builtIn, ...extra];
}

/** The Pod Security Admission configuration: `restricted` enforced cluster-wide (CIS 5.2.x). */
/** EventRateLimit's configuration, for distributions whose hardening guide enables the plugin (K3s: CIS 1.2.9): the
 * plugin refuses to start without one. Server-wide limits, the values of the Kubernetes documentation's example. */
const EVENT_RATE_LIMIT = {
  name: "EventRateLimit",
  configuration: {
    apiVersion: "eventratelimit.admission.k8s.io/v1alpha1",
    kind: "Configuration",
    limits: [{ type: "Server", qps: 5000, burst: 20000 }],
  },
};

export function podSecurityConfig(spec: ClusterSpec): Record<string, unknown> {
  return {
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "AdmissionConfiguration",
    plugins: [
      ...(DISTRIBUTION[spec.distribution].eventRateLimit ? [EVENT_RATE_LIMIT] : []),
      {
        name: "PodSecurity",
        configuration: {
          apiVersion: "pod-security.admission.config.k8s.io/v1",
          kind: "PodSecurityConfiguration",
          defaults: {
            enforce: "restricted",
            "enforce-version": "latest",
            audit: "restricted",
            "audit-version": "latest",
            warn: "restricted",
            "warn-version": "latest",
          },
          exemptions: {
            usernames: [],
            runtimeClasses: [],
            namespaces: podSecurityExemptions(spec).map((e) => e.namespace),
          },
        },
      },
    ],
  };
}

/** Servers only: the audit policy (the operator's own file when the stack names one) and the PSA config. */
export function renderPolicyFiles(spec: ClusterSpec, inputs: RenderInputs): NodeFile[] {
  const audit =
    spec.audit.policyFile !== undefined
      ? inputs.file(spec.audit.policyFile)
      : yamlFile("API audit policy (CIS 3.2.1): Metadata or above for every request.", auditPolicy());
  const exemptions = podSecurityExemptions(spec)
    .map((e) => `exempt ${e.namespace}: ${e.reason}`)
    .join("\n");
  return [
    rootFile(pathsFor(spec.distribution).auditPolicy, "0600", audit, "API audit policy (CIS 3.2.1)"),
    rootFile(
      pathsFor(spec.distribution).podSecurity,
      "0600",
      yamlFile(
        `Pod Security Admission: restricted everywhere (CIS 5.2).\n${exemptions}`,
        podSecurityConfig(spec),
      ),
      "pod security admission config (CIS 5.2)",
    ),
  ];
}

// Policies over the in-cluster objects: pod security labels, default ServiceAccounts and workloads.
import { stableCisId } from "../../components/spec/cis-catalogue";
import type { ResourceValidationPolicy } from "@pulumi/policy";

export const namespacePodSecurity: ResourceValidationPolicy = {
  name: "k8s-namespace-pod-security",
  description: "Namespaces the stack creates enforce Pod Security; privileged needs a recorded reason.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== "kubernetes:core/v1:Namespace") return;
    const meta = (args.props.metadata ?? {}) as {
      name?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    };
    const enforce = meta.labels?.["pod-security.kubernetes.io/enforce"];
    if (enforce === undefined) {
      report(
        `namespace ${meta.name ?? args.name} has no pod-security.kubernetes.io/enforce label; set it to restricted (CIS ${stableCisId("podSecurityLabels")})`,
      );
    } else if (enforce === "privileged" && !meta.annotations?.["hardened-rke2/pod-security-reason"]) {
      report(
        `namespace ${meta.name ?? args.name} enforces privileged without a hardened-rke2/pod-security-reason (CIS ${stableCisId("podSecurityLabels")})`,
      );
    }
  },
};

export const defaultServiceAccountAutomount: ResourceValidationPolicy = {
  name: "k8s-default-sa-automount-off",
  description: "Default ServiceAccounts are patched with automountServiceAccountToken: false, never owned.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const meta = (args.props.metadata ?? {}) as { name?: string; namespace?: string };
    if (meta.name !== "default") return;
    if (args.type === "kubernetes:core/v1:ServiceAccount") {
      report(
        `default ServiceAccount in ${meta.namespace ?? "?"} is owned by the stack; patch it (ServiceAccountPatch) so destroy never deletes it`,
      );
    }
    if (
      args.type === "kubernetes:core/v1:ServiceAccountPatch" &&
      args.props.automountServiceAccountToken !== false
    ) {
      report(
        `default ServiceAccount in ${meta.namespace ?? "?"} keeps token automount; set automountServiceAccountToken: false (CIS ${stableCisId("defaultServiceAccounts")})`,
      );
    }
  },
};

const WORKLOADS: Record<string, (props: Record<string, unknown>) => unknown> = {
  "kubernetes:core/v1:Pod": (p) => p.spec,
  "kubernetes:apps/v1:Deployment": (p) =>
    (p.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec,
  "kubernetes:apps/v1:DaemonSet": (p) =>
    (p.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec,
  "kubernetes:apps/v1:StatefulSet": (p) =>
    (p.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec,
  "kubernetes:batch/v1:Job": (p) => (p.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec,
};

interface PodSpec {
  securityContext?: { runAsUser?: number; runAsNonRoot?: boolean };
  containers?: { name?: string; securityContext?: { privileged?: boolean; runAsUser?: number } }[];
  initContainers?: { name?: string; securityContext?: { privileged?: boolean; runAsUser?: number } }[];
}

export const noPrivilegedWorkloads: ResourceValidationPolicy = {
  name: "k8s-no-privileged-workloads",
  description: "No workload in the stack runs privileged or as root.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    const specOf = WORKLOADS[args.type];
    if (!specOf) return;
    const spec = (specOf(args.props) ?? {}) as PodSpec;
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      if (c.securityContext?.privileged === true)
        report(
          `${args.name}: container ${c.name ?? "?"} runs privileged (CIS ${stableCisId("privilegedContainers")})`,
        );
      if (c.securityContext?.runAsUser === 0)
        report(
          `${args.name}: container ${c.name ?? "?"} runs as root (CIS ${stableCisId("rootContainers")})`,
        );
    }
    if (spec.securityContext?.runAsUser === 0)
      report(`${args.name}: the pod runs as root (CIS ${stableCisId("rootContainers")})`);
  },
};

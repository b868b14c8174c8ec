// In-cluster hardening (MISSION rows 13–17): the rendered objects applied through one explicit Kubernetes provider
// built from the stack's kubeconfig, after the cluster is ready; then a verification that reads the controls back.
import * as command from "@pulumi/command";
// The submodules used, not the package index: the index loads every API group's module (about 100 ms, the largest part
// of a small stack's evaluation); these four load in a few milliseconds.
import * as admissionregistrationv1 from "@pulumi/kubernetes/admissionregistration/v1";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as networkingv1 from "@pulumi/kubernetes/networking/v1";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { sha256 } from "../render/files";
import { renderClusterObjects, type KubeObject, type RenderedObject } from "../render/kube";
import type { ClusterSpec } from "../spec/types";
import { expectationsOf } from "./verify";

export interface ClusterHardeningArgs {
  spec: ClusterSpec;
  /** The admin kubeconfig (secret); the only credentials any in-cluster object is applied with. */
  kubeconfig: pulumi.Output<string>;
  /** Resources after which the API server answers: every node's readiness. */
  clusterReady: pulumi.Resource[];
  /** The first server's audit log line, read after the objects are applied (the verification's audit evidence). */
  auditSample?: (dependsOn: pulumi.Resource[], trigger: string) => pulumi.Output<string>;
  /** With `fips: true`: each node's FIPS module step output, by node name, which the verification reports. */
  fipsEvidence?: pulumi.Output<Record<string, string>>;
  /** Each node's `cis` step output (its CIS host checks), by node name, which the verification reports by ID. */
  hostChecks?: pulumi.Output<Record<string, string>>;
  /** Folder holding cli/verify.ts (the project folder). */
  projectDir: string;
  /** Whether to verify after applying (a local command running cli/verify.ts); on unless a harness turns it off. */
  verify?: boolean;
}

/** A resource name unique per object: kind, namespace and name. */
export function resourceName(prefix: string, o: KubeObject): string {
  const ns = o.metadata.namespace !== undefined ? `${o.metadata.namespace}-` : "";
  return `${prefix}-${o.kind.toLowerCase()}-${ns}${o.metadata.name}`;
}

export class ClusterHardening extends pulumi.ComponentResource {
  /** The explicit provider every object uses. */
  readonly provider: Provider;
  /** Every applied object, by resource name. */
  readonly objects: Record<string, pulumi.CustomResource>;
  /** PASS/FAIL per CIS control, as read back from the cluster. */
  readonly verification: pulumi.Output<string | undefined>;

  constructor(name: string, args: ClusterHardeningArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rke2:hardening:ClusterHardening", name, {}, opts);
    const { spec } = args;
    this.provider = new Provider(
      `${name}-k8s`,
      // Never an ambient kubeconfig or context: only the stack's own cluster.
      { kubeconfig: args.kubeconfig, suppressDeprecationWarnings: true },
      { parent: this, dependsOn: args.clusterReady },
    );
    const base = { parent: this, provider: this.provider, dependsOn: args.clusterReady };
    const rendered = renderClusterObjects(spec);
    const objects: Record<string, pulumi.CustomResource> = {};
    const namespaces: Record<string, pulumi.CustomResource> = {};

    for (const r of rendered.filter((x) => x.object.kind === "Namespace")) {
      const res = this.apply(name, r, base);
      namespaces[r.object.metadata.name] = res;
      objects[resourceName(name, r.object)] = res;
    }
    let policy: pulumi.CustomResource | undefined;
    for (const r of rendered.filter((x) => x.object.kind !== "Namespace")) {
      const ns = r.object.metadata.namespace;
      const owner = ns !== undefined ? namespaces[ns] : undefined;
      const after = [
        ...args.clusterReady,
        ...(owner ? [owner] : []),
        ...(r.object.kind.endsWith("Binding") && policy ? [policy] : []),
      ];
      const res = this.apply(name, r, { ...base, dependsOn: after });
      if (r.object.kind === "ValidatingAdmissionPolicy") policy = res;
      objects[resourceName(name, r.object)] = res;
    }
    this.objects = objects;

    const applied = Object.values(objects);
    this.verification =
      args.verify === false ? pulumi.output(undefined) : this.verify(name, args, rendered, applied);
    this.registerOutputs({ verification: this.verification });
  }

  /** Reads the controls back from the API server after everything is applied (cli/verify.ts). */
  private verify(
    name: string,
    args: ClusterHardeningArgs,
    rendered: RenderedObject[],
    applied: pulumi.Resource[],
  ): pulumi.Output<string> {
    const { spec } = args;
    const objectsDigest = sha256(JSON.stringify(rendered.map((r) => r.object)));
    const auditLine = args.auditSample ? args.auditSample(applied, objectsDigest) : pulumi.output("");
    const expectations = JSON.stringify(expectationsOf(spec));
    const fipsEvidence = (args.fipsEvidence ?? pulumi.output({})).apply((e) => JSON.stringify(e));
    const hostChecks = (args.hostChecks ?? pulumi.output({})).apply((e) => JSON.stringify(e));
    const verify = new command.local.Command(
      `${name}-verify`,
      {
        create: "./node_modules/.bin/tsx cli/verify.ts",
        dir: args.projectDir,
        stdin: args.kubeconfig,
        environment: {
          HARDENED_RKE2_EXPECT: expectations,
          HARDENED_RKE2_VERIFY_MODE: spec.verification,
          HARDENED_RKE2_AUDIT_LINE: auditLine,
          HARDENED_RKE2_FIPS_EVIDENCE: fipsEvidence,
          HARDENED_RKE2_HOST_CHECKS: hostChecks,
        },
        // Re-verify whenever what is applied (or a node's FIPS evidence or host checks) changes; an unchanged stack is not
        // re-checked on every up.
        triggers: [objectsDigest, expectations, spec.verification, fipsEvidence, hostChecks],
        // An update would otherwise put the previous report in the environment of the next run.
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: applied },
    );
    return verify.stdout;
  }

  private apply(name: string, r: RenderedObject, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    const o = r.object;
    const resName = resourceName(name, o);
    // The rendered objects have exactly the API's shape, which is what each SDK Args type describes.
    const args: unknown = o;
    switch (o.kind) {
      case "Namespace":
        return new corev1.Namespace(resName, args as corev1.NamespaceArgs, opts);
      case "ServiceAccount":
        if (r.mode !== "patch")
          throw new Error(`ServiceAccount ${o.metadata.namespace}/${o.metadata.name} must be a patch`);
        // The cluster owns default ServiceAccounts: the stack only sets automountServiceAccountToken (server-side
        // apply with its own field manager), so destroy or update never deletes or fights them.
        return new corev1.ServiceAccountPatch(
          resName,
          {
            ...(args as corev1.ServiceAccountPatchArgs),
            metadata: { ...o.metadata, annotations: { "pulumi.com/patchForce": "true" } },
          },
          opts,
        );
      case "NetworkPolicy":
        return new networkingv1.NetworkPolicy(resName, args as networkingv1.NetworkPolicyArgs, opts);
      case "ValidatingAdmissionPolicy":
        return new admissionregistrationv1.ValidatingAdmissionPolicy(
          resName,
          args as admissionregistrationv1.ValidatingAdmissionPolicyArgs,
          opts,
        );
      case "ValidatingAdmissionPolicyBinding":
        return new admissionregistrationv1.ValidatingAdmissionPolicyBinding(
          resName,
          args as admissionregistrationv1.ValidatingAdmissionPolicyBindingArgs,
          opts,
        );
      default:
        throw new Error(`no resource for rendered kind ${o.kind}`);
    }
  }
}

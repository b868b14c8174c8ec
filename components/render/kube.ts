// The Kubernetes objects of the in-cluster hardening, as plain objects: the offline render writes them as YAML and
// the hardening component turns each into a resource. Names start with `hardened-rke2-` so they never collide with
// the policies RKE2 itself recreates in CIS mode (`default-network-policy`, `default-network-dns-policy`, …).
import { ingressPorts, isDisabled } from "../spec/addons";
import type { AddonChart, ClusterSpec, ManagedNamespace, Peer, Port } from "../spec/types";
import { BUILTIN_NAMESPACES } from "../spec/constants";
import { podSecurityExemptions } from "./policy";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** How an object is applied: `own` objects are created and deleted by the stack; `patch` objects belong to the
 * cluster (default ServiceAccounts) and the stack only sets its fields on them. */
export interface RenderedObject {
  object: KubeObject;
  mode: "own" | "patch";
  /** The CIS control the object serves, e.g. `5.3.2`. */
  control: string;
}

export const NAME_PREFIX = "hardened-rke2";
const MANAGED_BY = { "app.kubernetes.io/managed-by": "hardened-rke2" };
const DNS_PORTS: Port[] = [
  { port: 53, protocol: "UDP" },
  { port: 53, protocol: "TCP" },
];

function networkPolicy(namespace: string, name: string, spec: Record<string, unknown>): RenderedObject {
  return {
    object: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: `${NAME_PREFIX}-${name}`, namespace, labels: MANAGED_BY },
      spec,
    },
    mode: "own",
    control: "5.3.2",
  };
}

const ports = (list: Port[]) => list.map((p) => ({ port: p.port, protocol: p.protocol }));

function peerRule(p: Peer, direction: "from" | "to"): Record<string, unknown> {
  const target =
    "cidr" in p
      ? { ipBlock: { cidr: p.cidr } }
      : {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } },
          ...(Object.keys(p.podLabels).length > 0 ? { podSelector: { matchLabels: p.podLabels } } : {}),
        };
  return { [direction]: [target], ...(p.ports.length > 0 ? { ports: ports(p.ports) } : {}) };
}

/**
 * Built-in namespaces get ingress control only: deny by default, allow within the namespace. Their egress stays
 * open because RKE2's own pods there reach the host-network API server and upstream DNS, which a NetworkPolicy cannot
 * name; an egress policy would cut them off. kube-system also admits DNS from every namespace, and the
 * metrics-server and ingress-controller traffic the RKE2 hardening guide lists.
 */
function builtinPolicies(spec: ClusterSpec, namespace: string): RenderedObject[] {
  const list = [
    networkPolicy(namespace, "default-deny", { podSelector: {}, policyTypes: ["Ingress"] }),
    networkPolicy(namespace, "allow-same-namespace", {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: {} }] }],
    }),
  ];
  if (namespace !== "kube-system") return list;
  if (spec.distribution === "k3s") return [...list, ...k3sSystemPolicies()];
  // Each exception goes with its add-on: a chart the stack disables (addons.<chart>.disable) gets no policy.
  const on = (chart: AddonChart) => !isDisabled(spec.addons, chart);
  return [
    ...list,
    ...(on("rke2-coredns")
      ? [
          networkPolicy(namespace, "allow-dns", {
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ namespaceSelector: {} }], ports: ports(DNS_PORTS) }],
          }),
        ]
      : []),
    ...(on("rke2-metrics-server")
      ? [
          networkPolicy(namespace, "allow-metrics-server", {
            // The API server reaches metrics-server from the host network, which no pod selector can name; every
            // port, so an overridden containerPort stays reachable.
            podSelector: { matchLabels: { app: "rke2-metrics-server" } },
            policyTypes: ["Ingress"],
            ingress: [{}],
          }),
        ]
      : []),
    ...(on("rke2-ingress-nginx")
      ? [
          networkPolicy(namespace, "allow-ingress-controller", {
            // HTTP/HTTPS from anywhere, and the admission webhook the API server calls: the chart's ports as the
            // stack's overrides set them (addons.rke2-ingress-nginx.values).
            podSelector: { matchLabels: { "app.kubernetes.io/name": "rke2-ingress-nginx" } },
            policyTypes: ["Ingress"],
            ingress: [{ ports: ports(ingressPorts(spec.addons).map((port) => ({ port, protocol: "TCP" }))) }],
          }),
        ]
      : []),
  ];
}

/**
 * kube-system's exceptions for the components K3s bundles, as its hardening guide lists them ("NetworkPolicies"):
 * DNS to CoreDNS from every namespace, metrics-server from the host-network API server (every port), and Traefik
 * with its svclb pods (the guide's allow-all-traefik-v121-ingress and allow-all-svclbtraefik-ingress). The
 * local-path provisioner and its helper pods take no inbound traffic (they call the API server, and built-in
 * namespaces keep egress open), so it needs no exception.
 */
function k3sSystemPolicies(): RenderedObject[] {
  const ns = "kube-system";
  return [
    networkPolicy(ns, "allow-dns", {
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ namespaceSelector: {} }], ports: ports(DNS_PORTS) }],
    }),
    networkPolicy(ns, "allow-metrics-server", {
      podSelector: { matchLabels: { "k8s-app": "metrics-server" } },
      policyTypes: ["Ingress"],
      ingress: [{}],
    }),
    networkPolicy(ns, "allow-traefik", {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "traefik" } },
      policyTypes: ["Ingress"],
      ingress: [{}],
    }),
    networkPolicy(ns, "allow-svclb-traefik", {
      podSelector: { matchLabels: { "svccontroller.k3s.cattle.io/svcname": "traefik" } },
      policyTypes: ["Ingress"],
      ingress: [{}],
    }),
  ];
}

/** Managed namespaces: deny ingress and egress by default, allow within the namespace, allow DNS to CoreDNS, plus the
 * peers the stack declares. */
function managedPolicies(ns: ManagedNamespace): RenderedObject[] {
  const list = [
    networkPolicy(ns.name, "default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    networkPolicy(ns.name, "allow-same-namespace", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    }),
    networkPolicy(ns.name, "allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: ports(DNS_PORTS),
        },
      ],
    }),
  ];
  if (ns.allowIngressFrom.length > 0) {
    list.push(
      networkPolicy(ns.name, "allow-declared-ingress", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: ns.allowIngressFrom.map((p) => peerRule(p, "from")),
      }),
    );
  }
  if (ns.allowEgressTo.length > 0) {
    list.push(
      networkPolicy(ns.name, "allow-declared-egress", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: ns.allowEgressTo.map((p) => peerRule(p, "to")),
      }),
    );
  }
  return list;
}

/** The `default` ServiceAccount of a namespace with token automount off (CIS 5.1.5). Patched, never owned. */
function defaultServiceAccount(namespace: string): RenderedObject {
  return {
    object: {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace },
      automountServiceAccountToken: false,
    },
    mode: "patch",
    control: "5.1.5",
  };
}

/** A namespace the stack owns, with Pod Security labels (CIS 5.2): audit and warn stay `restricted` even where
 * enforce is relaxed, so every exception keeps showing up. */
function managedNamespace(ns: ManagedNamespace): RenderedObject {
  const annotations: Record<string, string> =
    ns.podSecurityReason !== undefined ? { "hardened-rke2/pod-security-reason": ns.podSecurityReason } : {};
  return {
    object: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: ns.name,
        labels: {
          ...MANAGED_BY,
          "pod-security.kubernetes.io/enforce": ns.podSecurity,
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/audit-version": "latest",
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/warn-version": "latest",
        },
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      },
    },
    mode: "own",
    control: "5.2",
  };
}

export const GUARD_NAME = `${NAME_PREFIX}-default-sa-token`;

/** True when the pod does not use the default ServiceAccount, or says itself that no token is mounted. */
export const GUARD_EXPRESSION =
  "(has(object.spec.serviceAccountName) && object.spec.serviceAccountName != '' && " +
  "object.spec.serviceAccountName != 'default') || " +
  "(has(object.spec.automountServiceAccountToken) && object.spec.automountServiceAccountToken == false)";

export const GUARD_MESSAGE =
  "CIS 5.1.5: this pod would mount the default ServiceAccount's token. Run it as a dedicated ServiceAccount, or set " +
  "automountServiceAccountToken: false in the pod spec (or add the namespace to the stack's namespaces).";

/** Namespaces the guard leaves alone: the reviewed PSA exemptions and every namespace whose default ServiceAccount
 * the stack already patches (there a pod without the field mounts no token). */
export function guardExemptNamespaces(spec: ClusterSpec): string[] {
  const exempt = podSecurityExemptions(spec).map((e) => e.namespace);
  return [...new Set([...exempt, ...BUILTIN_NAMESPACES, ...spec.namespaces.map((n) => n.name)])];
}

/**
 * CIS 5.1.5 for namespaces created outside the stack: a ValidatingAdmissionPolicy (built into Kubernetes 1.30+, no
 * controller to run) refusing pods that would mount the default ServiceAccount's token.
 */
function admissionGuard(spec: ClusterSpec): RenderedObject[] {
  if (!spec.admissionGuard.enabled) return [];
  return [
    {
      object: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: GUARD_NAME, labels: MANAGED_BY },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [
              { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
            ],
          },
          validations: [{ expression: GUARD_EXPRESSION, message: GUARD_MESSAGE, reason: "Forbidden" }],
        },
      },
      mode: "own",
      control: "5.1.5",
    },
    {
      object: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: GUARD_NAME, labels: MANAGED_BY },
        spec: {
          policyName: GUARD_NAME,
          validationActions: spec.admissionGuard.mode === "deny" ? ["Deny"] : ["Warn"],
          matchResources: {
            namespaceSelector: {
              matchExpressions: [
                {
                  key: "kubernetes.io/metadata.name",
                  operator: "NotIn",
                  values: guardExemptNamespaces(spec),
                },
              ],
            },
          },
        },
      },
      mode: "own",
      control: "5.1.5",
    },
  ];
}

/** Every in-cluster hardening object, namespaces first so that what lives in them can follow. */
export function renderClusterObjects(spec: ClusterSpec): RenderedObject[] {
  return [
    ...spec.namespaces.map(managedNamespace),
    ...BUILTIN_NAMESPACES.map(defaultServiceAccount),
    ...spec.namespaces.map((ns) => defaultServiceAccount(ns.name)),
    ...BUILTIN_NAMESPACES.flatMap((ns) => builtinPolicies(spec, ns)),
    ...spec.namespaces.flatMap(managedPolicies),
    ...admissionGuard(spec),
  ];
}

// Section "addons": overrides for the Helm charts RKE2 bundles (ingress-nginx, the CNI, metrics-server, CoreDNS).
// RKE2 deploys each from its server manifests folder and merges a HelmChartConfig of the same name into the chart's
// values (RKE2 docs: helm, "Customizing Packaged Components with HelmChartConfig"); a chart named in RKE2's `disable`
// list is not deployed at all. The hardening relies on some of these charts' settings (the CNI enforcing
// NetworkPolicy, the add-ons in kube-system reached through the stack's exception policies), so values that would
// undo it are refused here, each naming its key.
import { z } from "zod";
import type { Cni } from "./network";
import { fmt, type Path, type Problems } from "./problems";
import { section } from "./section";

export const ADDON_CHARTS = [
  "rke2-ingress-nginx",
  "rke2-canal",
  "rke2-calico",
  "rke2-cilium",
  "rke2-metrics-server",
  "rke2-coredns",
] as const;
export type AddonChart = (typeof ADDON_CHARTS)[number];

/** The chart RKE2 deploys for each CNI (rke2 pkg/cli/cmds/server.go validateCNI: `rke2-<cni>`). */
export const CNI_CHART: Partial<Record<Cni, AddonChart>> = {
  canal: "rke2-canal",
  calico: "rke2-calico",
  cilium: "rke2-cilium",
};

/** Charts RKE2's `disable` removes: rke2-coredns and rke2-metrics-server are in its DisableItems (rke2
 * pkg/cli/types.go); rke2-ingress-nginx is listed there up to v1.30.0, and releases with the `ingress-controller` flag
 * disable it through the same list (disableExceptSelected sets `disable: rke2-ingress-nginx` when the flag does not
 * select it). The CNI chart is chosen with `cni`, never disabled. */
const DISABLEABLE: readonly AddonChart[] = ["rke2-ingress-nginx", "rke2-metrics-server", "rke2-coredns"];

const values = z.record(z.string(), z.unknown()).default({});

const addon = z.strictObject({
  /** Helm values merged over RKE2's own for the chart (a HelmChartConfig's valuesContent). */
  values,
  /** Leave the chart out of the cluster (RKE2's `disable`); its exception NetworkPolicies go with it. */
  disable: z.boolean().default(false),
});

export const addonsShape = {
  addons: z
    .strictObject({
      "rke2-ingress-nginx": addon
        .extend({
          /** Why the ingress controller may run in the host's network namespace; `controller.hostNetwork: true` is
           * refused without it. */
          hostNetworkReason: z.string().min(1).optional(),
        })
        .optional(),
      "rke2-canal": addon.optional(),
      "rke2-calico": addon.optional(),
      "rke2-cilium": addon.optional(),
      "rke2-metrics-server": addon.optional(),
      "rke2-coredns": addon.optional(),
    })
    .prefault({}),
};

export type AddonsSpec = z.output<typeof addonsShape.addons>;

/** The value at a dotted path of a chart's values (undefined when any part is missing). */
export function valueAt(values: Record<string, unknown>, dotted: string): unknown {
  let v: unknown = values;
  for (const part of dotted.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Every `privileged: true` in a values tree, as dotted paths. */
function privilegedPaths(v: unknown, at: string[] = []): string[] {
  if (typeof v !== "object" || v === null) return [];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) =>
    k === "privileged" && x === true ? [[...at, k].join(".")] : privilegedPaths(x, [...at, k]),
  );
}

interface Rule {
  chart: AddonChart;
  key: string;
  refuses: (
    value: unknown,
    addon: { values: Record<string, unknown>; hostNetworkReason?: string },
  ) => boolean;
  why: string;
}

/** Values that would undo the hardening, per chart: the key, when it is refused, and why. */
const WEAKENING: Rule[] = [
  {
    chart: "rke2-cilium",
    key: "policyEnforcementMode",
    refuses: (v) => v === "never",
    why: "turns off Cilium's NetworkPolicy enforcement (CIS 5.3.1, and every policy of CIS 5.3.2 with it); allowed: default or always",
  },
  {
    chart: "rke2-ingress-nginx",
    key: "controller.hostNetwork",
    refuses: (v, a) => v === true && a.hostNetworkReason === undefined,
    why: "puts the ingress controller in the host's network namespace, outside every NetworkPolicy (CIS 5.3.2), and the stack did not ask for it; allowed: false, or set addons.rke2-ingress-nginx.hostNetworkReason to say why",
  },
  {
    chart: "rke2-metrics-server",
    key: "hostNetwork.enabled",
    refuses: (v) => v === true,
    why: "puts metrics-server in the host's network namespace, outside every NetworkPolicy (CIS 5.3.2); allowed: false",
  },
];

/** Keys that move an add-on away from what the stack's exception NetworkPolicy selects, refused with the reason. */
const MOVES: { charts: readonly AddonChart[]; key: string; why: string }[] = [
  {
    charts: ["rke2-ingress-nginx", "rke2-metrics-server", "rke2-coredns"],
    key: "namespaceOverride",
    why: "moves the chart out of kube-system: the stack's exception NetworkPolicies and the Pod Security exemption cover kube-system only, so in another namespace its pods would be denied by that namespace's policies; allowed: unset (kube-system)",
  },
  {
    charts: ["rke2-ingress-nginx", "rke2-metrics-server"],
    key: "nameOverride",
    why: "renames the chart's pods, and the stack's exception NetworkPolicy selects them by the chart's name label (app.kubernetes.io/name: rke2-ingress-nginx, app: rke2-metrics-server); allowed: unset",
  },
  {
    charts: ["rke2-ingress-nginx", "rke2-metrics-server"],
    key: "fullnameOverride",
    why: "renames the chart's pods, and the stack's exception NetworkPolicy selects them by the chart's name label; allowed: unset",
  },
];

/** A TCP port value: an integer 1–65535. */
const isPort = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;

/** Ports the ingress controller's exception policy opens: the chart's container ports (hostPort traffic is
 * forwarded to them) and its admission webhook port, each as overridden or the chart's default. */
const INGRESS_PORTS = [
  { key: "controller.containerPort.http", fallback: 80 },
  { key: "controller.containerPort.https", fallback: 443 },
  { key: "controller.admissionWebhooks.port", fallback: 8443 },
] as const;

export function ingressPorts(addons: AddonsSpec): number[] {
  const v = addons["rke2-ingress-nginx"]?.values ?? {};
  const ports = INGRESS_PORTS.map((p) => {
    const value = valueAt(v, p.key);
    return isPort(value) ? (value as number) : p.fallback;
  });
  return [...new Set(ports)];
}

/** True when the stack leaves the chart out (RKE2's `disable`). */
export function isDisabled(addons: AddonsSpec, chart: AddonChart): boolean {
  return addons[chart]?.disable === true;
}

/** The charts the stack disables, in RKE2's `disable` list order. */
export function disabledCharts(addons: AddonsSpec): AddonChart[] {
  return ADDON_CHARTS.filter((c) => isDisabled(addons, c));
}

/** The charts the stack gives values, with those values (what becomes a HelmChartConfig). */
export function overriddenCharts(
  addons: AddonsSpec,
): { chart: AddonChart; values: Record<string, unknown> }[] {
  return ADDON_CHARTS.flatMap((chart) => {
    const a = addons[chart];
    return a !== undefined && !a.disable && Object.keys(a.values).length > 0
      ? [{ chart, values: a.values }]
      : [];
  });
}

function check(problems: Problems, addons: AddonsSpec, cni: Cni) {
  for (const chart of ADDON_CHARTS) {
    const a = addons[chart];
    if (a === undefined) continue;
    const at: Path = ["addons", chart];
    const isCni = Object.values(CNI_CHART).includes(chart);
    if (isCni && chart !== CNI_CHART[cni]) {
      problems.add(
        at,
        `the stack's cni is ${cni}, so RKE2 does not deploy ${chart} and its overrides would do nothing; allowed: overrides for ${CNI_CHART[cni]}`,
      );
      continue;
    }
    if (a.disable && !DISABLEABLE.includes(chart)) {
      problems.add(
        [...at, "disable"],
        `true is not allowed: RKE2 deploys the CNI chosen by cni, and a cluster without one enforces no NetworkPolicy (CIS 5.3.1); allowed: false`,
      );
    }
    if (a.disable && Object.keys(a.values).length > 0) {
      problems.add(
        [...at, "values"],
        `are set for a chart the stack disables, so they would do nothing; allowed: values, or disable: true, not both`,
      );
    }
    for (const rule of WEAKENING.filter((r) => r.chart === chart)) {
      const value = valueAt(a.values, rule.key);
      if (rule.refuses(value, a)) {
        problems.add([...at, "values", ...rule.key.split(".")], `${fmt(value)} ${rule.why}`);
      }
    }
    for (const move of MOVES.filter((m) => m.charts.includes(chart))) {
      const value = valueAt(a.values, move.key);
      if (
        value !== undefined &&
        value !== "" &&
        !(move.key === "namespaceOverride" && value === "kube-system")
      ) {
        problems.add([...at, "values", move.key], `${fmt(value)} ${move.why}`);
      }
    }
    for (const p of privilegedPaths(a.values)) {
      problems.add(
        [...at, "values", ...p.split(".")],
        "true runs a container privileged; kube-system is exempt from Pod Security, so the charts' own settings are what keeps its pods unprivileged (CIS 5.2.2); allowed: false",
      );
    }
    if (chart === "rke2-ingress-nginx") {
      for (const p of INGRESS_PORTS) {
        const value = valueAt(a.values, p.key);
        if (value !== undefined && !isPort(value)) {
          problems.add(
            [...at, "values", ...p.key.split(".")],
            `${fmt(value)} is not a port the exception NetworkPolicy can follow; allowed: an integer 1–65535`,
          );
        }
      }
    }
  }
}

export const addons = section({
  shape: addonsShape,
  build({ addons: raw }, { problems, earlier }) {
    if (earlier.cni === undefined) return undefined;
    const before = problems.list.length;
    check(problems, raw, earlier.cni);
    return problems.list.length > before ? undefined : { value: { addons: raw }, secrets: [] };
  },
});

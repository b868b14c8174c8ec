// The HelmChartConfig manifests that tune RKE2's bundled charts (addons.<chart>.values). RKE2's deploy controller
// applies every file in the server manifests folder at start and whenever one changes, and its Helm controller merges
// a HelmChartConfig's valuesContent over the chart of the same name in kube-system (RKE2 docs: helm). Written with the
// other node files, before RKE2 first starts, so the charts are installed with these values from the start.
import { stringify } from "yaml";
import { overriddenCharts, type AddonChart } from "../spec/addons";
import type { ClusterSpec } from "../spec/types";
import { PATHS, rootFile, yamlFile, type NodeFile } from "./files";
import type { KubeObject } from "./kube";

/** The HelmChartConfig for one chart: named as the chart, in kube-system, where RKE2 installs its HelmCharts. */
export function helmChartConfig(chart: AddonChart, values: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChartConfig",
    metadata: { name: chart, namespace: "kube-system" },
    spec: { valuesContent: stringify(values, { lineWidth: 0 }) },
  };
}

/** Where a chart's override lands: `<chart>-config.yaml`, beside (never over) RKE2's own `<chart>.yaml`. */
export function addonManifestPath(chart: AddonChart): string {
  return `${PATHS.serverManifests}/${chart}-config.yaml`;
}

/** One file per chart the stack gives values; servers only (the manifests folder is read by the server). */
export function renderAddonManifests(spec: ClusterSpec): NodeFile[] {
  return overriddenCharts(spec.addons).map(({ chart, values }) =>
    rootFile(
      addonManifestPath(chart),
      // RKE2's CIS profile writes its own manifests 0600; these follow.
      "0600",
      yamlFile(
        `Values for RKE2's bundled ${chart} chart (addons.${chart}.values), checked against the hardening.`,
        helmChartConfig(chart, values),
      ),
      `HelmChartConfig for RKE2's ${chart} chart`,
    ),
  );
}

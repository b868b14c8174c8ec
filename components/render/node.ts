// Everything one node receives, in the order the bootstrap applies it. Pure: the same function serves the offline
// render and `pulumi up`.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ClusterSpec } from "../spec/types";
import { DISTRIBUTION } from "../spec/distribution";
import { PATHS, pathsFor, rootFile, type NodeFile, type NodeScript } from "./files";
import type { RenderInputs } from "./inputs";
import { renderAddonManifests } from "./addons";
import { renderCisChecks } from "./cis-checks";
import { renderPolicyFiles } from "./policy";
import { renderRegistries } from "./registries";
import { renderNodeEnv, renderRke2Files } from "./rke2";
import type { NodeFacts } from "../spec/plan";
import { memo } from "../memo";

/** The kernel parameters of the RKE2 and K3s hardening guides, exactly; RKE2's CIS profile checks all four. */
export const KERNEL_PARAMETERS: readonly [string, string][] = [
  ["vm.panic_on_oom", "0"],
  ["vm.overcommit_memory", "1"],
  ["kernel.panic", "10"],
  ["kernel.panic_on_oops", "1"],
];

export function renderSysctl(): NodeFile {
  const body = KERNEL_PARAMETERS.map(([k, v]) => `${k}=${v}`).join("\n");
  return rootFile(
    PATHS.sysctl,
    "0644",
    "# Rendered by hardened-rke2. Kernel parameters RKE2's CIS profile checks at start (and the kubelet's\n" +
      "# protect-kernel-defaults, CIS 4.2.6 in the rke2-cis-1.23/1.24 benchmarks; K3s's hardening guide, host-level).\n" +
      `${body}\n`,
    "kernel parameters for the CIS profile",
  );
}

/**
 * Bootstrap steps in order. `servers` marks steps only servers run; `beforeStart` marks the host hardening RKE2's
 * CIS profile checks at start (kernel parameters, the etcd user), which must have run before the start step; `fips`
 * marks the FIPS checks, run only when the stack sets `fips: true` (the kernel before the install, the installed
 * binary's crypto module after it and before RKE2 starts).
 */
export const SCRIPT_STEPS = [
  { step: "sysctl", file: "10-sysctl.sh", servers: false, beforeStart: true, fips: false },
  { step: "etcd-user", file: "20-etcd-user.sh", servers: true, beforeStart: true, fips: false },
  { step: "fips-kernel", file: "25-fips-kernel.sh", servers: false, beforeStart: false, fips: true },
  { step: "install", file: "30-install.sh", servers: false, beforeStart: false, fips: false },
  { step: "fips-module", file: "35-fips-module.sh", servers: false, beforeStart: false, fips: true },
  { step: "start", file: "40-start.sh", servers: false, beforeStart: false, fips: false },
  { step: "ready", file: "50-wait-ready.sh", servers: false, beforeStart: false, fips: false },
  // The CIS host checks, read-only, once the node runs (its output feeds the stack's cisVerification).
  { step: "cis", file: "60-cis-check.sh", servers: false, beforeStart: false, fips: false },
] as const;

export type Step = (typeof SCRIPT_STEPS)[number]["step"];

/** The steps one node runs, in order. From the distribution table: the etcd user only where etcd runs as its own
 * user (RKE2), the host checks where the distribution's audits are known (both RKE2 and K3s). */
export function stepsFor(spec: Pick<ClusterSpec, "fips" | "distribution">, role: NodeFacts["role"]): Step[] {
  const d = DISTRIBUTION[spec.distribution];
  return SCRIPT_STEPS.filter(
    (s) =>
      (role === "server" || !s.servers) &&
      (spec.fips || !s.fips) &&
      (s.step !== "etcd-user" || d.etcdUser) &&
      (s.step !== "cis" || d.hostChecks),
  ).map((s) => s.step);
}

const scriptCache = new Map<string, string>();
/** A static script's text, shipped with the product (components/render/scripts). */
export function scriptText(file: string): string {
  return memo(scriptCache, file, (f) => fs.readFileSync(path.join(__dirname, "scripts", f), "utf8"));
}

export function renderScripts(
  spec: Pick<ClusterSpec, "fips" | "distribution">,
  node: NodeFacts,
): NodeScript[] {
  const steps = stepsFor(spec, node.role);
  return SCRIPT_STEPS.filter((s) => steps.includes(s.step)).map((s) => ({
    ...rootFile(
      `${pathsFor(spec.distribution).scriptsDir}/${s.file}`,
      "0700",
      scriptText(s.file),
      `bootstrap step "${s.step}"`,
    ),
    step: s.step,
  }));
}

/** The air-gap checksum list the install step verifies the copied artifacts against. */
function renderArtifactSums(spec: ClusterSpec): NodeFile[] {
  if (spec.install.mode !== "airgap") return [];
  return [
    rootFile(
      pathsFor(spec.distribution).artifactSums,
      "0644",
      spec.install.checksumFile,
      "checksums of the air-gap artifacts, verified on the node before use",
    ),
  ];
}

export interface NodeBundle {
  node: NodeFacts;
  /** Files written before any script runs, each with its mode and owner. */
  files: NodeFile[];
  /** Scripts in the order they run. */
  scripts: NodeScript[];
}

export function renderNode(
  spec: ClusterSpec,
  node: NodeFacts,
  registration: string,
  inputs: RenderInputs,
  /** Where the operator's machine reaches the API, when not the registration address (it joins tls-san). */
  apiAddress: string = registration,
): NodeBundle {
  const files = [
    renderSysctl(),
    ...renderRke2Files(spec, node, registration, inputs, apiAddress),
    ...renderRegistries(spec, inputs),
    ...(node.role === "server" ? renderPolicyFiles(spec, inputs) : []),
    ...(node.role === "server" ? renderAddonManifests(spec) : []),
    renderNodeEnv(spec, node),
    ...renderArtifactSums(spec),
    ...(DISTRIBUTION[spec.distribution].hostChecks ? [renderCisChecks(spec, node)] : []),
  ];
  return { node, files, scripts: renderScripts(spec, node) };
}

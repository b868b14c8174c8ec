// Verification after deploy: given what the API server (and the first server's audit log) answered, decide control by
// control whether the hardening holds. Pure, so it is tested against recorded answers, passing and failing.
import { GUARD_NAME, guardExemptNamespaces, renderClusterObjects } from "../render/kube";
import { cisCheckIds } from "../render/cis-checks";
import { DISTRIBUTION } from "../spec/distribution";
import {
  BENCHMARK_CONTROLS,
  CATALOGUE,
  K3S_NUMBERING,
  notCheckedOf,
  stableCisId,
  type ControlKey,
} from "../spec/cis-catalogue";
import type { Benchmark } from "../spec/version";
import type { ClusterSpec } from "../spec/types";
import { BUILTIN_NAMESPACES } from "../spec/constants";
import { offlineFacts } from "../spec/plan";

/** What the verification reads back from the cluster. */
export interface ClusterAnswers {
  namespaces: string[];
  /** `namespace/name` of every NetworkPolicy. */
  networkPolicies: string[];
  /** automountServiceAccountToken of each namespace's `default` ServiceAccount (undefined: unset, i.e. true). */
  defaultServiceAccounts: Record<string, boolean | undefined>;
  /** The API server's answer to a server-side dry run creating a privileged pod. */
  privilegedPodDryRun: { status: number; message: string };
  /** The last line of the API audit log on the first server (empty when the log is empty or missing). */
  auditLogLine: string;
  /** Names of the ValidatingAdmissionPolicies and of their bindings. */
  admissionPolicies: string[];
  admissionBindings: string[];
  /** With `fips: true`: each node's FIPS module step output (its evidence line), by node name. */
  fipsEvidence?: Record<string, string>;
  /** Each node's `cis` step output (60-cis-check.sh: one PASS/FAIL line per control, then a count), by node name. */
  hostChecks?: Record<string, string>;
}

/** What the stack expects, derived from the spec. */
export interface Expectations {
  managedNamespaces: string[];
  guardEnabled: boolean;
  guardExempt: string[];
  /** `namespace/name` of every NetworkPolicy the stack applies: each must be in place, not just some policy. */
  networkPolicies: string[];
  /** Nodes whose FIPS evidence must show FIPS mode and the crypto module (`fips: true`); [] otherwise. */
  fipsNodes: string[];
  /** The stack's benchmark: the IDs every result is named by. */
  benchmark: Benchmark;
  /** Each node and the control IDs its host checks must report (its rendered check table's). */
  hostCheckNodes: { name: string; ids: string[] }[];
}

export function expectationsOf(spec: ClusterSpec): Expectations {
  return {
    managedNamespaces: spec.namespaces.map((n) => n.name),
    guardEnabled: spec.admissionGuard.enabled,
    guardExempt: guardExemptNamespaces(spec),
    networkPolicies: renderClusterObjects(spec)
      .map((r) => r.object)
      .filter((o) => o.kind === "NetworkPolicy")
      .map((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`),
    fipsNodes: spec.fips ? offlineFacts(spec).map((n) => n.name) : [],
    benchmark: spec.benchmark,
    // Only where the host checks run (RKE2): a K3s node sends no report, and none is expected of it.
    hostCheckNodes: DISTRIBUTION[spec.distribution].hostChecks
      ? offlineFacts(spec).map((n) => ({ name: n.name, ids: cisCheckIds(spec, n.role) }))
      : [],
  };
}

/** A benchmark control's title by its ID in `benchmark`; the product's own file check otherwise. */
function titleOf(id: string, benchmark: Benchmark): string {
  return BENCHMARK_CONTROLS.find((c) => c.ids[benchmark] === id)?.title ?? CATALOGUE.productFiles.title;
}

const HOST_LINE = /^(PASS|FAIL) (\S+) ?(.*)$/;

/**
 * One result per node and control its host checks must report, from that node's `cis` step output. A control the
 * output leaves out, or a node without output, is a FAIL: the check did not run, so nothing shows it holds.
 */
export function hostCheckResults(expect: Expectations, reports: Record<string, string>): ControlResult[] {
  return expect.hostCheckNodes.flatMap(({ name, ids }) => {
    const seen = new Map<string, { pass: boolean; detail: string }>();
    for (const line of (reports[name] ?? "").split("\n")) {
      const m = HOST_LINE.exec(line.trim());
      if (m) seen.set(m[2], { pass: m[1] === "PASS", detail: m[3] });
    }
    return ids.map((id) => {
      const r = seen.get(id);
      return {
        id,
        node: name,
        title: titleOf(id, expect.benchmark),
        pass: r?.pass ?? false,
        detail: r?.detail ?? `no result from ${name}'s cis step`,
      };
    });
  });
}

/** The evidence line 35-fips-module.sh prints last for a node in FIPS mode whose binary carries the module. */
const FIPS_EVIDENCE =
  /^hardened-rke2: FIPS (\S+): kernel fips_enabled=(\S+), (\S+) carries the BoringCrypto module \((\d+) /;

/** One line per node: its kernel in FIPS mode and its RKE2 binary with the BoringCrypto module, as its step saw. */
export function fipsResults(nodes: string[], evidence: Record<string, string>): ControlResult[] {
  return nodes.map((node) => {
    const lines = (evidence[node] ?? "").trim().split("\n");
    const m = FIPS_EVIDENCE.exec(lines[lines.length - 1] ?? "");
    const pass = m !== null && m[1] === node && m[2] === "1" && Number(m[4]) > 0;
    return {
      key: "fips",
      id: stableCisId("fips"),
      title: `FIPS mode and crypto module on ${node}`,
      pass,
      detail: pass
        ? `kernel fips_enabled=1; ${m[3]} carries the BoringCrypto module (${m[4]} symbols)`
        : m
          ? `kernel fips_enabled=${m[2]}, ${m[4]} BoringCrypto symbols in ${m[3]}`
          : "no FIPS evidence from the node's fips-module step",
    };
  });
}

export interface ControlResult {
  /** The catalogue key where the product names the control in code (the in-cluster checks); absent for host checks,
   * which are named by their benchmark ID alone. */
  key?: ControlKey;
  /** The node a host check ran on; absent for the in-cluster checks. */
  node?: string;
  id: string;
  title: string;
  pass: boolean;
  detail: string;
}

const AUDIT_LEVELS = ["Metadata", "Request", "RequestResponse"];

function levelOf(event: unknown): string {
  const level = (event as { level?: unknown } | null)?.level;
  return typeof level === "string" ? level : "";
}

export function verifyControls(expect: Expectations, answers: ClusterAnswers): ControlResult[] {
  const results: ControlResult[] = [];

  const withoutPolicy = answers.namespaces.filter(
    (ns) => !answers.networkPolicies.some((p) => p.startsWith(`${ns}/`)),
  );
  // A namespace with some policy is not enough where the stack put its own: a removed default-deny would leave the
  // allow rules alone in force, so each of the stack's policies is looked for by name.
  const missing = expect.networkPolicies.filter((p) => !answers.networkPolicies.includes(p));
  const npProblems = [
    ...(withoutPolicy.length > 0 ? [`no NetworkPolicy in: ${withoutPolicy.join(", ")}`] : []),
    ...(missing.length > 0 ? [`the stack's NetworkPolicies missing: ${missing.join(", ")}`] : []),
  ];
  results.push({
    key: "namespaceNetworkPolicies",
    id: stableCisId("namespaceNetworkPolicies"),
    title: "Every namespace has a NetworkPolicy",
    pass: npProblems.length === 0,
    detail:
      npProblems.length === 0 ? `${answers.namespaces.length} namespaces checked` : npProblems.join("; "),
  });

  // Namespaces whose default SA the stack patches must show automount off; any other namespace is covered only when
  // the admission guard is on (or its own default SA has automount off).
  // The guard counts only when the API server has both its policy and its binding, not because the config says so.
  const guardInPlace =
    expect.guardEnabled &&
    answers.admissionPolicies.includes(GUARD_NAME) &&
    answers.admissionBindings.includes(GUARD_NAME);
  const patched = [...BUILTIN_NAMESPACES, ...expect.managedNamespaces];
  const saProblems = answers.namespaces.flatMap((ns) => {
    const automount = answers.defaultServiceAccounts[ns];
    if (automount === false) return [];
    if (patched.includes(ns))
      return [`${ns} (automount ${automount === undefined ? "unset" : String(automount)})`];
    if (guardInPlace && !expect.guardExempt.includes(ns)) return [];
    return expect.guardExempt.includes(ns) ? [] : [`${ns} (not managed by the stack and no admission guard)`];
  });
  if (expect.guardEnabled && !guardInPlace)
    saProblems.push(`the admission guard ${GUARD_NAME} (policy and binding) is not in place`);
  results.push({
    key: "defaultServiceAccounts",
    id: stableCisId("defaultServiceAccounts"),
    title: "Default ServiceAccounts mount no token",
    pass: saProblems.length === 0,
    detail:
      saProblems.length === 0
        ? "automount off or guarded in every namespace"
        : `default ServiceAccount mounts a token in: ${saProblems.join(", ")}`,
  });

  const dry = answers.privilegedPodDryRun;
  const refused = dry.status === 403 && /violates PodSecurity/.test(dry.message);
  results.push({
    key: "privilegedContainers",
    id: stableCisId("privilegedContainers"),
    title: "A privileged pod is refused by admission",
    pass: refused,
    detail: refused
      ? `refused: ${dry.message.slice(0, 160)}`
      : `the dry run was answered ${dry.status}: ${dry.message.slice(0, 160)}`,
  });

  let level = "";
  try {
    level = answers.auditLogLine.trim() === "" ? "" : levelOf(JSON.parse(answers.auditLogLine));
  } catch {
    level = "";
  }
  const logs = AUDIT_LEVELS.includes(level);
  results.push({
    key: "auditPolicy",
    id: stableCisId("auditPolicy"),
    title: "The audit policy in force logs requests",
    pass: logs,
    detail: logs ? `last audit event at level ${level}` : "the audit log holds no event at Metadata or above",
  });
  results.push(...fipsResults(expect.fipsNodes, answers.fipsEvidence ?? {}));
  results.push(...hostCheckResults(expect, answers.hostChecks ?? {}));
  return results;
}

/**
 * The count line: how many of the benchmark's Automated controls are verified (checked, and PASS wherever checked),
 * how many FAIL, and which are not checked (NOT_CHECKED says why, CIS.md too); then the other checks (Manual controls
 * and the product's own).
 */
export function summarize(benchmark: Benchmark, results: ControlResult[]): string {
  const automated = BENCHMARK_CONTROLS.filter((c) => c.automated && c.ids[benchmark] !== "-");
  const byId = (id: string) => results.filter((r) => r.id === id);
  const verified = automated.filter(
    (c) => byId(c.ids[benchmark]).length > 0 && byId(c.ids[benchmark]).every((r) => r.pass),
  );
  const failed = automated.filter((c) => byId(c.ids[benchmark]).some((r) => !r.pass));
  const unchecked = automated.filter((c) => byId(c.ids[benchmark]).length === 0);
  const automatedIds = new Set(automated.map((c) => c.ids[benchmark]));
  const others = results.filter((r) => !automatedIds.has(r.id));
  const notChecked = unchecked.map((c) => c.ids[benchmark]);
  const reasons = notCheckedOf(Object.hasOwn(K3S_NUMBERING, benchmark) ? "k3s" : "rke2");
  const unexplained = unchecked.filter((c) => reasons[c.ids["rke2-cis-1.12"]] === undefined).length;
  return (
    `hardened-rke2: ${benchmark}: ${verified.length} of ${automated.length} automated checks verified, ` +
    `${failed.length} FAIL, ${unchecked.length} not checkable on a node${notChecked.length ? ` (${notChecked.join(", ")}${unexplained ? ", unexplained" : ""})` : ""}; ` +
    `${others.filter((r) => r.pass).length} of ${others.length} further checks PASS (manual controls, the product's own)`
  );
}

/** One line per control, as the stack output and the failure message show them. */
export function formatResults(results: ControlResult[]): string {
  return results
    .map((r) => `${r.pass ? "PASS" : "FAIL"} ${r.id}${r.node ? ` [${r.node}]` : ""} ${r.title}: ${r.detail}`)
    .join("\n");
}

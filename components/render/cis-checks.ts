// The node's CIS host-check table: one line per audit the `cis` step (scripts/60-cis-check.sh) makes on this node,
// under the control's ID in the stack's benchmark. Rendered from the catalogue's host audits, so the checks, CIS.md
// and the verification name the same controls; the script itself is static and only interprets the table.
// Servers run every target of the benchmark (master, etcd, control plane, node, and the one policies control with a
// host side, 5.2.1); agents run the node target, as kube-bench's node scan does.
import {
  BENCHMARK_CONTROLS,
  cisId,
  hostAuditsOf,
  type Audit,
  type BenchmarkControl,
} from "../spec/cis-catalogue";
import { DISTRIBUTION, type Distribution } from "../spec/distribution";
import type { NodeFacts } from "../spec/plan";
import type { ClusterSpec } from "../spec/types";
import { GENERATED_HEADER, pathsFor, rootFile, type NodeFile } from "./files";
import { memo } from "../memo";

/** The product's own files that must stay root-only (CIS 1.1.x asks the same of the distribution's own files). */
export function rootOnlyFiles(d: Distribution): readonly string[] {
  const p = pathsFor(d);
  return [p.config, p.token, p.auditPolicy, p.podSecurity];
}

/** One table line: ID, kind, then the audit's fields (tabs never occur in them). */
function line(id: string, a: Audit): string {
  const fields = ((): string[] => {
    switch (a.kind) {
      case "mode":
        return [a.path, a.max, a.optional ? "optional" : "required"];
      case "owner":
        return [a.path, a.owner, a.optional ? "optional" : "required"];
      case "flag":
        return [a.process, a.flag, a.op, a.value ?? ""];
      case "kubelet":
        // "-": no flag (a tab-separated read would merge an empty field into the next).
        return [a.flag || "-", a.key, a.op, a.value ?? ""];
      case "etcd":
        return [a.key, a.op, a.value ?? ""];
      case "encryption":
        return [a.allowed];
    }
  })();
  const text = [id, a.kind, ...fields].join("\t");
  if (/[\n]/.test(text) || text.split("\t").length !== 2 + fields.length)
    throw new Error(`bad CIS audit ${text}`);
  return text;
}

/** Whether a node of this role runs the control's audit. */
function runsOn(c: BenchmarkControl, role: NodeFacts["role"]): boolean {
  return role === "server" || c.target === "node";
}

/** The product's root-only files a node of this role holds: the policy files are written on servers only. */
export function rootOnlyFilesOf(role: NodeFacts["role"], d: Distribution = "rke2"): readonly string[] {
  return role === "server" ? rootOnlyFiles(d) : [pathsFor(d).config, pathsFor(d).token];
}

/** The table's lines for one node: its benchmark controls' audits, then the product's own files it holds. */
export function cisCheckLines(
  spec: Pick<ClusterSpec, "benchmark" | "distribution">,
  role: NodeFacts["role"],
): string[] {
  const lines: string[] = [];
  const hostAudits = hostAuditsOf(spec.distribution);
  for (const c of BENCHMARK_CONTROLS) {
    const id = c.ids[spec.benchmark];
    const audits = hostAudits[c.ids["rke2-cis-1.12"]];
    if (id === "-" || !audits || !runsOn(c, role)) continue;
    for (const a of audits) lines.push(line(id, a));
  }
  const own = cisId("productFiles", spec.benchmark);
  for (const path of rootOnlyFilesOf(role, spec.distribution)) {
    lines.push(
      line(own, { kind: "mode", path, max: "600" }),
      line(own, { kind: "owner", path, owner: "root:root" }),
    );
  }
  return lines;
}

/** The control IDs a node of this role reports, in its table's order. */
export function cisCheckIds(
  spec: Pick<ClusterSpec, "benchmark" | "distribution">,
  role: NodeFacts["role"],
): string[] {
  return [...new Set(cisCheckLines(spec, role).map((l) => l.split("\t")[0]))];
}

/**
 * The table's directives for the script on K3s: its data folder (the kubelet's and etcd's config files when no flag
 * names them) and the unit whose journal holds the components' command lines (K3s runs them inside its own process:
 * there is none in /proc to read). None on RKE2, whose paths and processes are the script's defaults (so an RKE2
 * node's table, and the steps it triggers, stay as they were).
 */
function directives(spec: Pick<ClusterSpec, "distribution">, role: NodeFacts["role"]): string[] {
  if (spec.distribution === "rke2") return [];
  const d = DISTRIBUTION[spec.distribution];
  return [`#% data-dir ${d.dataDir}`, `#% args-journal ${d.units[role].replace(/\.service$/, "")}`];
}

export function renderCisChecks(spec: ClusterSpec, node: NodeFacts): NodeFile {
  return rootFile(
    pathsFor(spec.distribution).cisChecks,
    "0600",
    cisTable(spec, node.role),
    `the CIS host checks of the ${spec.benchmark} benchmark the cis step makes on this node`,
  );
}

// The table depends only on the spec and the role, and a stack renders it for every node three times (the plan, the
// plain and the real render): made once per role.
const tables = new WeakMap<ClusterSpec, Map<NodeFacts["role"], string>>();
function cisTable(spec: ClusterSpec, role: NodeFacts["role"]): string {
  return memo(
    memo(tables, spec, () => new Map<NodeFacts["role"], string>()),
    role,
    () =>
      `# ${GENERATED_HEADER}\n# The ${spec.benchmark} host checks of this ${role} node: control ID, kind, fields (tab-separated).\n` +
      [...directives(spec, role), ...cisCheckLines(spec, role)].join("\n") +
      "\n",
  );
}

// Proves the one CIS catalogue is what every output reads: for each supported benchmark, a stack on an RKE2 line that
// maps to it is rendered, and CIS.md, the host checks, the in-cluster verification and the policy pack's messages
// name each control by the same ID, the catalogue's ID in that benchmark. Cannot prove the catalogue's IDs match the
// published benchmarks (FACTS §7 is the source for them).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { writeBundle } from "../../cli/render";
import { fileRecords } from "../../components/bootstrap/remote";
import { cisCheckIds } from "../../components/render/cis-checks";
import {
  expectationsOf,
  hostCheckResults,
  verifyControls,
  type ClusterAnswers,
} from "../../components/hardening/verify";
import { renderBundle } from "../../components/render/bundle";
import {
  BENCHMARKS,
  RKE2_BENCHMARKS,
  BENCHMARK_CONTROLS,
  CATALOGUE,
  CONTROL_KEYS,
  cisId,
  stableCisId,
  type ControlKey,
} from "../../components/spec/cis-catalogue";
import type { Benchmark } from "../../components/spec/version";
import { defaultServiceAccountAutomount } from "../../policy/policies/kubernetes";
import { auditLogging, cisProfile } from "../../policy/policies/rke2";
import { NODE_COMPONENT } from "../../policy/policies/nodes";
import { checkResource, checkStack } from "../helpers/policy";
import { existingConfig, spec } from "../helpers/spec";

/** An RKE2 release on the line whose benchmark is the key (K3s's benchmarks: test/unit/k3s.test.ts). */
const VERSION_OF: Partial<Record<Benchmark, string>> = {
  "rke2-cis-1.7": "v1.25.16+rke2r1",
  "rke2-cis-1.8": "v1.26.15+rke2r1",
  "rke2-cis-1.9": "v1.27.16+rke2r1",
  "rke2-cis-1.10": "v1.28.15+rke2r1",
  "rke2-cis-1.11": "v1.31.10+rke2r1",
  "rke2-cis-1.12": "v1.33.5+rke2r1",
};

const inputs = { secret: () => "token", file: () => "", secretFile: () => "" };

/** CIS.md as the render writes it: its benchmark rows as [ID, kube-bench ID, title], in order. */
function cisMarkdownRows(b: Benchmark): string[][] {
  const s = spec({ ...existingConfig(), version: VERSION_OF[b] });
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hardened-rke2-cis-")), "out");
  writeBundle(s, renderBundle(s, inputs), out);
  const text = fs.readFileSync(path.join(out, "CIS.md"), "utf8");
  expect(text).toContain(`control IDs from the ${b} benchmark`);
  const benchmarkPart = text.split("## The product's own checks")[0];
  return benchmarkPart
    .split("\n")
    .filter((l) => /^\| [0-9]/.test(l))
    .map((l) =>
      l
        .split(" | ")
        .slice(0, 3)
        .map((x) => x.replace(/^\| /, "").replace(/ \(Manual\)$/, "")),
    );
}

/** The policy messages of a server node whose audit settings and kernel defaults are all removed, by the ID cited. */
async function policyIds(b: Benchmark): Promise<string[]> {
  const s = spec({ ...existingConfig(), version: VERSION_OF[b] });
  const server = renderBundle(s, inputs).nodes[0];
  const files = [...server.files, ...server.scripts].map((f) => {
    if (f.path === "/etc/rancher/rke2/config.yaml") {
      const c = parse(f.content) as Record<string, unknown>;
      c["kube-apiserver-arg"] = [];
      delete c["audit-policy-file"];
      c["protect-kernel-defaults"] = false;
      return { ...f, content: stringify(c) };
    }
    if (f.path === "/etc/rancher/rke2/audit-policy.yaml")
      return { ...f, content: "rules: [{level: None}]\n" };
    return f;
  });
  // The node as the program registers it: its component, with the files step as a child.
  const node = [
    { type: NODE_COMPONENT, name: "test-s1", props: {} },
    {
      type: "command:remote:Command",
      name: "test-s1-files",
      props: { stdin: fileRecords(files), create: "static" },
      parent: "test-s1",
    },
  ];
  const messages = [
    ...(await checkStack(auditLogging, node)),
    ...(await checkStack(cisProfile, node)),
    ...(await checkResource(defaultServiceAccountAutomount, {
      type: "kubernetes:core/v1:ServiceAccountPatch",
      name: "sa",
      props: { metadata: { name: "default", namespace: "shop" }, automountServiceAccountToken: true },
    })),
  ];
  return messages.map((m) => /\(CIS ([^)]+)\)/.exec(m)?.[1] ?? `no ID in: ${m}`);
}

const ANSWERS: ClusterAnswers = {
  namespaces: ["default"],
  networkPolicies: [],
  defaultServiceAccounts: {},
  privilegedPodDryRun: { status: 201, message: "created" },
  auditLogLine: "",
  admissionPolicies: [],
  admissionBindings: [],
};

describe.each(RKE2_BENCHMARKS)("benchmark %s: every output names each control by the catalogue's ID", (b) => {
  const s = spec({ ...existingConfig(), version: VERSION_OF[b] });

  it("the stack's RKE2 line maps to this benchmark", () => {
    expect(s.benchmark).toBe(b);
  });

  it("CIS.md has one row per control of this benchmark, with its ID there and in kube-bench's benchmark", () => {
    const kb = b === "rke2-cis-1.7" ? "rke2-cis-1.7" : "rke2-cis-1.8";
    const inB = BENCHMARK_CONTROLS.filter((c) => c.ids[b] !== "-");
    expect(cisMarkdownRows(b)).toEqual(inB.map((c) => [c.ids[b], c.ids[kb], c.title]));
    // Each product key that stands for benchmark controls shows the ID the other outputs use.
    for (const key of CONTROL_KEYS.filter((k) => CATALOGUE[k].refs.length === 1)) {
      const row = inB.find((c) => c.ids["rke2-cis-1.12"] === CATALOGUE[key].refs[0]);
      if (row) expect([key, row.ids[b]]).toEqual([key, cisId(key, b)]);
    }
  });

  it("the host checks name each control by its ID in this benchmark", () => {
    const ids = [...cisCheckIds(s, "server"), ...cisCheckIds(s, "agent")];
    const known = new Set([
      ...BENCHMARK_CONTROLS.map((c) => c.ids[b]).filter((id) => id !== "-"),
      cisId("productFiles", b),
    ]);
    expect(ids.filter((id) => !known.has(id))).toEqual([]);
    // The audit IDs are the ones that move between benchmarks: the check must not be vacuous.
    expect(ids).toEqual(expect.arrayContaining([cisId("auditLogPath", b), cisId("auditLogMaxAge", b)]));
    // A host check's result carries the same ID as its table line.
    const reports = { s1: `PASS ${cisId("auditLogPath", b)} kube-apiserver --audit-log-path=/x\n` };
    const results = hostCheckResults(expectationsOf(s), reports);
    expect(results.find((r) => r.node === "s1" && r.pass)?.id).toBe(cisId("auditLogPath", b));
  });

  it("the verification names each control by its ID, the same in every supported benchmark", () => {
    const results = verifyControls(expectationsOf(s), ANSWERS).filter(
      (r): r is typeof r & { key: ControlKey } => r.key !== undefined,
    );
    expect(results.map((r) => [r.key, r.id])).toEqual(results.map((r) => [r.key, cisId(r.key, b)]));
    expect(results.map((r) => r.id)).toEqual(results.map((r) => stableCisId(r.key)));
  });

  it("the policy pack cites each control by its ID in this benchmark", async () => {
    const keys: ControlKey[] = [
      "auditPolicy",
      "auditLogPath",
      "auditLogMaxAge",
      "auditLogMaxBackup",
      "auditLogMaxSize",
      "auditPolicy",
      "protectKernelDefaults",
      "defaultServiceAccounts",
    ];
    expect(await policyIds(b)).toEqual(keys.map((k) => cisId(k, b)));
  });
});

describe("the catalogue", () => {
  it("holds rke2-cis-1.12 whole: 78 Automated controls (master 50, etcd 7, control plane 1, node 20)", () => {
    const auto = BENCHMARK_CONTROLS.filter((c) => c.automated);
    const count = (t: string) => auto.filter((c) => c.target === t).length;
    expect([auto.length, count("master"), count("etcd"), count("controlplane"), count("node")]).toEqual([
      78, 50, 7, 1, 20,
    ]);
    expect(BENCHMARK_CONTROLS.length).toBe(131);
  });

  it("numbers the audit log path as each benchmark does (1.2.17 in kube-bench's rke2-cis-1.8, 1.2.16 in 1.12)", () => {
    expect([cisId("auditLogPath", "rke2-cis-1.8"), cisId("auditLogPath", "rke2-cis-1.12")]).toEqual([
      "1.2.17",
      "1.2.16",
    ]);
  });

  it("gives every control an ID in every supported benchmark and a title", () => {
    for (const key of CONTROL_KEYS) {
      expect([key, BENCHMARKS.filter((b) => !CATALOGUE[key].ids[b])]).toEqual([key, []]);
      expect(CATALOGUE[key].title).not.toBe("");
    }
  });

  it("keeps the minimums the titles state", () => {
    for (const key of CONTROL_KEYS.filter((k) => CATALOGUE[k].minimum !== undefined)) {
      expect(CATALOGUE[key].title).toContain(`${CATALOGUE[key].minimum} or more`);
    }
  });
});

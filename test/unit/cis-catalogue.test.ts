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
import { hostChecks } from "../../components/hardening/host-checks";
import { expectationsOf, verifyControls, type ClusterAnswers } from "../../components/hardening/verify";
import { renderBundle } from "../../components/render/bundle";
import {
  BENCHMARKS,
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

/** An RKE2 release on the line whose benchmark is the key. */
const VERSION_OF: Record<Benchmark, string> = {
  "rke2-cis-1.7": "v1.25.16+rke2r1",
  "rke2-cis-1.8": "v1.26.15+rke2r1",
  "cis-1.9": "v1.27.16+rke2r1",
  "cis-1.10": "v1.28.15+rke2r1",
  "cis-1.11": "v1.31.10+rke2r1",
  "cis-1.12": "v1.33.5+rke2r1",
};

const inputs = { secret: () => "token", file: () => "", secretFile: () => "" };

/** CIS.md as the render writes it: its control rows as title → ID. */
function cisMarkdownIds(b: Benchmark): Map<string, string> {
  const s = spec({ ...existingConfig(), version: VERSION_OF[b] });
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hardened-rke2-cis-")), "out");
  writeBundle(s, renderBundle(s, inputs), out);
  const text = fs.readFileSync(path.join(out, "CIS.md"), "utf8");
  expect(text).toContain(`control IDs from the ${b} benchmark`);
  return new Map(
    text
      .split("\n")
      .filter((l) => /^\| [0-9h]/.test(l))
      .map((l) => l.split(" | "))
      .map(([id, title]) => [title, id.replace(/^\| /, "")]),
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

describe.each(BENCHMARKS)("benchmark %s: every output names each control by the catalogue's ID", (b) => {
  const s = spec({ ...existingConfig(), version: VERSION_OF[b] });

  it("the stack's RKE2 line maps to this benchmark", () => {
    expect(s.benchmark).toBe(b);
  });

  it("CIS.md lists every listed control once, by its ID in this benchmark", () => {
    const rows = cisMarkdownIds(b);
    const listed = CONTROL_KEYS.filter((k) => CATALOGUE[k].listed);
    expect(listed.map((k) => [k, rows.get(CATALOGUE[k].title)])).toEqual(listed.map((k) => [k, cisId(k, b)]));
    expect(rows.size).toBe(listed.length);
  });

  it("the host checks name each control by its ID in this benchmark", () => {
    const results = hostChecks(s, { processes: {}, files: {} });
    expect(results.map((r) => [r.key, r.id])).toEqual(results.map((r) => [r.key, cisId(r.key, b)]));
    // The audit retention IDs are the ones that move between benchmarks: the check must not be vacuous.
    expect(results.map((r) => r.key)).toEqual(
      expect.arrayContaining<ControlKey>(["auditLogMaxAge", "encryption"]),
    );
  });

  it("the verification names each control by its ID, the same in every supported benchmark", () => {
    const results = verifyControls(expectationsOf(s), ANSWERS);
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

// The verification logic against recorded API answers: a cluster where every control holds, and one answer broken
// at a time. It cannot prove the answers a real API server gives look like these: the end-to-end run does.
import {
  expectationsOf,
  hostCheckResults,
  summarize,
  verifyControls,
  formatResults,
  type ClusterAnswers,
  type Expectations,
} from "../../components/hardening/verify";
import { existingConfig, spec as specOf } from "../helpers/spec";

const expectations: Expectations = {
  managedNamespaces: ["shop"],
  guardEnabled: true,
  guardExempt: ["kube-system", "default", "kube-public", "kube-node-lease", "shop"],
  networkPolicies: ["shop/hardened-rke2-default-deny", "kube-system/hardened-rke2-default-deny"],
  fipsNodes: [],
  benchmark: "rke2-cis-1.12",
  hostCheckNodes: [],
};

function healthy(): ClusterAnswers {
  const namespaces = ["default", "kube-system", "kube-public", "kube-node-lease", "shop", "team-x"];
  return {
    namespaces,
    networkPolicies: namespaces.map((ns) => `${ns}/hardened-rke2-default-deny`),
    defaultServiceAccounts: {
      default: false,
      "kube-system": false,
      "kube-public": false,
      "kube-node-lease": false,
      shop: false,
      "team-x": undefined,
    },
    privilegedPodDryRun: {
      status: 403,
      message:
        'pods "hardened-rke2-verify-privileged" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)',
    },
    auditLogLine: '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","verb":"list"}',
    admissionPolicies: ["hardened-rke2-default-sa-token"],
    admissionBindings: ["hardened-rke2-default-sa-token"],
  };
}

const verdicts = (a: ClusterAnswers, e = expectations) =>
  verifyControls(e, a).map((r) => `${r.id} ${r.pass ? "PASS" : "FAIL"}`);

describe("verifyControls", () => {
  it("passes every control on a hardened cluster (a namespace outside the stack is covered by the guard)", () => {
    expect(verdicts(healthy())).toEqual(["5.3.2 PASS", "5.1.5 PASS", "5.2.2 PASS", "3.2.1 PASS"]);
    expect(formatResults(verifyControls(expectations, healthy())).split("\n")[0]).toBe(
      "PASS 5.3.2 Every namespace has a NetworkPolicy: 6 namespaces checked",
    );
  });

  it("fails 5.3.2 naming the namespace without a NetworkPolicy", () => {
    const a = healthy();
    a.networkPolicies = a.networkPolicies.filter((p) => !p.startsWith("team-x/"));
    const [np] = verifyControls(expectations, a);
    expect(np).toEqual({
      key: "namespaceNetworkPolicies",
      id: "5.3.2",
      title: "Every namespace has a NetworkPolicy",
      pass: false,
      detail: "no NetworkPolicy in: team-x",
    });
  });

  it("fails 5.3.2 naming a policy of the stack that is gone, though its namespace keeps others", () => {
    const a = healthy();
    a.networkPolicies = [...a.networkPolicies, "shop/hardened-rke2-allow-dns"].filter(
      (p) => p !== "shop/hardened-rke2-default-deny",
    );
    expect(verifyControls(expectations, a)[0].detail).toBe(
      "the stack's NetworkPolicies missing: shop/hardened-rke2-default-deny",
    );
  });

  it("fails 5.1.5 when the guard's policy or binding is gone: outside namespaces are then unguarded", () => {
    const a = healthy();
    a.admissionBindings = [];
    expect(verifyControls(expectations, a)[1].detail).toBe(
      "default ServiceAccount mounts a token in: team-x (not managed by the stack and no admission guard), the admission guard hardened-rke2-default-sa-token (policy and binding) is not in place",
    );
  });

  it("fails 5.1.5 when a patched default ServiceAccount mounts its token", () => {
    const a = healthy();
    a.defaultServiceAccounts.shop = true;
    a.defaultServiceAccounts["kube-public"] = undefined;
    expect(verifyControls(expectations, a)[1].detail).toBe(
      "default ServiceAccount mounts a token in: kube-public (automount unset), shop (automount true)",
    );
  });

  it("fails 5.1.5 for a namespace outside the stack when the guard is off", () => {
    expect(verdicts(healthy(), { ...expectations, guardEnabled: false })[1]).toBe("5.1.5 FAIL");
  });

  it("fails 5.2.2 when the privileged pod is admitted or refused for another reason", () => {
    const admitted = healthy();
    admitted.privilegedPodDryRun = { status: 201, message: "" };
    expect(verdicts(admitted)[2]).toBe("5.2.2 FAIL");
    const other = healthy();
    other.privilegedPodDryRun = { status: 403, message: "pods is forbidden: User cannot create resource" };
    expect(verdicts(other)[2]).toBe("5.2.2 FAIL");
  });

  it("fails 3.2.1 when the audit log is empty or holds only None-level noise", () => {
    for (const line of ["", "not json", '{"level":"None"}']) {
      const a = healthy();
      a.auditLogLine = line;
      expect(verdicts(a)[3]).toBe("3.2.1 FAIL");
    }
  });
});

describe("the FIPS lines (fips: true)", () => {
  const fipsExpect: Expectations = { ...expectations, fipsNodes: ["s1", "a1"] };
  // The last line 35-fips-module.sh prints, as the script tests see it on a FIPS stand-in binary.
  const evidence = (node: string, kernel = "1", symbols = 3) =>
    `hardened-rke2: FIPS ${node}: kernel fips_enabled=${kernel}, /usr/local/bin/rke2 carries the BoringCrypto module (${symbols} _Cfunc__goboringcrypto_ symbols)\n`;

  it("reports one FIPS line per node after the CIS controls", () => {
    const a = { ...healthy(), fipsEvidence: { s1: evidence("s1"), a1: evidence("a1") } };
    expect(formatResults(verifyControls(fipsExpect, a)).split("\n").slice(4)).toEqual([
      "PASS FIPS FIPS mode and crypto module on s1: kernel fips_enabled=1; /usr/local/bin/rke2 carries the BoringCrypto module (3 symbols)",
      "PASS FIPS FIPS mode and crypto module on a1: kernel fips_enabled=1; /usr/local/bin/rke2 carries the BoringCrypto module (3 symbols)",
    ]);
  });

  it("fails the node whose evidence is missing, another node's, or shows the kernel out of FIPS mode", () => {
    const a = { ...healthy(), fipsEvidence: { s1: evidence("a1"), a1: evidence("a1", "0") } };
    expect(verdicts(a, fipsExpect).slice(4)).toEqual(["FIPS FAIL", "FIPS FAIL"]);
    const none = verifyControls(fipsExpect, { ...healthy(), fipsEvidence: {} });
    expect(none[4].detail).toBe("no FIPS evidence from the node's fips-module step");
    expect(
      verifyControls(fipsExpect, {
        ...healthy(),
        fipsEvidence: { s1: evidence("s1"), a1: evidence("a1", "0") },
      })[5].detail,
    ).toBe("kernel fips_enabled=0, 3 BoringCrypto symbols in /usr/local/bin/rke2");
  });

  it("adds no FIPS line when the stack does not ask for FIPS", () => {
    expect(verdicts({ ...healthy(), fipsEvidence: { s1: evidence("s1") } })).toHaveLength(4);
  });
});

describe("host checks in the verification (each node's cis step output)", () => {
  const s = specOf(existingConfig());
  const expect1 = expectationsOf(s);
  const nodes = expect1.hostCheckNodes;
  const allPass = (ids: string[]) =>
    `${ids.map((id) => `PASS ${id} checked`).join("\n")}\nhardened-rke2: cis: ${ids.length} host checks, ${ids.length} PASS, 0 FAIL\n`;
  const reports = () => Object.fromEntries(nodes.map((n) => [n.name, allPass(n.ids)]));

  it("lists PASS by control ID and node, and counts the benchmark's automated checks verified", () => {
    const results = hostCheckResults(expect1, reports());
    expect(results.every((r) => r.pass)).toBe(true);
    expect(results.length).toBe(nodes.reduce((n, x) => n + x.ids.length, 0));
    const server = nodes.find((n) => n.ids.includes("1.2.16"));
    expect(formatResults(results.filter((r) => r.id === "1.2.16" && r.node === server?.name))).toBe(
      `PASS 1.2.16 [${server?.name}] --audit-log-path argument is set: checked`,
    );
    // With the in-cluster checks: 78 automated in rke2-cis-1.12, 4 not checkable on a node (CIS.md says why).
    const all = verifyControls(expect1, { ...healthy(), hostChecks: reports() });
    expect(summarize("rke2-cis-1.12", all)).toMatch(
      /^hardened-rke2: rke2-cis-1\.12: 74 of 78 automated checks verified, 0 FAIL, 4 not checkable on a node \(1\.2\.20, 4\.1\.1, 4\.1\.2, 4\.2\.7\); \d+ of \d+ further checks PASS/,
    );
  });

  it("fails a control a node reports FAIL, one it leaves out, and every control of a node without output", () => {
    const r = reports();
    const [first, second] = nodes;
    r[first.name] = r[first.name]
      .replace("PASS 1.2.17 checked", "FAIL 1.2.17 kube-apiserver --audit-log-maxage=7")
      .replace(/PASS 4\.2\.12 checked\n/, "");
    delete r[second.name];
    const failed = hostCheckResults(expect1, r).filter((x) => !x.pass);
    expect(failed.filter((x) => x.node === first.name).map((x) => `${x.id}: ${x.detail}`)).toEqual([
      "1.2.17: kube-apiserver --audit-log-maxage=7",
      `4.2.12: no result from ${first.name}'s cis step`,
    ]);
    expect(failed.filter((x) => x.node === second.name).length).toBe(second.ids.length);
    const all = verifyControls(expect1, { ...healthy(), hostChecks: r });
    expect(summarize("rke2-cis-1.12", all)).toMatch(/automated checks verified, [1-9]\d* FAIL/);
  });
});

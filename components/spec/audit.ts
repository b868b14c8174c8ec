// Section "audit": the API server's audit policy and log retention. The retention minimums are CIS controls
// (1.2.17–1.2.19 in CIS 1.9+, 1.2.18–1.2.20 in rke2-cis-1.8): lower values are refused.
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { bad, fmt } from "./problems";
import { readOperatorFile, section } from "./section";

export const auditShape = {
  audit: z
    .strictObject({
      /** The operator's own policy file (local path); the built-in CIS-grade policy when unset. */
      policyFile: z.string().min(1).optional(),
      logPath: z
        .string()
        // A plain absolute path: it reaches the API server's flags and the node's commands.
        .regex(/^\/[A-Za-z0-9/._-]+$/, {
          error: bad(
            "is not a plain absolute path; allowed: letters, digits, '/', '.', '_' and '-', e.g. /var/lib/rancher/rke2/server/logs/audit.log",
          ),
        })
        .default("/var/lib/rancher/rke2/server/logs/audit.log"),
      maxAge: z
        .number()
        .int()
        .min(30, { error: bad("is below the CIS minimum; allowed: 30 or more days") })
        .default(30),
      maxBackup: z
        .number()
        .int()
        .min(10, { error: bad("is below the CIS minimum; allowed: 10 or more files") })
        .default(10),
      maxSize: z
        .number()
        .int()
        .min(100, { error: bad("is below the CIS minimum; allowed: 100 or more MB") })
        .default(100),
    })
    .prefault({}),
};

export type AuditSpec = z.output<typeof auditShape.audit>;

/** An audit policy that logs nothing is RKE2's own empty default, which CIS 3.2.1 exists to catch. */
function auditPolicyProblem(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return `is not YAML (${(err as Error).message.split("\n")[0]}); allowed: an audit.k8s.io/v1 Policy`;
  }
  const policy = doc as { apiVersion?: unknown; kind?: unknown; rules?: { level?: unknown }[] } | null;
  if (policy?.apiVersion !== "audit.k8s.io/v1" || policy.kind !== "Policy") {
    return "is not an audit policy; allowed: apiVersion audit.k8s.io/v1, kind Policy";
  }
  if (!Array.isArray(policy.rules) || !policy.rules.some((r) => r.level !== "None")) {
    return "logs nothing (every rule is level None, like RKE2's empty default); allowed: a policy with at least one rule at Metadata or above (CIS 3.2.1)";
  }
  return undefined;
}

export const audit = section({
  shape: auditShape,
  build({ audit: raw }, { problems, load }) {
    if (raw.policyFile !== undefined) {
      const text = readOperatorFile(problems, ["audit", "policyFile"], load, raw.policyFile);
      const problem = text === undefined ? undefined : auditPolicyProblem(text);
      if (problem) problems.add(["audit", "policyFile"], `${fmt(raw.policyFile)} ${problem}`);
      if (text === undefined || problem) return undefined;
    }
    return { value: { audit: raw }, secrets: [] };
  },
});

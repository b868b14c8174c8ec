// Section "audit": the API server's audit policy and log retention. The retention minimums are CIS controls whose
// minimums (and IDs per benchmark) come from the CIS catalogue: lower values are refused.
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { cisMinimum } from "./cis-catalogue";
import { DISTRIBUTION } from "./distribution";
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
        // Unset: the distribution's (RKE2's server/logs, or the K3s hardening guide's path).
        .optional(),
      maxAge: z
        .number()
        .int()
        .min(cisMinimum("auditLogMaxAge"), {
          error: bad(`is below the CIS minimum; allowed: ${cisMinimum("auditLogMaxAge")} or more days`),
        })
        .default(cisMinimum("auditLogMaxAge")),
      maxBackup: z
        .number()
        .int()
        .min(cisMinimum("auditLogMaxBackup"), {
          error: bad(`is below the CIS minimum; allowed: ${cisMinimum("auditLogMaxBackup")} or more files`),
        })
        .default(cisMinimum("auditLogMaxBackup")),
      maxSize: z
        .number()
        .int()
        .min(cisMinimum("auditLogMaxSize"), {
          error: bad(`is below the CIS minimum; allowed: ${cisMinimum("auditLogMaxSize")} or more MB`),
        })
        .default(cisMinimum("auditLogMaxSize")),
    })
    .prefault({}),
};

export type AuditSpec = z.output<typeof auditShape.audit> & { logPath: string };

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
  build({ audit: raw }, { problems, load, earlier }) {
    if (earlier.distribution === undefined) return undefined;
    if (raw.policyFile !== undefined) {
      const text = readOperatorFile(problems, ["audit", "policyFile"], load, raw.policyFile);
      const problem = text === undefined ? undefined : auditPolicyProblem(text);
      if (problem) problems.add(["audit", "policyFile"], `${fmt(raw.policyFile)} ${problem}`);
      if (text === undefined || problem) return undefined;
    }
    const logPath = raw.logPath ?? DISTRIBUTION[earlier.distribution].auditLog;
    return { value: { audit: { ...raw, logPath } }, secrets: [] };
  },
});

// Policies over what each node receives: the rendered RKE2 config carries a CIS profile its version accepts and the
// audit flags, the audit policy logs, and nothing secret sits in plain command text.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { BENCHMARKS, cisId, cisMinimum, type ControlKey } from "../../components/spec/cis-catalogue";
import {
  acceptedProfiles,
  benchmarkFor,
  CIS_PROFILES,
  parseRke2Version,
  type Benchmark,
  type Profile,
} from "../../components/spec/version";
import type { FileRecord } from "../../components/render/records";
import { envOf, yamlOf } from "./files";
import { nodeViews } from "./nodes";

const COMMAND = "command:remote:Command";
const CONFIG = "/etc/rancher/rke2/config.yaml";
const AUDIT_POLICY = "/etc/rancher/rke2/audit-policy.yaml";

export const cisProfile: StackValidationPolicy = {
  name: "rke2-cis-profile",
  description:
    "Every node's RKE2 config carries a CIS profile its RKE2 version accepts, with protect-kernel-defaults.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const node of nodeViews(args.resources)) {
      const say = (message: string) => report(`node ${node.name}: ${message}`, node.urn);
      const config = yamlOf(node.files, CONFIG);
      if (!config) {
        say(`no ${CONFIG} is written; the node would start RKE2 without the CIS profile`);
        continue;
      }
      const version = parseRke2Version(envOf(node.files).RKE2_VERSION ?? "");
      const profile = config.profile;
      const accepted = version ? acceptedProfiles(version).filter((p) => CIS_PROFILES.includes(p)) : [];
      if (typeof profile !== "string" || !accepted.includes(profile as Profile)) {
        say(
          `profile is ${JSON.stringify(profile)}; RKE2 ${version?.raw ?? "?"} needs one of: ${accepted.join(", ")} (CIS)`,
        );
      }
      if (config["protect-kernel-defaults"] !== true) {
        say(
          `protect-kernel-defaults is not true; the CIS profile requires it (CIS ${cisId("protectKernelDefaults", benchmarkOf(node.files))})`,
        );
      }
    }
  },
};

const MINIMUMS: [string, ControlKey][] = [
  ["audit-log-maxage", "auditLogMaxAge"],
  ["audit-log-maxbackup", "auditLogMaxBackup"],
  ["audit-log-maxsize", "auditLogMaxSize"],
];

/** The benchmark of the node's RKE2 version (its node.env), so messages use that benchmark's IDs; the newest when
 * the version cannot be read (the profile policy reports that). */
function benchmarkOf(files: Map<string, FileRecord>): Benchmark {
  const version = parseRke2Version(envOf(files).RKE2_VERSION ?? "");
  return version ? benchmarkFor(version) : BENCHMARKS[BENCHMARKS.length - 1];
}

export const auditLogging: StackValidationPolicy = {
  name: "rke2-audit-logging",
  description: "Servers log API requests: an audit policy that logs, an audit log path and CIS retention.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const node of nodeViews(args.resources).filter((n) => n.role === "server")) {
      const say = (message: string) => report(`node ${node.name}: ${message}`, node.urn);
      const id = (key: ControlKey) => cisId(key, benchmarkOf(node.files));
      const config = yamlOf(node.files, CONFIG) ?? {};
      if (config["audit-policy-file"] !== AUDIT_POLICY) {
        say(
          `audit-policy-file is ${JSON.stringify(config["audit-policy-file"])}; point it at ${AUDIT_POLICY} (CIS ${id("auditPolicy")})`,
        );
      }
      const apiArgs = Array.isArray(config["kube-apiserver-arg"])
        ? (config["kube-apiserver-arg"] as string[])
        : [];
      const flag = (name: string) => apiArgs.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
      if (!flag("audit-log-path"))
        say(`kube-apiserver-arg has no audit-log-path (CIS ${id("auditLogPath")})`);
      for (const [name, key] of MINIMUMS) {
        const value = Number(flag(name));
        if (!(value >= cisMinimum(key)))
          say(`${name} is ${flag(name) ?? "unset"}; it must be ${cisMinimum(key)} or more (CIS ${id(key)})`);
      }
      const policy = yamlOf(node.files, AUDIT_POLICY) as { rules?: { level?: string }[] } | undefined;
      if (!policy?.rules?.some((r) => r.level !== undefined && r.level !== "None")) {
        say(`the audit policy logs nothing; add a rule at Metadata or above (CIS ${id("auditPolicy")})`);
      }
    }
  },
};

const KEY_MATERIAL = /PRIVATE KEY-----|client-key-data:/;

export const noSecretInCommandText: ResourceValidationPolicy = {
  name: "no-secret-in-command-text",
  description:
    "Remote commands hold no key material in their command text, and the kubeconfig read is never logged.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => {
    if (args.type !== COMMAND && args.type !== "command:local:Command") return;
    for (const field of ["create", "update", "delete"]) {
      const text: unknown = args.props[field];
      if (typeof text === "string" && KEY_MATERIAL.test(text)) {
        report(
          `${args.name}: the ${field} command text holds key material; send secrets as files over stdin instead`,
        );
      }
    }
    if (args.name.endsWith("-kubeconfig") && args.props.logging !== "none") {
      report(
        `${args.name}: reads the admin kubeconfig with logging ${JSON.stringify(args.props.logging ?? "stdoutAndStderr")}; set logging: "none"`,
      );
    }
  },
};

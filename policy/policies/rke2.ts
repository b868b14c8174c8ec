// Policies over what each node receives: the rendered RKE2 config carries a CIS profile its version accepts and the
// audit flags (a K3s config, which has no profile, every item of the K3s hardening guide the same rules read), the
// audit policy logs, and nothing secret sits in plain command text. Paths come from the distribution table, by the
// DISTRIBUTION the node's env file names.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { BENCHMARKS, cisId, cisMinimum, type ControlKey } from "../../components/spec/cis-catalogue";
import {
  acceptedProfiles,
  benchmarkFor,
  CIS_PROFILES,
  parseVersion,
  type Benchmark,
  type Profile,
} from "../../components/spec/version";
import type { FileRecord } from "../../components/render/records";
import { DISTRIBUTION, pathsOf, type Distribution } from "../../components/spec/distribution";
import { envOf, yamlOf } from "./files";
import { nodeViews } from "./nodes";

const COMMAND = "command:remote:Command";

/** The node's distribution (its env file; RKE2 for a node rendered before K3s existed) and its paths. */
function distributionOf(files: Map<string, FileRecord>): Distribution {
  const d = envOf(files).DISTRIBUTION;
  return d === "k3s" ? "k3s" : "rke2";
}

export const cisProfile: StackValidationPolicy = {
  name: "rke2-cis-profile",
  description:
    "Every node's RKE2 config carries a CIS profile its RKE2 version accepts, with protect-kernel-defaults.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const node of nodeViews(args.resources)) {
      const say = (message: string) => report(`node ${node.name}: ${message}`, node.urn);
      const d = distributionOf(node.files);
      const { config: configPath } = pathsOf(d);
      const config = yamlOf(node.files, configPath);
      if (!config) {
        say(
          `no ${configPath} is written; the node would start ${DISTRIBUTION[d].title} without ${DISTRIBUTION[d].hasProfile ? "the CIS profile" : "its hardening guide's settings"}`,
        );
        continue;
      }
      const version = parseVersion(envOf(node.files).RKE2_VERSION ?? "", d);
      if (DISTRIBUTION[d].hasProfile) {
        const profile = config.profile;
        const accepted = version ? acceptedProfiles(version).filter((p) => CIS_PROFILES.includes(p)) : [];
        if (typeof profile !== "string" || !accepted.includes(profile as Profile)) {
          say(
            `profile is ${JSON.stringify(profile)}; RKE2 ${version?.raw ?? "?"} needs one of: ${accepted.join(", ")} (CIS)`,
          );
        }
      } else if (node.role === "server") {
        // K3s has no profile: its hardening guide's server keys stand in for it. Secrets encryption is off unless set
        // (CIS 1.2.27/1.2.28), and `disable-network-policy` turns off the only NetworkPolicy enforcement (CIS 5.3.1).
        if (config["secrets-encryption"] !== true)
          say(
            `secrets-encryption is not true; K3s leaves Secrets unencrypted (CIS ${cisId("encryption", benchmarkOf(node.files))})`,
          );
        if (config["disable-network-policy"] === true)
          say(
            `disable-network-policy is true; nothing would enforce NetworkPolicy (CIS ${cisId("cniNetworkPolicy", benchmarkOf(node.files))})`,
          );
      }
      if (config["protect-kernel-defaults"] !== true) {
        say(
          `protect-kernel-defaults is not true; ${DISTRIBUTION[d].hasProfile ? "the CIS profile requires" : "the K3s hardening guide sets"} it (CIS ${cisId("protectKernelDefaults", benchmarkOf(node.files))})`,
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
  const version = parseVersion(envOf(files).RKE2_VERSION ?? "", distributionOf(files));
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
      const d = distributionOf(node.files);
      const paths = pathsOf(d);
      const auditPolicyPath = paths.auditPolicy;
      const config = yamlOf(node.files, paths.config) ?? {};
      const apiArgs = Array.isArray(config["kube-apiserver-arg"])
        ? (config["kube-apiserver-arg"] as string[])
        : [];
      const flag = (name: string) => apiArgs.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
      // RKE2 takes the file as its own key; K3s only as a kube-apiserver flag.
      const policyFile =
        DISTRIBUTION[d].apiServerFilesAs === "keys" ? config["audit-policy-file"] : flag("audit-policy-file");
      if (policyFile !== auditPolicyPath) {
        say(
          `audit-policy-file is ${JSON.stringify(policyFile)}; point it at ${auditPolicyPath} (CIS ${id("auditPolicy")})`,
        );
      }
      if (!flag("audit-log-path"))
        say(`kube-apiserver-arg has no audit-log-path (CIS ${id("auditLogPath")})`);
      for (const [name, key] of MINIMUMS) {
        const value = Number(flag(name));
        if (!(value >= cisMinimum(key)))
          say(`${name} is ${flag(name) ?? "unset"}; it must be ${cisMinimum(key)} or more (CIS ${id(key)})`);
      }
      const policy = yamlOf(node.files, auditPolicyPath) as { rules?: { level?: string }[] } | undefined;
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

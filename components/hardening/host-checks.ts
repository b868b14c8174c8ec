// Operator-side CIS checks on a server node, the way kube-bench's RKE2 benchmark makes them: flags of the running
// control-plane processes (from their command lines) and modes and owners of the files on disk. Pure: the facts are
// gathered by cli/cis-check.ts on the node, or by a test from its own processes. On K3s the components run inside the
// one k3s process, so their command lines come from the lines K3s logs as it starts them (k3sComponentArgs), which is
// where K3s's CIS self-assessment audits read them too.
import { parse } from "yaml";
import { rootOnlyFiles } from "../render/cis-checks";
import { cisId, cisMinimum, type ControlKey } from "../spec/cis-catalogue";
import type { ClusterSpec } from "../spec/types";
import type { ControlResult } from "./verify";

export interface FileFact {
  mode: number;
  uid: number;
  gid: number;
}

export interface HostFacts {
  /** Command-line arguments of each running control-plane process; undefined when it is not running. */
  processes: Partial<Record<"kube-apiserver" | "kube-controller-manager", string[]>>;
  /** stat of each file checked; undefined when absent. */
  files: Record<string, FileFact | undefined>;
  /** The text of the file kube-apiserver's --encryption-provider-config names; undefined when unset or unreadable. */
  encryptionConfig?: string;
}

/** The provider that encrypts new Secrets: the first one listed for `secrets` (the API server writes with it). */
function secretsWriteProvider(config: string | undefined): string | undefined {
  if (config === undefined) return undefined;
  try {
    const doc = parse(config) as {
      resources?: { resources?: string[]; providers?: Record<string, unknown>[] }[];
    };
    const entry = doc.resources?.find((r) => r.resources?.includes("secrets"));
    return Object.keys(entry?.providers?.[0] ?? {})[0];
  } catch {
    return undefined;
  }
}

/**
 * The command line of an embedded K3s component, from K3s's log (`journalctl -u k3s`): K3s logs
 * `Running kube-apiserver <flags>` each time it starts one (k3s pkg/daemons/control/server.go, logrus.Infof with
 * config.ArgString: the flags joined by spaces), and its CIS self-assessment audits read the last such line
 * (docs.k3s.io security/self-assessment-1.12: `journalctl -m -u k3s | grep 'Running kube-apiserver' | tail -n1`).
 * Undefined when the log has no such line (the component has not been started).
 */
export function k3sComponentArgs(log: string, component: string): string[] | undefined {
  const marker = `Running ${component} `;
  const line = log
    .split("\n")
    .filter((l) => l.includes(marker))
    .pop();
  if (line === undefined) return undefined;
  // logrus quotes the message (msg="..."); with `journalctl -o cat` or a plain formatter it may stand alone.
  const text = line.slice(line.indexOf(marker) + marker.length).replace(/"\s*$/, "");
  return text.split(" ").filter((a) => a !== "");
}

/** The value of `--flag=value` in a process's arguments. */
export function flagValue(args: string[] | undefined, flag: string): string | undefined {
  const prefix = `--${flag}=`;
  // The last one given: RKE2 puts its own defaults before the config's `kube-apiserver-arg` items (a flag set both
  // ways appears twice) and Go's flag package keeps the last value, as the node's 60-cis-check.sh does.
  return args
    ?.filter((a) => a.startsWith(prefix))
    .pop()
    ?.slice(prefix.length);
}

export function hostChecks(spec: ClusterSpec, facts: HostFacts): ControlResult[] {
  const idOf = (key: ControlKey) => cisId(key, spec.benchmark);
  const api = facts.processes["kube-apiserver"];
  const kcm = facts.processes["kube-controller-manager"];
  const results: ControlResult[] = [];
  const check = (
    key: ControlKey,
    title: string,
    value: string | undefined,
    ok: (v: string) => boolean,
    process: string,
  ) =>
    results.push({
      key,
      id: idOf(key),
      title,
      pass: value !== undefined && ok(value),
      detail:
        value === undefined
          ? `${process} ${facts.processes[process as keyof HostFacts["processes"]] ? "runs without the flag" : "is not running"}`
          : `${title.split(" ")[0]}=${value}`,
    });

  check(
    "auditLogPath",
    "--audit-log-path is set",
    flagValue(api, "audit-log-path"),
    (v) => v !== "",
    "kube-apiserver",
  );
  check(
    "auditLogMaxAge",
    "--audit-log-maxage is 30 or more",
    flagValue(api, "audit-log-maxage"),
    (v) => Number(v) >= cisMinimum("auditLogMaxAge"),
    "kube-apiserver",
  );
  check(
    "auditLogMaxBackup",
    "--audit-log-maxbackup is 10 or more",
    flagValue(api, "audit-log-maxbackup"),
    (v) => Number(v) >= cisMinimum("auditLogMaxBackup"),
    "kube-apiserver",
  );
  check(
    "auditLogMaxSize",
    "--audit-log-maxsize is 100 or more",
    flagValue(api, "audit-log-maxsize"),
    (v) => Number(v) >= cisMinimum("auditLogMaxSize"),
    "kube-apiserver",
  );
  // CIS 1.2.27/1.2.28 (1.12 numbering): Secrets are encrypted at rest, so the flag must name a config whose first
  // provider for secrets is a real cipher, not `identity` (RKE2 writes aescbc there when secrets-encryption is on).
  const encryption = flagValue(api, "encryption-provider-config");
  const writer = secretsWriteProvider(facts.encryptionConfig);
  results.push({
    key: "encryption",
    id: idOf("encryption"),
    title: "--encryption-provider-config is set and encrypts Secrets",
    pass: encryption !== undefined && writer !== undefined && writer !== "identity",
    detail:
      encryption === undefined
        ? `kube-apiserver ${api ? "runs without the flag" : "is not running"}`
        : `Secrets written with ${writer ?? "no provider (config unreadable)"}`,
  });
  check(
    "auditPolicy",
    "--audit-policy-file is set",
    flagValue(api, "audit-policy-file"),
    (v) => v !== "",
    "kube-apiserver",
  );
  check(
    "policyControl",
    "--admission-control-config-file is set",
    flagValue(api, "admission-control-config-file"),
    (v) => v !== "",
    "kube-apiserver",
  );
  check(
    "terminatedPodGc",
    "--terminated-pod-gc-threshold is set",
    flagValue(kcm, "terminated-pod-gc-threshold"),
    (v) => Number(v) > 0,
    "kube-controller-manager",
  );

  for (const file of rootOnlyFiles(spec.distribution)) {
    const f = facts.files[file];
    const ok = f !== undefined && (f.mode & 0o077) === 0 && f.uid === 0 && f.gid === 0;
    results.push({
      key: "productFiles",
      id: idOf("productFiles"),
      title: `${file} is 600 or stricter and root:root`,
      pass: ok,
      detail: f === undefined ? "missing" : `mode ${(f.mode & 0o777).toString(8)}, owner ${f.uid}:${f.gid}`,
    });
  }
  return results;
}

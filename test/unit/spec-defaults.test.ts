// Proves each section's defaults are written once, in its schema: the spec built from a minimal config carries the
// value the schema declares, and the README's configuration reference names that same value for the key. Cannot
// prove the README's prose beside the value is right, only that the value shown is the code's.
import * as fs from "node:fs";
import * as path from "node:path";
import type { z } from "zod";
import { addonsShape } from "../../components/spec/addons";
import { admissionGuardShape } from "../../components/spec/admission-guard";
import { auditShape } from "../../components/spec/audit";
import { clusterShape, releaseShape } from "../../components/spec/core";
import { etcdSnapshotsShape } from "../../components/spec/etcd-snapshots";
import { fipsShape } from "../../components/spec/fips";
import { installShape } from "../../components/spec/install";
import { networkShape } from "../../components/spec/network";
import { nodeSchemas } from "../../components/spec/nodes";
import { podSecurityShape } from "../../components/spec/pod-security";
import { registriesShape } from "../../components/spec/registries";
import { REPO, awsConfig, existingConfig, spec } from "../helpers/spec";

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
}
const def = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Every `.default(...)` under a schema, as [dotted key path, value]; `[]` marks an array or record element. */
function defaults(schema: z.ZodType, at: string): [string, unknown][] {
  const d = def(schema);
  switch (d.type) {
    case "default":
      return [[at, d.defaultValue], ...defaults(d.innerType as z.ZodType, at)];
    case "prefault":
    case "optional":
    case "pipe":
      return d.innerType ? defaults(d.innerType, at) : [];
    case "object":
      return Object.entries(d.shape ?? {}).flatMap(([k, v]) => defaults(v, at ? `${at}.${k}` : k));
    case "array":
      return defaults(d.element as z.ZodType, `${at}[]`);
    case "record":
      return defaults(d.valueType as z.ZodType, `${at}[]`);
    default:
      return [];
  }
}

const fromShape = (shape: Record<string, z.ZodType>) =>
  Object.entries(shape).flatMap(([k, v]) => defaults(v, k));

const SECTION_DEFAULTS = [
  ...fromShape(clusterShape),
  ...fromShape(releaseShape),
  ...fromShape(networkShape),
  ...fromShape(installShape),
  ...fromShape(registriesShape),
  ...fromShape(etcdSnapshotsShape),
  ...fromShape(auditShape),
  ...fromShape(podSecurityShape),
  ...fromShape(admissionGuardShape),
  ...fromShape(fipsShape),
  ...fromShape(addonsShape),
];
const NODE_DEFAULTS = {
  aws: defaults(nodeSchemas.aws, ""),
  existing: defaults(nodeSchemas.existing, ""),
};

function get(value: unknown, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
}

const README = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
const reference = README.slice(README.indexOf("## Configuration reference"), README.indexOf("## Deploying"));

/** The README names the default beside the key: in its table row, or as "`key` (`value`)" in the nodes prose. */
function documented(key: string, value: unknown): boolean {
  const last = key.replace(/\[\]/g, "").split(".").pop() ?? key;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const spellings = [`\`${text}\``, `(${text})`];
  return reference
    .split("\n")
    .filter(
      (line) => line.includes(`\`${key}\``) || line.includes(`\`.${last}\``) || line.includes(`\`${last}\``),
    )
    .some((line) => {
      const after = line.slice(line.indexOf(last));
      return spellings.some((s) => after.includes(s));
    });
}

describe("defaults that depend on the distribution come from its row in the distribution table", () => {
  it.each([
    ["rke2", "v1.33.5+rke2r1", "canal", "/var/lib/rancher/rke2/server/logs/audit.log", "rancher/rke2"],
    ["k3s", "v1.33.5+k3s1", "flannel", "/var/lib/rancher/k3s/server/logs/audit.log", "k3s-io/k3s"],
  ])("%s: cni, audit.logPath and install.artifactUrl", (distribution, version, cni, logPath, repo) => {
    const s = spec({ ...existingConfig(), distribution, version });
    expect([s.cni, s.audit.logPath, s.install.mode === "online" && s.install.artifactUrl]).toEqual([
      cni,
      logPath,
      `https://github.com/${repo}/releases/download`,
    ]);
  });
});

describe("defaults are written once, in the section schemas", () => {
  it("finds the defaults it checks (the walk reaches every section)", () => {
    expect(SECTION_DEFAULTS.map(([k]) => k)).toEqual(
      expect.arrayContaining([
        "distribution",
        "install.mode",
        "audit.maxAge",
        "etcdSnapshots.retention",
        "fips",
        "addons.rke2-ingress-nginx.values",
      ]),
    );
    expect(NODE_DEFAULTS.aws.map(([k]) => k)).toEqual(
      expect.arrayContaining(["zones", "servers.rootVolumeGb"]),
    );
  });

  // Not carried as such: secretsEncryption can only be true, s3, restore, bastion and the addons' charts are unset in a minimal config, the public opt-ins are
  // consumed by the CIDR rules, the AMI and zones become `ami` and `network`, and the fixture names its own pools.
  const carried = ([k]: [string, unknown]) =>
    !k.includes("[]") &&
    !["secretsEncryption", "allowPublicSsh", "allowPublicApi", "zones", "agentPools"].includes(k) &&
    !k.startsWith("etcdSnapshots.s3.") &&
    !k.startsWith("restore.") &&
    !k.startsWith("bastion.") &&
    // Each chart's entry is unset in a minimal config; its defaults apply once the stack names the chart.
    !k.startsWith("addons.") &&
    !k.startsWith("ami");

  it.each(SECTION_DEFAULTS.filter(carried))("a minimal config gets %s from the schema", (key, value) => {
    expect(get(spec(existingConfig()), key)).toEqual(value);
  });

  it.each(NODE_DEFAULTS.aws.filter(carried))(
    "a minimal AWS config gets nodes.%s from the schema",
    (key, value) => {
      expect(get(spec(awsConfig()).nodes, key)).toEqual(value);
    },
  );

  it.each([...SECTION_DEFAULTS, ...NODE_DEFAULTS.aws, ...NODE_DEFAULTS.existing])(
    "the README's configuration reference names %s's default, %j",
    (key, value) => {
      expect({ key, documented: documented(key, value) }).toEqual({ key, documented: true });
    },
  );
});

// Sections "cluster" (name, distribution, SELinux, secrets encryption, verification) and "release" (the pinned RKE2
// release and the CIS profile it runs with, checked against what that release accepts: FACTS §1). Two sections so
// that a bad name never hides a profile the release refuses.
import { z } from "zod";
import { dnsLabel } from "./fields";
import { bad, fmt, type Problems } from "./problems";
import { section } from "./section";
import { DISTRIBUTION, DISTRIBUTIONS, type Distribution } from "./distribution";
import {
  ALL_PROFILES,
  CIS_PROFILES,
  OLDEST_SUPPORTED_MINOR,
  acceptedProfiles,
  benchmarkFor,
  defaultProfile,
  parseVersion,
  type Profile,
  type Rke2Version,
} from "./version";

export const clusterShape = {
  name: dnsLabel(40),
  /** Which Kubernetes distribution the nodes run; every path, unit and config key follows its row in
   * distribution.ts. */
  distribution: z
    .enum(DISTRIBUTIONS, {
      error: bad(`is not a supported distribution; allowed: ${DISTRIBUTIONS.join(", ")}`),
    })
    .default("rke2"),
  selinux: z.boolean().default(false),
  secretsEncryption: z
    .literal(true, {
      error: bad(
        "cannot turn secrets encryption off; allowed: true (CIS 1.2.27/1.2.28; RKE2 forces it on servers, K3s's hardening guide sets it)",
      ),
    })
    .default(true),
  verification: z.enum(["enforce", "report"]).default("enforce"),
};

function checkVersion(problems: Problems, raw: string, distribution: Distribution): Rke2Version | undefined {
  const d = DISTRIBUTION[distribution];
  const v = parseVersion(raw, distribution);
  if (!v) {
    problems.add(
      ["version"],
      `${fmt(raw)} is not a pinned ${d.title} release; allowed: a pinned release such as ${d.exampleVersion}` +
        (distribution === "rke2" && parseVersion(raw, "k3s") ? " (or set distribution: k3s)" : ""),
    );
    return undefined;
  }
  if (v.major !== 1 || v.minor < OLDEST_SUPPORTED_MINOR) {
    problems.add(
      ["version"],
      `${fmt(raw)} is older than the oldest supported line; allowed: v1.${OLDEST_SUPPORTED_MINOR}.0+${d.versionSuffix}1 ` +
        `or later (older ${d.title} lines rely on PodSecurityPolicy and are end of life)`,
    );
    return undefined;
  }
  return v;
}

function checkProfile(problems: Problems, v: Rke2Version, raw: string | undefined): Profile | undefined {
  if (v.distribution === "k3s") {
    // K3s has no `profile` flag (it would refuse the key): the stack spells out every item of its hardening guide.
    if (raw !== undefined)
      problems.add(
        ["profile"],
        `${fmt(raw)} is an RKE2 setting; allowed: unset with distribution k3s (K3s has no CIS profile flag; the stack renders every item of the K3s hardening guide instead)`,
      );
    return undefined;
  }
  const accepted = acceptedProfiles(v);
  const cisAccepted = accepted.filter((p) => CIS_PROFILES.includes(p));
  if (raw === undefined) return defaultProfile(v);
  const known = (ALL_PROFILES as readonly string[]).includes(raw);
  if (known && accepted.includes(raw as Profile) && !CIS_PROFILES.includes(raw as Profile)) {
    problems.add(
      ["profile"],
      `${fmt(raw)} is accepted by RKE2 ${v.raw} but is not a CIS profile (no kernel-parameter check, no restricted ` +
        `pod security); allowed: ${cisAccepted.join(", ")}`,
    );
    return undefined;
  }
  if (!known || !accepted.includes(raw as Profile)) {
    problems.add(
      ["profile"],
      `${fmt(raw)} is not accepted by RKE2 ${v.raw} (it would refuse to start); allowed: ${cisAccepted.join(", ")}` +
        " (or leave profile unset to derive it from the version)",
    );
    return undefined;
  }
  return raw as Profile;
}

export const releaseShape = {
  version: z.string({
    error: bad("is not a version; allowed: a pinned release such as v1.33.5+rke2r1 or v1.33.5+k3s1"),
  }),
  profile: z.string().optional(),
};

export const cluster = section({
  shape: clusterShape,
  build: (raw) => ({
    value: {
      name: raw.name,
      distribution: raw.distribution,
      selinux: raw.selinux,
      /** After deploy, read the controls back from the API server: `enforce` fails the update when one does not
       * hold, `report` only reports. */
      verification: raw.verification,
    },
    secrets: [],
  }),
});

export const release = section({
  shape: releaseShape,
  build(raw, { problems, earlier }) {
    if (earlier.distribution === undefined) return undefined;
    const before = problems.list.length;
    const version = checkVersion(problems, raw.version, earlier.distribution);
    const profile = version && checkProfile(problems, version, raw.profile);
    if (!version || problems.list.length > before) return undefined;
    return {
      /** `profile` is RKE2's CIS profile; undefined on K3s, which has none. */
      value: { version, profile, benchmark: benchmarkFor(version) },
      secrets: [
        {
          key: "clusterToken",
          purpose: `the ${DISTRIBUTION[earlier.distribution].title} cluster token (generated by the stack when unset)`,
          required: false,
        },
      ],
    };
  },
});

// Section "install": online from a pinned release URL, or air-gapped from the operator's folder, whose files and
// checksums are checked here (at preview) and again on every node before use.
import { z } from "zod";
import { checkAirgapFolder, type AirgapCheck } from "./artifacts";
import { bad, fmt } from "./problems";
import { section } from "./section";
import { DISTRIBUTION, type Distribution } from "./distribution";

const sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { error: bad("is not a sha256; allowed: 64 lower-case hex digits") });

export const installShape = {
  install: z
    .strictObject({
      mode: z.enum(["online", "airgap"]).default("online"),
      arch: z.enum(["amd64", "arm64"]).default("amd64"),
      artifactsDir: z.string().min(1).optional(),
      artifactUrl: z
        .string()
        .regex(/^https:\/\/[^\s]+$/, {
          error: bad("is not an https URL; allowed: https://… (TLS is always verified)"),
        })
        // Unset: the distribution's GitHub releases (RKE2's or K3s's).
        .optional(),
      /** RKE2: pins the release tarball's sha256 too (the node always checks the published checksum file). */
      tarballSha256: sha256.optional(),
      /** K3s: pins the `k3s` binary's sha256 too. */
      binarySha256: sha256.optional(),
    })
    .prefault({}),
};

export type Arch = z.output<typeof installShape.install>["arch"];

type RawInstall = z.output<typeof installShape.install>;

const onlineSpec = (
  { arch, artifactUrl, tarballSha256, binarySha256 }: RawInstall,
  distribution: Distribution,
) => ({
  mode: "online" as const,
  arch,
  artifactUrl: artifactUrl ?? DISTRIBUTION[distribution].defaultArtifactUrl,
  /** Pins the install artifact's checksum too: RKE2's tarball, K3s's binary (the node always checks the published
   * checksum file). */
  artifactSha256: tarballSha256 ?? binarySha256,
});

const airgapSpec = (arch: Arch, artifactsDir: string, checked: AirgapCheck) => ({
  mode: "airgap" as const,
  arch,
  artifactsDir,
  checksumFile: checked.checksumFile,
  artifacts: checked.artifacts,
});

export type InstallSpec = ReturnType<typeof onlineSpec> | ReturnType<typeof airgapSpec>;

export const install = section<typeof installShape, { install: InstallSpec }>({
  shape: installShape,
  build({ install: raw }, { problems, load, earlier }) {
    const distribution = earlier.distribution;
    if (distribution === undefined) return undefined;
    // Each pin names the artifact it pins: a tarball pin on K3s (or a binary pin on RKE2) would pin nothing.
    const wrongPin = distribution === "k3s" ? "tarballSha256" : "binarySha256";
    if (raw[wrongPin] !== undefined) {
      problems.add(
        ["install", wrongPin],
        `is set but ${DISTRIBUTION[distribution].title} installs from ${DISTRIBUTION[distribution].artifact(raw.arch).file}; ` +
          `allowed: ${distribution === "k3s" ? "binarySha256" : "tarballSha256"}`,
      );
      return undefined;
    }
    if (raw.mode === "online") {
      if (raw.artifactsDir !== undefined) {
        problems.add(
          ["install", "artifactsDir"],
          `${fmt(raw.artifactsDir)} is only used by mode airgap; allowed: ` +
            "remove it, or set install.mode: airgap",
        );
        return undefined;
      }
      return { value: { install: onlineSpec(raw, distribution) }, secrets: [] };
    }
    if (raw.artifactsDir === undefined) {
      problems.add(
        ["install", "artifactsDir"],
        `missing; allowed: the operator folder holding ${DISTRIBUTION[distribution].artifact(raw.arch).file}, ` +
          `${DISTRIBUTION[distribution].images(raw.arch)[0]} and sha256sum-${raw.arch}.txt (required by mode airgap)`,
      );
      return undefined;
    }
    // Without a private registry every image must come from a tarball, including the chosen CNI's.
    const imagesFromRegistry = earlier.systemDefaultRegistry !== undefined;
    const result = checkAirgapFolder(
      load.baseDir,
      raw.artifactsDir,
      raw.arch,
      earlier.cni ?? DISTRIBUTION[distribution].cnis[0],
      imagesFromRegistry,
      distribution,
    );
    for (const message of result.problems) problems.add(["install", "artifactsDir"], message);
    if (result.problems.length > 0) return undefined;
    return { value: { install: airgapSpec(raw.arch, raw.artifactsDir, result) }, secrets: [] };
  },
});

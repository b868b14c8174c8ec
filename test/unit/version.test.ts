// Proves the version rules table against the releases named in FACTS.md §1 (taken from rancher/rke2's code at each
// tag). It cannot prove RKE2 itself still behaves so in releases newer than that research.
import {
  acceptedProfiles,
  benchmarkFor,
  kubeBenchFor,
  defaultProfile,
  needsExplicitTokenExpirationFlag,
  parseRke2Version,
  supportsDisableDefaultRegistryEndpoint,
  type Rke2Version,
} from "../../components/spec/version";

function v(raw: string): Rke2Version {
  const parsed = parseRke2Version(raw);
  if (!parsed) throw new Error(`test version ${raw} does not parse`);
  return parsed;
}

describe("parseRke2Version", () => {
  it("parses a pinned release", () => {
    expect(parseRke2Version("v1.33.5+rke2r1")).toEqual({
      raw: "v1.33.5+rke2r1",
      distribution: "rke2",
      major: 1,
      minor: 33,
      patch: 5,
      revision: 1,
    });
  });
  it.each(["1.33.5+rke2r1", "v1.33", "v1.33.5", "v1.33.5+k3s1", "v1.33.5-rc1+rke2r1", "latest"])(
    "rejects %s",
    (raw) => {
      expect(parseRke2Version(raw)).toBeUndefined();
    },
  );
});

describe("acceptedProfiles and defaultProfile", () => {
  it.each([
    ["v1.19.16+rke2r1", ["cis-1.5"], "cis-1.5"],
    ["v1.20.4+rke2r1", ["cis-1.5"], "cis-1.5"],
    ["v1.20.5+rke2r1", ["cis-1.5", "cis-1.6"], "cis-1.6"],
    ["v1.24.17+rke2r1", ["cis-1.5", "cis-1.6"], "cis-1.6"],
    ["v1.25.0+rke2r1", ["cis-1.23"], "cis-1.23"],
    ["v1.25.14+rke2r1", ["cis-1.23"], "cis-1.23"],
    ["v1.25.15+rke2r1", ["cis-1.23", "cis"], "cis"],
    ["v1.26.9+rke2r1", ["cis-1.23"], "cis-1.23"],
    ["v1.26.10+rke2r1", ["cis-1.23", "cis"], "cis"],
    ["v1.27.6+rke2r1", ["cis-1.23"], "cis-1.23"],
    ["v1.27.7+rke2r1", ["cis-1.23", "cis"], "cis"],
    ["v1.28.1+rke2r1", ["cis-1.23"], "cis-1.23"],
    ["v1.28.2+rke2r1", ["cis-1.23", "cis"], "cis"],
    ["v1.29.0+rke2r1", ["cis-1.23", "cis"], "cis"],
    ["v1.30.0+rke2r1", ["cis"], "cis"],
    ["v1.30.13+rke2r1", ["cis"], "cis"],
    ["v1.30.14+rke2r1", ["cis", "etcd"], "cis"],
    ["v1.31.9+rke2r1", ["cis"], "cis"],
    ["v1.31.10+rke2r1", ["cis", "etcd"], "cis"],
    ["v1.32.5+rke2r1", ["cis"], "cis"],
    ["v1.32.6+rke2r1", ["cis", "etcd"], "cis"],
    ["v1.33.1+rke2r1", ["cis"], "cis"],
    ["v1.33.2+rke2r1", ["cis", "etcd"], "cis"],
    ["v1.34.0+rke2r1", ["cis"], "cis"],
    ["v1.34.1+rke2r1", ["cis", "etcd"], "cis"],
    ["v1.36.4+rke2r1", ["cis", "etcd"], "cis"],
  ])("%s accepts %j and defaults to %s", (raw, accepted, def) => {
    expect(acceptedProfiles(v(raw))).toEqual(accepted);
    expect(defaultProfile(v(raw))).toBe(def);
  });
});

describe("benchmarkFor", () => {
  it.each([
    ["v1.25.16+rke2r1", "rke2-cis-1.7"],
    ["v1.26.15+rke2r1", "rke2-cis-1.8"],
    ["v1.27.16+rke2r1", "rke2-cis-1.9"],
    ["v1.28.15+rke2r1", "rke2-cis-1.10"],
    ["v1.29.15+rke2r1", "rke2-cis-1.11"],
    ["v1.31.13+rke2r1", "rke2-cis-1.11"],
    // The compliance operator's rke2-cis-1.12 starts at v1.32 (benchmark-rke2-cis-1.12.yaml minKubernetesVersion).
    ["v1.32.9+rke2r1", "rke2-cis-1.12"],
    ["v1.33.5+rke2r1", "rke2-cis-1.12"],
    ["v1.36.0+rke2r1", "rke2-cis-1.12"],
  ])("%s maps to %s", (raw, benchmark) => {
    expect(benchmarkFor(v(raw))).toBe(benchmark);
  });

  it.each([
    ["v1.25.16+rke2r1", "rke2-cis-1.7"],
    ["v1.26.15+rke2r1", "rke2-cis-1.8"],
    ["v1.33.5+rke2r1", "rke2-cis-1.8"],
  ])("plain kube-bench auto-detects %s as %s", (raw, benchmark) => {
    expect(kubeBenchFor(v(raw))).toBe(benchmark);
  });
});

describe("version-specific flags", () => {
  it.each([
    ["v1.30.14+rke2r1", true],
    ["v1.31.13+rke2r1", true],
    ["v1.31.14+rke2r1", false],
    ["v1.32.9+rke2r1", true],
    ["v1.32.10+rke2r1", false],
    ["v1.33.5+rke2r1", true],
    ["v1.33.6+rke2r1", false],
    ["v1.34.1+rke2r1", true],
    ["v1.34.2+rke2r1", false],
    ["v1.35.0+rke2r1", false],
  ])("%s needs an explicit service-account-extend-token-expiration=false: %s", (raw, needed) => {
    expect(needsExplicitTokenExpirationFlag(v(raw))).toBe(needed);
  });
  it.each([
    ["v1.25.16+rke2r1", false],
    ["v1.26.12+rke2r1", false],
    ["v1.26.13+rke2r1", true],
    ["v1.28.5+rke2r1", false],
    ["v1.28.6+rke2r1", true],
    ["v1.29.0+rke2r1", false],
    ["v1.29.1+rke2r1", true],
    ["v1.30.0+rke2r1", true],
  ])("%s supports disable-default-registry-endpoint: %s", (raw, supported) => {
    expect(supportsDisableDefaultRegistryEndpoint(v(raw))).toBe(supported);
  });
});

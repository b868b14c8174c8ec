// Proves what the program hands the engine for an air-gap artifact: its path and its sha256, in the engine's asset
// format, so the engine takes the hash as given instead of reading the file once per node on every run (its
// EnsureHash reads only an asset without a hash). Cannot prove the engine's side: the SSH end-to-end run measures
// the bytes the CLI reads on a no-op `up` (test/e2e/ssh-up.test.ts).
import * as pulumi from "@pulumi/pulumi";
import { ArtifactAsset } from "../../components/bootstrap/remote";

const SUM = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

describe("air-gap artifact asset", () => {
  it("is sent to the engine with its path and its checksum as the asset's hash", async () => {
    const wire = (await pulumi.runtime.serializeProperty(
      "source",
      new ArtifactAsset("/srv/release/rke2-images.linux-amd64.tar.zst", SUM),
      new Set(),
    )) as Record<string, unknown>;
    expect(wire).toMatchObject({
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialAssetSig,
      path: "/srv/release/rke2-images.linux-amd64.tar.zst",
      hash: SUM,
    });
  });

  it("refuses a value that is not a sha256 digest", () => {
    expect(() => new ArtifactAsset("/srv/a", "not-a-digest")).toThrow(/not a sha256 digest/);
  });
});

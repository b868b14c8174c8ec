// Secrets the stack generates itself, without a Terraform-bridged provider (@pulumi/random cannot be built from Go
// modules here, so the real-engine tests could never run it): small dynamic resources using Node's crypto. Their
// values are created once, kept in state only as secrets, and never change on a re-run.
import * as pulumi from "@pulumi/pulumi";

interface TokenOutputs {
  value: string;
}

/** A random hex token. `create` runs in the engine's dynamic provider, so it may only use what it requires itself. */
const tokenProvider: pulumi.dynamic.ResourceProvider = {
  create(inputs: { bytes: number }) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto") as typeof import("crypto");
    const outs: TokenOutputs = { value: crypto.randomBytes(inputs.bytes).toString("hex") };
    return Promise.resolve({ id: crypto.randomUUID(), outs: { ...inputs, ...outs } });
  },
};

/** The RKE2 cluster token when the stack does not set `clusterToken`: 32 random bytes, a secret from birth. */
export class GeneratedToken extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;
  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super(
      tokenProvider,
      name,
      { bytes: 32, value: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["value"] }),
      "hardened-rke2",
      "GeneratedToken",
    );
  }
}

interface HostKeyOutputs {
  privateKeyPem: string;
  publicKey: string;
}

/**
 * An ECDSA P-256 SSH host key for a VM the stack creates: the private half goes into the instance's cloud-init, the
 * public half is pinned in every SSH connection, so host-key checking holds from the first connection on.
 */
const hostKeyProvider: pulumi.dynamic.ResourceProvider = {
  create(inputs: Record<string, unknown>) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto") as typeof import("crypto");
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const jwk = publicKey.export({ format: "jwk" });
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x ?? "", "base64url"),
      Buffer.from(jwk.y ?? "", "base64url"),
    ]);
    const sshString = (b: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    const blob = Buffer.concat([
      sshString(Buffer.from("ecdsa-sha2-nistp256")),
      sshString(Buffer.from("nistp256")),
      sshString(point),
    ]);
    const outs: HostKeyOutputs = {
      privateKeyPem: privateKey.export({ format: "pem", type: "sec1" }).toString(),
      publicKey: `ecdsa-sha2-nistp256 ${blob.toString("base64")}`,
    };
    return Promise.resolve({ id: crypto.randomUUID(), outs: { ...inputs, ...outs } });
  },
};

export class GeneratedHostKey extends pulumi.dynamic.Resource {
  declare readonly privateKeyPem: pulumi.Output<string>;
  declare readonly publicKey: pulumi.Output<string>;
  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super(
      hostKeyProvider,
      name,
      { privateKeyPem: undefined, publicKey: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKeyPem"] }),
      "hardened-rke2",
      "GeneratedHostKey",
    );
  }
}

// Secrets the stack generates itself, without a Terraform-bridged provider (@pulumi/random cannot be built from Go
// modules here, so the real-engine tests could never run it): small dynamic resources using Node's crypto. Their
// values are created once, kept in state only as secrets, and never change on a re-run.
import * as pulumi from "@pulumi/pulumi";

/**
 * What keeps a generated value for the life of the stack. The engine stores each dynamic resource's provider as
 * serialized code (its `__provider` input); a new TypeScript, SDK or loader version, or any edit of the provider,
 * changes that text, and without `diff` and `update` the engine would update the resource with the new inputs alone,
 * dropping the value (a lost token; a lost host key would leave the SSH connections unpinned). So: only a change of
 * the inputs that shape the value (none but `bytes` here) is a change, and an update keeps every generated output.
 */
const keepGenerated = (shapedBy: string[]) => ({
  diff(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    const changed = shapedBy.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return Promise.resolve({ changes: changed.length > 0, replaces: changed });
  },
  update(_id: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    return Promise.resolve({ outs: { ...news, ...olds } });
  },
});

interface TokenOutputs {
  value: string;
}

/** A random hex token. `create` runs in the engine's dynamic provider, so it may only use what it requires itself. */
export const tokenProvider: pulumi.dynamic.ResourceProvider = {
  ...keepGenerated(["bytes"]),
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
export const hostKeyProvider: pulumi.dynamic.ResourceProvider = {
  ...keepGenerated([]),
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

// The version the stack last rolled out, kept in the state of a small dynamic resource, and the check that refuses a
// downgrade or a skipped Kubernetes minor before anything runs on a node. The engine hands a provider's `check` the
// resource's previous inputs from state and its new ones, at every preview and `up`; a failure there stops the
// deployment with the message. Every node step waits for this resource, so a refused version touches no node. The
// previous version lives in this stack's own state: no StackReference, no output read back.
import * as pulumi from "@pulumi/pulumi";
import { upgradePathProblem } from "../spec/version";

interface GuardInputs {
  version?: string;
}

export const releaseGuardProvider: pulumi.dynamic.ResourceProvider = {
  check(olds: GuardInputs, news: GuardInputs) {
    const problem =
      olds?.version && news.version ? upgradePathProblem(olds.version, news.version) : undefined;
    return Promise.resolve({
      inputs: news,
      failures: problem ? [{ property: "version", reason: problem }] : [],
    });
  },
  // A new version is an update of the recorded one, never a replacement; a new provider text is no change (the
  // same reasoning as generated.ts).
  diff(_id: string, olds: GuardInputs, news: GuardInputs) {
    return Promise.resolve({ changes: olds.version !== news.version, replaces: [] });
  },
  update(_id: string, _olds: GuardInputs, news: GuardInputs) {
    return Promise.resolve({ outs: { version: news.version } });
  },
  create(inputs: GuardInputs) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const crypto = require("crypto") as typeof import("crypto");
    return Promise.resolve({ id: crypto.randomUUID(), outs: { version: inputs.version } });
  },
};

/** Records the RKE2 version the stack rolls out; refuses a version the cluster cannot move to from the last one. */
export class ReleaseGuard extends pulumi.dynamic.Resource {
  declare readonly version: pulumi.Output<string>;
  constructor(name: string, version: string, opts?: pulumi.CustomResourceOptions) {
    super(releaseGuardProvider, name, { version }, opts, "hardened-rke2", "ReleaseGuard");
  }
}

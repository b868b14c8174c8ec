// What a node's steps take from its render, as few Outputs as the values allow. Each Output operation (`all`,
// `apply`, `secret`) costs the SDK several tracked promises, each with a captured stack trace that `pulumi up` maps
// through source maps: at hundreds of nodes that bookkeeping, not the render, is the program's cost (README,
// "Benchmark"). So a node renders twice in all (once with placeholders for the plain triggers, once with the real
// values for the files and the steps that read secrets), each render computes every digest it feeds in one pass,
// and each value is taken from a render with at most one `apply`. Where a node's addresses are plain (existing hosts)
// its plain render runs now and its plain triggers are plain strings: no Output at all (lift.ts). The scripts do not
// depend on any Output: they and the commands that run them are plain values.
import * as pulumi from "@pulumi/pulumi";
import type { NodeFile, NodeScript } from "../render/files";
import type { RenderInputs } from "../render/inputs";
import { renderNode, renderScripts, type Step } from "../render/node";
import type { NodeFacts } from "../spec/plan";
import type { ClusterSpec } from "../spec/types";
import { lift, liftOutput } from "../lift";
import { digest, fileRecords } from "./remote";

export interface NodeInputsArgs {
  spec: ClusterSpec;
  /** The node's plain facts for an address (no connection: its secrecy must not reach a render). */
  facts: (address: string, rejoins?: boolean) => NodeFacts;
  privateAddress: pulumi.Input<string>;
  /** The first server on a replaced machine joins instead of starting the cluster (rke2.ts); unset: never. */
  rejoins?: pulumi.Output<boolean>;
  registrationAddress: pulumi.Input<string>;
  apiAddress: pulumi.Input<string>;
  secretInputs: pulumi.Output<RenderInputs>;
  plainInputs: RenderInputs;
  /** The node's steps in order. */
  steps: Step[];
  /** The files a step reads (its trigger changes exactly when they do). */
  stepInputs: (step: Step, files: NodeFile[]) => NodeFile[];
  /** Steps whose inputs hold secrets: their triggers are digests of the real render, stored as secrets. */
  readsSecrets: (step: Step) => boolean;
}

export interface NodeInputs {
  /** The step's script: static, known before any Output (it depends only on the node's role and the stack's fips). */
  script: (step: Step) => NodeScript;
  /** The files step's standard input: every file and script as records. A secret once known. */
  records: pulumi.Output<string>;
  /** The files step's trigger: the digest of every file and script, a secret once known. */
  filesTrigger: pulumi.Output<string>;
  /** A step's trigger: the digest of its script and the files it reads (plain where the node's addresses are). */
  trigger: (step: Step) => pulumi.Input<string>;
}

export function nodeInputs(a: NodeInputsArgs): NodeInputs {
  const { spec, steps } = a;
  const scripts = renderScripts(spec, a.facts(""));
  const script = (step: Step): NodeScript => {
    const s = scripts.find((x) => x.step === step);
    if (!s) throw new Error(`node ${a.facts("").name} has no script for step ${step}`);
    return s;
  };
  const stepDigest = (step: Step, files: NodeFile[]) =>
    digest([script(step), ...a.stepInputs(step, [...files, ...scripts])]);

  const plainSteps = steps.filter((s) => !a.readsSecrets(s));
  const plain = lift(
    [a.privateAddress, a.registrationAddress, a.apiAddress, a.rejoins ?? false],
    ([address, registration, api, joins]) => {
      const b = renderNode(spec, a.facts(address, joins), registration, a.plainInputs, api);
      return Object.fromEntries(plainSteps.map((s) => [s, digest([script(s), ...a.stepInputs(s, b.files)])]));
    },
  );

  // The secret inputs are unsecreted here and the render made secret again inside the one `apply`: every value taken
  // from it (the records, the digests) is a secret once known, and an unknown one is plain. The command provider's
  // Check answers a secret whose value is unknown (a digest over the generated token on a stack's first preview) with
  // a secret that has no value, which the engine refuses ("malformed secret: missing value", pulumi-command v1.2.1,
  // FACTS.md §5); an unknown carries nothing to protect.
  const secretSteps = steps.filter((s) => a.readsSecrets(s));
  const real = liftOutput(
    [
      a.privateAddress,
      a.registrationAddress,
      pulumi.unsecret(a.secretInputs),
      a.apiAddress,
      a.rejoins ?? false,
    ],
    ([address, registration, inputs, api, joins]) => {
      const b = renderNode(spec, a.facts(address, joins), registration, inputs, api);
      const all = [...b.files, ...b.scripts];
      return pulumi.secret({
        records: fileRecords(all),
        digest: digest(all),
        steps: Object.fromEntries(secretSteps.map((s) => [s, stepDigest(s, b.files)])),
      });
    },
  );

  return {
    script,
    records: real.apply((r) => r.records),
    filesTrigger: real.apply((r) => r.digest),
    trigger: (step) =>
      a.readsSecrets(step) ? real.apply((r) => r.steps[step]) : lift([plain], ([p]) => p[step]),
  };
}

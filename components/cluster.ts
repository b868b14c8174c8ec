// HardenedCluster: nodes from the chosen source, each bootstrapped with the rendered files and scripts in the roll's
// order (the servers one at a time, then the agents in batches, each gated on its health), and the
// admin kubeconfig read back from the first server as a secret.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { connectionOf, hostKeyCheck, NodeBootstrap } from "./bootstrap/node";
import { restoreSteps } from "./bootstrap/restore";
import { GeneratedToken } from "./bootstrap/generated";
import { ReleaseGuard } from "./bootstrap/release-guard";
import { leaveBeforeReplace, leaveOnReplace, rollStages } from "./bootstrap/roll";
import {
  readKubeconfig,
  rewriteKubeconfig,
  secretWhenKnown,
  stepOptions,
  tailAsRoot,
} from "./bootstrap/remote";
import { ClusterHardening } from "./hardening";
import { renderBundle } from "./render/bundle";
import { liftOutput } from "./lift";
import { controlMap } from "./render/cis";
import { placeholderInputs, type RenderInputs } from "./render/inputs";
import { existingNodes } from "./nodes/existing";
import type { NodeSet } from "./nodes/types";
import type { ClusterSpec } from "./spec/types";

export interface HardenedClusterArgs {
  /** The validated spec (stacks/config.ts). */
  spec: ClusterSpec;
  /** The operator's SSH private key (secret config `sshPrivateKey`). */
  sshPrivateKey: pulumi.Output<string>;
  /** The cluster token when the stack sets `clusterToken`; generated (and kept in state as a secret) when unset. */
  clusterToken?: pulumi.Output<string>;
  /** Every other secret config value the spec references (registry passwords, S3 keys), by key. */
  secrets: Record<string, pulumi.Output<string>>;
  /** What relative operator file paths in the spec resolve against. */
  baseDir: string;
}

export class HardenedCluster extends pulumi.ComponentResource {
  /** The admin kubeconfig, pointing at the address the operator's machine reaches the API on. A secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** `https://<operator's API address>:6443`: what the kubeconfig, the Kubernetes provider and the verification use. */
  readonly apiEndpoint: pulumi.Output<string>;
  /** `https://<registration address>:9345`: what joining nodes use (private addresses). */
  readonly registrationEndpoint: pulumi.Output<string>;
  /** The jump host SSH goes through (`ssh -J user@host`), with its pinned host key; undefined without one. */
  readonly bastion: pulumi.Output<{ host: string; user: string; hostKey: string } | undefined>;
  /** Node names, roles and private addresses. */
  readonly nodeList: pulumi.Output<{ name: string; role: string; address: string }[]>;
  /** The CIS control map of this stack. */
  readonly cisControls: { id: string; means: string; where: string }[];
  /** Each node's bootstrap, in node order. */
  readonly bootstraps: NodeBootstrap[];
  /** The in-cluster hardening and its verification. */
  readonly hardening: ClusterHardening;

  constructor(name: string, args: HardenedClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("rke2:index:HardenedCluster", name, {}, opts);
    const { spec } = args;
    const parent = { parent: this };

    const nodeSet: NodeSet =
      spec.nodes.source === "aws"
        ? // Required here, not imported at the top: only an aws stack loads @pulumi/aws (0.3-0.6 s to load).
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          new (require("./nodes/aws") as typeof import("./nodes/aws")).AwsNodeSource(
            `${name}-nodes`,
            { spec, source: spec.nodes, privateKey: args.sshPrivateKey },
            parent,
          )
        : existingNodes(spec, spec.nodes, args.sshPrivateKey);

    const token = args.clusterToken ?? new GeneratedToken(`${name}-token`, parent).value;
    const secretInputs = secretRenderInputs(token, args.secrets, args.baseDir);
    const plainInputs = placeholderInputs(args.baseDir);
    // The offline render of every node (AWS addresses as placeholders): known at any preview, it is what the policy
    // pack judges a node by while the node's real files are still unknown (a generated token, an address to come).
    const plans = new Map(renderBundle(spec, plainInputs).nodes.map((b) => [b.node.name, b.files]));
    const artifacts =
      spec.install.mode === "airgap"
        ? spec.install.artifacts.map((a) => ({
            file: a.file,
            sha256: a.sha256,
            localPath: path.resolve(
              args.baseDir,
              (spec.install as { artifactsDir: string }).artifactsDir,
              a.file,
            ),
          }))
        : [];

    // One order for the first join, upgrades and config rolls (bootstrap/roll.ts): each server alone, then the agents
    // in batches. A node's drain and start wait for the previous stage's gate; servers therefore join one at a
    // time (etcd adds one member at a time), and agents after every server.
    const stages = rollStages(nodeSet.nodes, spec.upgrade.agentBatchSize);
    const first = stages[0]?.[0];
    if (!first || first.role !== "server") throw new Error("a cluster needs a first server");
    const firstConnection = connectionOf(first.connection);
    // Refuses a downgrade or a skipped minor before any node step runs (bootstrap/release-guard.ts).
    const guard = new ReleaseGuard(`${name}-release`, spec.version.raw, parent);
    // Existing hosts: every key is compared with the pinned one before any node step, naming each mismatch and the fix.
    const hostKeys = hostKeyCheck(name, nodeSet.nodes, parent);
    let serverLeave: command.remote.Command | undefined;
    // A node's way out of the cluster before the stack replaces its machine (roll.sh leave): a server leaves from its
    // own old machine when the engine replaces it; an agent leaves through the first server, after the stage before
    // it, each time the image changes.
    const leaveOf = (
      bootstrap: string,
      node: NodeSet["nodes"][number],
      rollHost: { connection: pulumi.Input<command.types.input.remote.ConnectionArgs> },
      rolledBefore: pulumi.Resource[],
    ): { before?: command.remote.Command } => {
      const machine = node.machine;
      if (!machine || !nodeSet.image) return {};
      const step = { spec, node, host: rollHost };
      if (node.role === "server") {
        // Each after the previous server's: `pulumi destroy` deletes them in the reverse order, one at a time, so
        // etcd loses one member at a time there too (the last server, without peers, only drains).
        serverLeave = leaveOnReplace(
          bootstrap,
          { ...step, machine: machine.id },
          { ...parent, dependsOn: [machine, ...(serverLeave ? [serverLeave] : [])] },
        );
        return {};
      }
      return {
        before: leaveBeforeReplace(
          bootstrap,
          { ...step, trigger: nodeSet.image },
          nodeSet.imageChange ?? pulumi.output(false),
          { ...parent, dependsOn: rolledBefore },
        ),
      };
    };
    const byName = new Map<string, NodeBootstrap>();
    let previousStage: NodeBootstrap[] = [];
    for (const stage of stages) {
      const rolledBefore = previousStage.map((b) => b.rolled);
      const current = stage.map((node) => {
        // A server's roll steps run on the server itself, an agent's through the first server (roll.ts).
        const rollHost = {
          connection: connectionOf(node.role === "server" ? node.connection : first.connection),
        };
        const leave = leaveOf(`${name}-${node.name}`, node, rollHost, rolledBefore);
        // An image change replaces this node's machine only after the stage before it is rolled, and an agent's
        // only after it left the cluster (a server leaves from its own machine, when the engine replaces it).
        node.replaceAfter?.([...rolledBefore, ...(leave.before ? [leave.before] : [])]);
        return new NodeBootstrap(
          `${name}-${node.name}`,
          {
            spec,
            node,
            registrationAddress: nodeSet.registrationAddress,
            apiAddress: nodeSet.apiAddress,
            secretInputs,
            plainInputs,
            plan: plans.get(node.name) ?? [],
            // An agent starts after its leave: on a first `up` that finds nothing to leave, never after a leave
            // that would take its new Node away.
            startAfter: [...rolledBefore, ...(leave.before ? [leave.before] : [])],
            after: [guard, ...(hostKeys ? [hostKeys] : [])],
            rollHost,
            artifacts,
          },
          parent,
        );
      });
      current.forEach((b, i) => byName.set(stage[i].name, b));
      previousStage = current;
    }
    const bootstraps = nodeSet.nodes.map((n) => byName.get(n.name) as NodeBootstrap);
    const firstServer = byName.get(first.name) as NodeBootstrap;
    // A restore from a snapshot (the `restore` key) acts on the running cluster: after every node's bootstrap, and
    // before the kubeconfig is read and the in-cluster objects are applied, which then meet the restored state.
    const restored = spec.restore
      ? restoreSteps(
          name,
          spec.restore,
          stages
            .flat()
            .filter((n) => n.role === "server")
            .map((n) => ({
              name: n.name,
              connection: connectionOf(n.connection),
            })),
          bootstraps.map((b) => b.rolled),
          parent,
        )
      : [];

    const read = new command.remote.Command(
      `${name}-kubeconfig`,
      {
        connection: firstConnection,
        create: readKubeconfig(spec.distribution),
        // A connection change reads it again rather than running nothing: the stash below keeps the value it had.
        update: readKubeconfig(spec.distribution),
        ...stepOptions,
        // Read again whenever the first server's RKE2 was (re)started by the stack (a config roll, an upgrade): RKE2
        // renews its certificates at start once they are within 90 days of expiry (docs.rke2.io, "Certificate
        // Rotation"), and rke2.yaml then carries the new admin certificate. A restart made outside the stack (a
        // manual `rke2 certificate rotate`) is picked up with `pulumi up --replace` on this read (README).
        triggers: [restartedBy(firstServer)],
        // The kubeconfig holds the admin client key: never logged, stored only as a secret.
        logging: "none",
      },
      {
        ...parent,
        dependsOn: [firstServer.rolled, ...restored.slice(-1)],
        additionalSecretOutputs: ["stdout", "stderr"],
      },
    );
    // The operator's address, not the registration one: the kubeconfig is used from the operator's machine.
    const rewritten = pulumi
      .all([read.stdout, nodeSet.apiAddress])
      .apply(([k, a]) => rewriteKubeconfig(k, a));
    // The provider's outputs are unknown in the preview of any update of the read (a rotated SSH key updates it), and
    // an unknown kubeconfig would show the Kubernetes provider and every in-cluster object as replaced. The stash keeps
    // the kubeconfig it was first given; it is replaced, and the kubeconfig read anew, when the read itself is
    // replaced or the API address it points at changes.
    const stash = new pulumi.Stash(
      `${name}-kubeconfig`,
      { input: rewritten },
      {
        ...parent,
        additionalSecretOutputs: ["input", "output"],
        replacementTrigger: pulumi.all([read.id, nodeSet.apiAddress]),
      },
    );
    this.kubeconfig = pulumi.secret(stash.output as pulumi.Output<string>);
    this.apiEndpoint = pulumi.interpolate`https://${nodeSet.apiAddress}:6443`;
    this.registrationEndpoint = pulumi.interpolate`https://${nodeSet.registrationAddress}:9345`;
    const bastion = nodeSet.bastion;
    this.bastion = bastion
      ? pulumi.all([bastion.host, bastion.hostKey]).apply(([host, hostKey]) => ({
          host,
          user: bastion.user,
          hostKey,
        }))
      : pulumi.output(undefined);
    this.nodeList = liftOutput(
      nodeSet.nodes.map((n) => n.privateAddress),
      (addresses) => nodeSet.nodes.map((n, i) => ({ name: n.name, role: n.role, address: addresses[i] })),
    );
    this.cisControls = controlMap(spec).map((c) => ({ id: c.id, means: c.means, where: c.where }));
    this.bootstraps = bootstraps;
    this.hardening = new ClusterHardening(
      `${name}-hardening`,
      {
        spec,
        kubeconfig: this.kubeconfig,
        clusterReady: [...bootstraps.flatMap((b) => [b.ready, b.rolled]), ...restored.slice(-1)],
        // Evidence that the audit policy in force logs: the newest audit event, read after the objects were applied.
        // The event names users and objects: kept as a secret, never logged. Marked secret here as well as in the
        // read's options: additionalSecretOutputs is applied by the engine, so without this the verification's
        // environment would be plain wherever the engine does not answer (mocks), and the rule would live in one
        // option only. Secret once known: an unknown secret fails the command provider's Check (remote.ts).
        auditSample: (dependsOn, trigger) =>
          secretWhenKnown(
            new command.remote.Command(
              `${name}-audit-sample`,
              {
                connection: firstConnection,
                create: tailAsRoot(spec.audit.logPath),
                // Its output is the verification's evidence: a connection change reads it again, never leaves it empty.
                update: tailAsRoot(spec.audit.logPath),
                ...stepOptions,
                logging: "none",
                triggers: [trigger],
              },
              { ...parent, dependsOn, additionalSecretOutputs: ["stdout", "stderr"] },
            ).stdout,
          ),
        fipsEvidence: spec.fips
          ? pulumi.all(
              Object.fromEntries(
                bootstraps.map((b, i) => [nodeSet.nodes[i].name, b.fipsEvidence ?? pulumi.output("")]),
              ),
            )
          : undefined,
        hostChecks: pulumi.all(
          Object.fromEntries(
            bootstraps.flatMap((b, i) => (b.cisReport ? [[nodeSet.nodes[i].name, b.cisReport]] : [])),
          ),
        ),
        projectDir: args.baseDir,
      },
      parent,
    );
    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      apiEndpoint: this.apiEndpoint,
      registrationEndpoint: this.registrationEndpoint,
      bastion: this.bastion,
      nodeList: this.nodeList,
    });
  }
}

/** Changes each time the stack (re)starts RKE2 on the node: the start step's id, new with every run of it. */
function restartedBy(node: NodeBootstrap): pulumi.Output<string> {
  const start = node.steps.start;
  if (!(start instanceof command.remote.Command)) throw new Error("a node bootstrap has no start step");
  return start.id;
}

/** RenderInputs over the real secret values, resolved once for every node. */
function secretRenderInputs(
  token: pulumi.Output<string>,
  secrets: Record<string, pulumi.Output<string>>,
  baseDir: string,
): pulumi.Output<RenderInputs> {
  const keys = Object.keys(secrets);
  return pulumi.all([token, ...keys.map((k) => secrets[k])]).apply(([tokenValue, ...values]) => {
    const byKey = new Map<string, string>([
      ["clusterToken", tokenValue],
      ...keys.map((k, i): [string, string] => [k, values[i]]),
    ]);
    const read = (p: string) => fs.readFileSync(path.resolve(baseDir, p), "utf8");
    return {
      secret: (key: string) => {
        const value = byKey.get(key);
        if (value === undefined) throw new Error(`secret config key ${key} was not loaded`);
        return value;
      },
      file: read,
      secretFile: read,
    };
  });
}

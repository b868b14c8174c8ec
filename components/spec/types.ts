// The validated, defaulted cluster spec every renderer and component reads: the parts each section builds (their
// types inferred from the section files, never restated here). Only the loader in stacks/ builds it; nothing
// downstream re-checks or re-defaults a value.
import type { addons } from "./addons";
import type { admissionGuard } from "./admission-guard";
import type { audit } from "./audit";
import type { cluster, release } from "./core";
import type { etcdSnapshots } from "./etcd-snapshots";
import type { fips } from "./fips";
import type { install } from "./install";
import type { network } from "./network";
import type { nodes } from "./nodes";
import type { podSecurity } from "./pod-security";
import type { registries } from "./registries";
import type { upgrade } from "./upgrade";
import type { Built, SecretRef } from "./section";

/** The part of the spec a section builds. */
type PartOf<S> = S extends { build(parsed: never, ctx: never): Built<infer T> | undefined } ? T : never;

export type ClusterSpec = PartOf<typeof cluster> &
  PartOf<typeof release> &
  PartOf<typeof network> &
  PartOf<typeof nodes> &
  PartOf<typeof registries> &
  PartOf<typeof install> &
  PartOf<typeof etcdSnapshots> &
  PartOf<typeof audit> &
  PartOf<typeof podSecurity> &
  PartOf<typeof admissionGuard> &
  PartOf<typeof fips> &
  PartOf<typeof addons> &
  PartOf<typeof upgrade> & {
    /** Every secret config key the stack reads, with what it is for. */
    secrets: SecretRef[];
  };

export type { AddonChart, AddonsSpec } from "./addons";
export type { AirgapArtifact } from "./artifacts";
export type { AuditSpec } from "./audit";
export type { Arch, InstallSpec } from "./install";
export type { Cni } from "./network";
export type { AgentPool, AwsNodes, ExistingHost, ExistingNodes, NodesSpec, Role } from "./nodes";
export type { ManagedNamespace, Peer, PodSecurityLevel, Port } from "./pod-security";
export type { RegistriesSpec } from "./registries";
export type { UpgradeSpec } from "./upgrade";
export type { SecretRef } from "./section";

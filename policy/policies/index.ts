// Every policy of the pack, one per export; policy/index.ts serves them, tests run them directly.
import type { Policies } from "@pulumi/policy";
import {
  airgapNoRouteOut,
  imdsv2Required,
  noPublicClusterPorts,
  noPublicIpOnServers,
  rootVolumeEncrypted,
} from "./aws";
import { defaultServiceAccountAutomount, namespacePodSecurity, noPrivilegedWorkloads } from "./kubernetes";
import { auditLogging, cisProfile, noSecretInCommandText } from "./rke2";
import { upgradeRollOrdered } from "./roll";
import { imageChangeOrdered } from "./image";
import {
  cannotSeeYet,
  fipsChecks,
  hardeningBeforeStart,
  namespaceNetworkPolicy,
  oddServerCount,
} from "./stack";

export const policies: Policies = [
  imdsv2Required,
  rootVolumeEncrypted,
  noPublicIpOnServers,
  noPublicClusterPorts,
  airgapNoRouteOut,
  cisProfile,
  auditLogging,
  noSecretInCommandText,
  namespacePodSecurity,
  defaultServiceAccountAutomount,
  noPrivilegedWorkloads,
  hardeningBeforeStart,
  fipsChecks,
  oddServerCount,
  namespaceNetworkPolicy,
  upgradeRollOrdered,
  imageChangeOrdered,
  cannotSeeYet,
];

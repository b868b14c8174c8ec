// Node source "existing": machines the operator already has (on-premises, air-gapped sites), reached over SSH with
// the host keys pinned in the stack. Creates no resource.
import * as pulumi from "@pulumi/pulumi";
import type { ExistingNodes } from "../spec/types";
import type { ClusterSpec } from "../spec/types";
import { planNodes, registrationAddressOf } from "../spec/plan";
import type { NodeSet } from "./types";

/**
 * An existing host is already up: a few quick tries, so a wrong pinned host key (a failed dial to the provider) is
 * reported in seconds, not after the minutes of retries a booting VM needs.
 */
export const EXISTING_DIAL = { dialErrorLimit: 3, perDialTimeout: 10, checkHostKey: true } as const;

export function existingNodes(
  spec: ClusterSpec,
  source: ExistingNodes,
  privateKey: pulumi.Output<string>,
): NodeSet {
  const nodes = planNodes(spec).map((planned) => {
    const host = source.hosts.find((h) => h.name === planned.name);
    if (!host) throw new Error(`planned node ${planned.name} has no host entry`);
    return {
      ...planned,
      privateAddress: host.privateAddress,
      connection: {
        host: host.address,
        port: host.port,
        user: host.user,
        hostKey: host.hostKey,
        privateKey,
        ...EXISTING_DIAL,
      },
    };
  });
  const registrationAddress = registrationAddressOf<pulumi.Input<string>>(spec, nodes, {
    fixed: (address) => address,
  });
  // The operator reaches existing hosts' API where the nodes do: the registration address.
  return { nodes, registrationAddress, apiAddress: registrationAddress };
}

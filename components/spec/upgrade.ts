// Section "upgrade": how a change reaches running nodes. A new `version` (and any change to what RKE2 reads at start)
// rolls through the cluster in one order: the servers one at a time (etcd keeps quorum only while at most one member
// is down), then the agents in batches. Each node is drained before its upgrade and must come back Ready at the new
// version (servers: the API server ready, its etcd member healthy) before the next one is touched. The order itself
// lives in components/bootstrap/roll.ts; the version rules (no downgrade, no skipped minor) in spec/version.ts.
import { z } from "zod";
import { section } from "./section";

export const upgradeShape = {
  upgrade: z
    .strictObject({
      /** Agents upgraded (or restarted) at the same time. One by default: the least capacity lost at any moment. */
      agentBatchSize: z.number().int().min(1).max(100).default(1),
      /** How long a drain may wait for evictions a PodDisruptionBudget holds back before the roll stops there. */
      drainTimeoutSeconds: z.number().int().min(30).max(86_400).default(600),
      /** How long a node may take to come back Ready at the new version (and healthy) before the roll stops there. */
      healthTimeoutSeconds: z.number().int().min(30).max(86_400).default(900),
    })
    .prefault({}),
};

export type UpgradeSpec = z.output<typeof upgradeShape.upgrade>;

export const upgrade = section({
  shape: upgradeShape,
  build: (raw) => ({ value: raw, secrets: [] }),
});

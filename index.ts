// The Pulumi program: load and validate the stack's cluster spec (every config error at once, before any resource),
// then build the cluster. Everything else lives in components/.
import { renderClusterObjects } from "./components/render/kube";
import { controlMap } from "./components/render/cis";
import { planNodes } from "./components/render/topology";
import { loadClusterSpec } from "./stacks/config";

const spec = loadClusterSpec();

/** The nodes the stack plans, in bootstrap order. */
export const nodes = planNodes(spec).map((n) => ({ name: n.name, role: n.role }));
/** The RKE2 release, CIS profile and benchmark the stack targets. */
export const rke2 = { version: spec.version.raw, profile: spec.profile, benchmark: spec.benchmark };
/** CIS control IDs and how the stack satisfies each. */
export const cisControls = controlMap(spec).map((c) => ({ id: c.id, means: c.means }));
/** How many in-cluster hardening objects the stack applies. */
export const hardeningObjects = renderClusterObjects(spec).length;

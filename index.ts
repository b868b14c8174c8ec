// The Pulumi program: load and validate the stack's cluster spec (every config error at once, before any resource),
// then build one HardenedCluster. Everything else lives in components/.
import { HardenedCluster } from "./components/cluster";
import { loadClusterSpec, loadStackSecrets, PROJECT_DIR } from "./stacks/config";

const spec = loadClusterSpec();
const cluster = new HardenedCluster(spec.name, { spec, ...loadStackSecrets(spec), baseDir: PROJECT_DIR });

/** The admin kubeconfig, pointing at `apiEndpoint` (a secret: `pulumi stack output --show-secrets`). */
export const kubeconfig = cluster.kubeconfig;
/** The Kubernetes API endpoint the operator's machine reaches (public address, public NLB, or the private one). */
export const apiEndpoint = cluster.apiEndpoint;
/** The registration endpoint nodes join through (private addresses). */
export const registrationEndpoint = cluster.registrationEndpoint;
/** The jump host every SSH connection goes through, with its pinned host key (AWS with `nodes.bastion`). */
export const bastion = cluster.bastion;
/** Nodes with their roles and private addresses, in bootstrap order. */
export const nodes = cluster.nodeList;
/** The RKE2 release, CIS profile and benchmark the stack targets. */
export const rke2 = { version: spec.version.raw, profile: spec.profile, benchmark: spec.benchmark };
/** CIS control IDs and how the stack satisfies each. */
export const cisControls = cluster.cisControls;
/** PASS/FAIL per CIS control, read back from the running cluster after the hardening was applied. */
export const cisVerification = cluster.hardening.verification;

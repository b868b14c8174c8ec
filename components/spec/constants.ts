// Names the whole project shares: the stack config namespace and the namespaces every RKE2 cluster has.

/** The project's config namespace: stack keys are `hardened-rke2:<key>`. */
export const PROJECT = "hardened-rke2";
/** The one structured stack config key every section of the spec is read from. */
export const CLUSTER_KEY = `${PROJECT}:cluster`;

/** Namespaces every RKE2 cluster has; the stack hardens them but never creates or deletes them. */
export const BUILTIN_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

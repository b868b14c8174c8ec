// E2E program: the in-cluster hardening component alone, against the test API server whose kubeconfig is the
// secret config key `kubeconfig`. The product's full program also bootstraps nodes over SSH, which needs the
// command provider that cannot be built here.
import * as pulumi from "@pulumi/pulumi";
import { ClusterHardening } from "../../../components/hardening";
import { buildClusterSpec } from "../../../components/spec/validate";

const config = new pulumi.Config();
const spec = buildClusterSpec(config.requireObject("cluster"), {
  configKeys: new Map(),
  baseDir: __dirname,
  requireSecrets: false,
});
const hardening = new ClusterHardening("e2e", {
  spec,
  kubeconfig: config.requireSecret("kubeconfig"),
  clusterReady: [],
  projectDir: __dirname,
  verify: false,
});
export const objects = Object.keys(hardening.objects).length;

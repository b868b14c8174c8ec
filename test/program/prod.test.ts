// The prod stack (AWS, 3 servers behind an NLB, 3 agents, S3 snapshots) as the real program builds it, under mocks.
import { parse } from "yaml";
import { policies } from "../../policy/policies";
import { checkPack, fromRecorded } from "../helpers/policy";
import { runProgram, promiseOf, unwrap, isSecretValue, type ProgramRun } from "../helpers/program";
import { checkCommon, filesOf } from "../helpers/program-checks";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("prod");
});

const servers = ["prod-server-0", "prod-server-1", "prod-server-2"];
const agents = ["prod-workers-0", "prod-workers-1", "prod-workers-2"];

describe("prod stack", () => {
  it("passes the checks every stack must pass", async () => {
    await checkCommon(run, [
      ...servers.map((name) => ({ name, role: "server" as const })),
      ...agents.map((name) => ({ name, role: "agent" as const })),
    ]);
  });

  it("joins servers one at a time and agents after the first server", () => {
    expect(run.byName("prod-server-0-start").dependsOn.filter((d) => d.endsWith("-ready"))).toEqual([]);
    expect(run.byName("prod-server-1-start").dependsOn).toContain("prod-server-0-ready");
    expect(run.byName("prod-server-2-start").dependsOn).toContain("prod-server-1-ready");
    for (const a of agents) {
      expect(run.byName(`${a}-start`).dependsOn).toContain("prod-server-0-ready");
      expect(run.byName(`${a}-start`).dependsOn).not.toContain("prod-server-2-ready");
    }
  });

  it("puts an internal NLB with a security group in front of 6443 and 9345 on every server", () => {
    const [nlb] = run.ofType("aws:lb/loadBalancer:LoadBalancer");
    expect(nlb.inputs).toMatchObject({
      loadBalancerType: "network",
      internal: true,
      securityGroups: ["prod-nodes-nlb-id"],
    });
    expect(
      run
        .ofType("aws:lb/targetGroup:TargetGroup")
        .map((t) => [t.inputs.port, t.inputs.protocol, t.inputs.preserveClientIp]),
    ).toEqual([
      [6443, "TCP", "false"],
      [9345, "TCP", "false"],
    ]);
    expect(run.ofType("aws:lb/listener:Listener")).toHaveLength(2);
    expect(run.ofType("aws:lb/targetGroupAttachment:TargetGroupAttachment")).toHaveLength(6);
  });

  it("keeps nodes off the internet: private subnets, no public address, one NAT for outbound", () => {
    for (const i of run.ofType("aws:ec2/instance:Instance")) {
      expect(i.inputs.associatePublicIpAddress).toBe(false);
      expect(i.inputs.subnetId).toMatch(/^prod-nodes-private-\d-id$/);
      expect(i.inputs.metadataOptions.httpTokens).toBe("required");
      expect(i.inputs.rootBlockDevice.encrypted).toBe(true);
    }
    expect(run.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    for (const s of run.ofType("aws:ec2/subnet:Subnet")) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
  });

  it("uses the NLB as registration address, in tls-san and the kubeconfig", async () => {
    const endpoint = await promiseOf(run.outputs.apiEndpoint as string);
    expect(endpoint).toBe("https://prod-nodes-nlb.elb.example:6443");
    const config = parse(filesOf(run, "prod-server-0").get("/etc/rancher/rke2/config.yaml")?.content ?? "");
    expect(config["tls-san"]).toEqual(["prod-nodes-nlb.elb.example", "k8s.prod.example.com"]);
    expect(config.server).toBeUndefined();
    expect(
      parse(filesOf(run, "prod-server-1").get("/etc/rancher/rke2/config.yaml")?.content ?? "").server,
    ).toBe("https://prod-nodes-nlb.elb.example:9345");
    expect(parse(await promiseOf(run.outputs.kubeconfig as string)).clusters[0].cluster.server).toBe(
      endpoint,
    );
  });

  it("sends the S3 credentials only to servers, in a 0600 drop-in inside the secret stdin", () => {
    const dropIn = "/etc/rancher/rke2/config.yaml.d/50-etcd-s3-credentials.yaml";
    expect(filesOf(run, "prod-server-0").get(dropIn)).toEqual({
      mode: "0600",
      owner: "root:root",
      content: expect.stringContaining("etcd-s3-secret-key: PLANTED-S3-SECRET-3f9e"),
    });
    expect(filesOf(run, "prod-workers-0").has(dropIn)).toBe(false);
    expect(isSecretValue(run.byName("prod-server-0-files").inputs.stdin)).toBe(true);
    expect(filesOf(run, "prod-server-0").get("/etc/rancher/rke2/config.yaml")?.content).not.toContain(
      "PLANTED",
    );
  });

  it("sends the ingress override to every server as a HelmChartConfig in RKE2's manifests folder, before RKE2 starts", () => {
    const manifest = "/var/lib/rancher/rke2/server/manifests/rke2-ingress-nginx-config.yaml";
    for (const server of ["prod-server-0", "prod-server-1", "prod-server-2"]) {
      const f = filesOf(run, server).get(manifest);
      expect(`${server} ${f?.mode} ${f?.owner}`).toBe(`${server} 0600 root:root`);
      const doc = parse(f?.content ?? "");
      expect([doc.kind, doc.metadata]).toEqual([
        "HelmChartConfig",
        { name: "rke2-ingress-nginx", namespace: "kube-system" },
      ]);
      expect(parse(doc.spec.valuesContent).controller.admissionWebhooks).toEqual({ port: 9443 });
      // The files step, which writes it, is among what the node's start step waits for (through the chain).
      const waits = new Set<string>();
      const walk = (name: string) =>
        run.byName(name).dependsOn.forEach((d) => {
          if (!waits.has(d)) {
            waits.add(d);
            walk(d);
          }
        });
      walk(`${server}-start`);
      expect(waits.has(`${server}-files`)).toBe(true);
    }
    expect(filesOf(run, "prod-workers-0").has(manifest)).toBe(false);
    // The kube-system exception opens the webhook's overridden port.
    const ingress = run
      .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
      .find((r) => r.inputs.metadata.name === "hardened-rke2-allow-ingress-controller");
    expect(ingress?.inputs.spec.ingress[0].ports.map((p: { port: number }) => p.port)).toEqual([
      80, 443, 9443,
    ]);
  });

  it("tags every instance with the cluster and its role", () => {
    for (const i of run.ofType("aws:ec2/instance:Instance")) {
      expect(unwrap(i.inputs.tags)).toMatchObject({ environment: "prod", "hardened-rke2/cluster": "prod" });
    }
  });

  it("passes every policy of the pack", async () => {
    expect(await checkPack(policies, fromRecorded(run.resources))).toEqual([]);
  });
});

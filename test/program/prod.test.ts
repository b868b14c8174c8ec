// The prod stack (AWS, 3 servers behind an NLB, 3 agents, S3 snapshots) as the real program builds it, under mocks.
import { parse } from "yaml";
import { policies } from "../../policy/policies";
import { checkPack, fromRecorded } from "../helpers/policy";
import { runProgram, promiseOf, unwrap, isSecretValue, type ProgramRun } from "../helpers/program";
import { checkAwsProvider, checkCommon, COMMAND, filesOf } from "../helpers/program-checks";

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

  it("joins and rolls servers one at a time, then the agents one at a time (agentBatchSize 1)", () => {
    // Each stage's drain and start wait for the stage before it to pass its gate (test/program/roll.test.ts
    // shows the whole order and batches).
    expect(run.byName("prod-server-0-drain").dependsOn.filter((d) => d.endsWith("-gate"))).toEqual([]);
    const order = [...servers, ...agents];
    for (let i = 1; i < order.length; i++)
      for (const step of ["drain", "start"])
        expect(run.byName(`${order[i]}-${step}`).dependsOn).toContain(`${order[i - 1]}-gate`);
  });

  it("registers through an internal NLB (6443, 9345) and gives the operator an internet-facing one (6443 only)", () => {
    const nlbs = run.ofType("aws:lb/loadBalancer:LoadBalancer").sort((a, b) => b.name.localeCompare(a.name));
    expect(nlbs.map((n) => [n.name, n.inputs.internal, n.inputs.securityGroups, n.inputs.subnets])).toEqual([
      ["prod-nodes-nlb", true, ["prod-nodes-nlb-id"], [0, 1, 2].map((z) => `prod-nodes-private-${z}-id`)],
      ["prod-nodes-api", false, ["prod-nodes-api-id"], [0, 1, 2].map((z) => `prod-nodes-public-${z}-id`)],
    ]);
    expect(
      run
        .ofType("aws:lb/targetGroup:TargetGroup")
        .map((t) => [t.name, t.inputs.port, t.inputs.protocol, t.inputs.preserveClientIp])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ["prod-nodes-6443", 6443, "TCP", "false"],
      ["prod-nodes-9345", 9345, "TCP", "false"],
      ["prod-nodes-api-6443", 6443, "TCP", "false"],
    ]);
    expect(
      run
        .ofType("aws:lb/listener:Listener")
        .map((l) => `${l.inputs.loadBalancerArn} ${l.inputs.port}`)
        .sort(),
    ).toEqual(["arn:prod-nodes-api 6443", "arn:prod-nodes-nlb 6443", "arn:prod-nodes-nlb 9345"]);
    expect(run.ofType("aws:lb/targetGroupAttachment:TargetGroupAttachment")).toHaveLength(9);
    // The public NLB's group takes 6443 from the operator range only; the servers take it from that group.
    const rules = run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    const line = (r: (typeof rules)[number]) =>
      `${r.inputs.securityGroupId} ${r.inputs.fromPort} ${r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId}`;
    expect(rules.filter((r) => r.inputs.securityGroupId === "prod-nodes-api-id").map(line)).toEqual([
      "prod-nodes-api-id 6443 198.51.100.0/24",
    ]);
    expect(rules.filter((r) => r.inputs.referencedSecurityGroupId === "prod-nodes-api-id").map(line)).toEqual(
      ["prod-nodes-server-id 6443 prod-nodes-api-id"],
    );
  });

  it("reaches every node through the bastion, both host keys pinned, on the nodes' private addresses", () => {
    const bastion = run.byName("prod-nodes-bastion-host");
    expect(bastion.inputs).toMatchObject({
      associatePublicIpAddress: true,
      subnetId: "prod-nodes-public-0-id",
      vpcSecurityGroupIds: ["prod-nodes-bastion-id"],
      instanceType: "t3.micro",
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { volumeType: "gp3", volumeSize: 20, encrypted: true, deleteOnTermination: true },
    });
    const bastionIp = bastion.outputs?.publicIp;
    const bastionKey = parse(unwrap(bastion.inputs.userData) as string).ssh_keys.ecdsa_public as string;
    const privateIps = new Map(
      [...servers, ...agents].map((n) => [
        n,
        run.byName(n.replace(/^prod-/, "prod-nodes-")).outputs?.privateIp,
      ]),
    );
    const remote = run.ofType(COMMAND).concat(run.ofType("command:remote:CopyToRemote"));
    expect(remote.length).toBeGreaterThan(30);
    for (const c of remote) {
      const conn = unwrap(c.inputs.connection);
      // An agent's roll steps run on the first server (it holds the admin kubeconfig).
      const onFirst = /^prod-workers-\d+-(drain|gate|leave)$/.test(c.name);
      const node = onFirst
        ? "prod-server-0"
        : ([...privateIps.keys()].find((n) => c.name.startsWith(`${n}-`)) ?? "prod-server-0");
      expect(`${c.name} ${conn.host} via ${conn.proxy?.host} as ${conn.proxy?.user}`).toBe(
        `${c.name} ${privateIps.get(node)} via ${bastionIp} as ubuntu`,
      );
      expect(conn.proxy.hostKey).toBe(bastionKey);
      expect(conn.hostKey).not.toBe(bastionKey);
    }
  });

  it("opens SSH only on the bastion, only to the operator range; the nodes take SSH from the bastion alone", () => {
    const ssh = run
      .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((r) => r.inputs.fromPort === 22)
      .map(
        (r) => `${r.inputs.securityGroupId} <- ${r.inputs.cidrIpv4 ?? r.inputs.referencedSecurityGroupId}`,
      );
    expect(ssh).toEqual([
      "prod-nodes-bastion-id <- 198.51.100.0/24",
      "prod-nodes-server-id <- prod-nodes-bastion-id",
      "prod-nodes-agent-id <- prod-nodes-bastion-id",
    ]);
    const out = run
      .ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
      .filter((r) => r.inputs.securityGroupId === "prod-nodes-bastion-id")
      .map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]);
    expect(out).toEqual([["tcp", 22, 22, "10.20.0.0/16"]]);
  });

  it("exports the endpoints the operator uses: the public API, the private registration, the bastion", async () => {
    expect(await promiseOf(run.outputs.apiEndpoint as string)).toBe(
      "https://prod-nodes-api.elb.example:6443",
    );
    expect(await promiseOf(run.outputs.registrationEndpoint as string)).toBe(
      "https://prod-nodes-nlb.elb.example:9345",
    );
    const bastion = run.byName("prod-nodes-bastion-host");
    expect(await promiseOf(run.outputs.bastion as object)).toEqual({
      host: bastion.outputs?.publicIp,
      user: "ubuntu",
      hostKey: parse(unwrap(bastion.inputs.userData) as string).ssh_keys.ecdsa_public,
    });
  });

  it("keeps nodes off the internet: private subnets, no public address, one NAT for outbound", () => {
    const instances = run
      .ofType("aws:ec2/instance:Instance")
      .filter((i) => i.name !== "prod-nodes-bastion-host");
    expect(instances).toHaveLength(6);
    for (const i of instances) {
      expect(i.inputs.associatePublicIpAddress).toBe(false);
      expect(i.inputs.subnetId).toMatch(/^prod-nodes-private-\d-id$/);
      expect(i.inputs.metadataOptions.httpTokens).toBe("required");
      expect(i.inputs.rootBlockDevice.encrypted).toBe(true);
    }
    expect(run.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    for (const s of run.ofType("aws:ec2/subnet:Subnet")) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
  });

  it("joins through the internal NLB; the kubeconfig and tls-san name the public one", async () => {
    const endpoint = await promiseOf(run.outputs.apiEndpoint as string);
    const config = parse(filesOf(run, "prod-server-0").get("/etc/rancher/rke2/config.yaml")?.content ?? "");
    expect(config["tls-san"]).toEqual([
      "prod-nodes-nlb.elb.example",
      "prod-nodes-api.elb.example",
      "k8s.prod.example.com",
    ]);
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

  it("makes every AWS resource and lookup through one provider for nodes.region", () => {
    checkAwsProvider(run, "prod-nodes-aws", "eu-west-1");
  });

  it("passes every policy of the pack", async () => {
    expect(await checkPack(policies, fromRecorded(run.resources))).toEqual([]);
  });
});

// The dev stack (AWS, one server, one agent) as the real program builds it, under mocks.
import { parse } from "yaml";
import { policies } from "../../policy/policies";
import { checkPack, fromRecorded } from "../helpers/policy";
import { runProgram, promiseOf, unwrap, type ProgramRun, type Recorded } from "../helpers/program";
import { checkAwsProvider, checkCommon, filesOf } from "../helpers/program-checks";

let run: ProgramRun;
beforeAll(async () => {
  run = await runProgram("dev");
});

describe("dev stack", () => {
  it("passes the checks every stack must pass", async () => {
    await checkCommon(run, [
      { name: "dev-server-0", role: "server" },
      { name: "dev-workers-0", role: "agent" },
    ]);
  });

  it("creates one server and one agent with IMDSv2, encrypted gp3 roots and a pinned host key", () => {
    const instances = run.ofType("aws:ec2/instance:Instance");
    expect(instances.map((i) => i.name)).toEqual(["dev-nodes-server-0", "dev-nodes-workers-0"]);
    for (const i of instances) {
      expect(i.inputs.metadataOptions).toEqual({
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
      });
      expect(i.inputs.rootBlockDevice).toEqual({
        volumeType: "gp3",
        volumeSize: 50,
        encrypted: true,
        deleteOnTermination: true,
      });
      expect(i.inputs.associatePublicIpAddress).toBe(true);
      expect(i.inputs.instanceType).toBe("m6i.large");
      expect(unwrap(i.inputs.userData)).toMatch(/^#cloud-config\n/);
    }
    const userData = parse(unwrap(instances[0].inputs.userData) as string);
    expect(userData.ssh_keys.ecdsa_public).toMatch(/^ecdsa-sha2-nistp256 /);
    expect(userData.ssh_genkeytypes).toEqual([]);
    expect(run.ofType("aws:lb/loadBalancer:LoadBalancer")).toEqual([]);
  });

  it("opens SSH and the API only to the operator range, nothing to the internet", () => {
    const rules = run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(rules).toHaveLength(29);
    const cidrs = new Set(rules.map((r) => r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6).filter(Boolean));
    expect([...cidrs]).toEqual(["203.0.113.0/24"]);
    const ssh = rules.filter((r) => r.inputs.fromPort === 22);
    expect(ssh.map((r) => `${r.inputs.securityGroupId} ${r.inputs.cidrIpv4}`)).toEqual([
      "dev-nodes-server-id 203.0.113.0/24",
      "dev-nodes-agent-id 203.0.113.0/24",
    ]);
  });

  it("points the kubeconfig, the Kubernetes provider and the verification at the server's public address, in tls-san; nodes join over the private one", async () => {
    const server = run.byName("dev-nodes-server-0").outputs as { publicIp: string; privateIp: string };
    expect(server.publicIp).toMatch(/^198\.51\.100\.\d+$/);
    const api = `https://${server.publicIp}:6443`;
    expect(await promiseOf(run.outputs.apiEndpoint as string)).toBe(api);
    expect(await promiseOf(run.outputs.registrationEndpoint as string)).toBe(
      `https://${server.privateIp}:9345`,
    );
    const serverOf = (kubeconfig: string) => parse(kubeconfig).clusters[0].cluster.server as string;
    expect(serverOf(await promiseOf(run.outputs.kubeconfig as string))).toBe(api);
    const [provider] = run.ofType("pulumi:providers:kubernetes");
    expect(serverOf(unwrap(provider.inputs.kubeconfig))).toBe(api);
    const verify = run.resources.find((r) => r.name.endsWith("-verify")) as Recorded;
    expect(serverOf(unwrap(verify.inputs.stdin))).toBe(api);
    const config = parse(filesOf(run, "dev-server-0").get("/etc/rancher/rke2/config.yaml")?.content ?? "");
    expect(config["tls-san"]).toEqual([server.privateIp, server.publicIp]);
    const agentConfig = parse(
      filesOf(run, "dev-workers-0").get("/etc/rancher/rke2/config.yaml")?.content ?? "",
    );
    expect(agentConfig.server).toBe(`https://${server.privateIp}:9345`);
  });

  it("sends the generated token only inside the secret files step, as a 0600 file", () => {
    const token = filesOf(run, "dev-server-0").get("/etc/rancher/rke2/cluster-token");
    expect(token).toEqual({ mode: "0600", owner: "root:root", content: "PLANTED-GENERATED-TOKEN-c4d5\n" });
    expect(filesOf(run, "dev-workers-0").get("/etc/rancher/rke2/cluster-token")?.content).toBe(
      "PLANTED-GENERATED-TOKEN-c4d5\n",
    );
  });

  it("starts the agent only after the server passed its gate (healthy, uncordoned), but prepares it in parallel", () => {
    expect(run.byName("dev-workers-0-start").dependsOn).toContain("dev-server-0-gate");
    expect(run.byName("dev-workers-0-drain").dependsOn).toContain("dev-server-0-gate");
    // Its files, kernel parameters and artifacts do not wait.
    expect(run.byName("dev-workers-0-sysctl").dependsOn).not.toContain("dev-server-0-gate");
  });

  it("makes every AWS resource and lookup through one provider for nodes.region", () => {
    checkAwsProvider(run, "dev-nodes-aws", "eu-west-1");
    expect(run.invokes.map((i) => i.token).sort()).toEqual([
      "aws:ec2/getAmi:getAmi",
      // The cluster's instances and those on the kept image: whether this run replaces machines (ordered if so).
      "aws:ec2/getInstances:getInstances",
      "aws:ec2/getInstances:getInstances",
      "aws:index/getAvailabilityZones:getAvailabilityZones",
    ]);
  });

  it("keeps the first image and zones on the next up, whatever the newest image is then; amiRefresh looks again", async () => {
    const instanceInputs = (r: ProgramRun) =>
      r
        .ofType("aws:ec2/instance:Instance")
        .map((i) => ({ name: i.name, ami: i.inputs.ami, subnetId: i.inputs.subnetId }));
    const zonesOf = (r: ProgramRun) =>
      r.ofType("aws:ec2/subnet:Subnet").map((x) => x.inputs.availabilityZone);
    expect(instanceInputs(run).map((i) => i.ami)).toEqual(["ami-0123456789abcdef0", "ami-0123456789abcdef0"]);
    const next = await runProgram("dev", undefined, { previous: run, newestAmi: "ami-0fedcba9876543210" });
    expect(next.ofType("aws:ec2/instance:Instance").map((i) => i.inputs)).toEqual(
      run.ofType("aws:ec2/instance:Instance").map((i) => i.inputs),
    );
    expect(zonesOf(next)).toEqual(zonesOf(run));
    const refreshed = await runProgram("dev", (c) => (c.nodes.amiRefresh = "2026-12"), {
      previous: next,
      newestAmi: "ami-0fedcba9876543210",
    });
    expect(instanceInputs(refreshed).map((i) => i.ami)).toEqual([
      "ami-0fedcba9876543210",
      "ami-0fedcba9876543210",
    ]);
  });

  it("looks up the arm64 image for an arm64 install, through a provider with the stack's profile and role", async () => {
    const arm = await runProgram("dev", (c) => {
      c.install = { arch: "arm64" };
      c.nodes.profile = "ops";
      c.nodes.assumeRoleArn = "arn:aws:iam::123456789012:role/rke2-deployer";
    });
    const [lookup] = arm.invokes.filter((i) => i.token === "aws:ec2/getAmi:getAmi");
    expect(lookup.args).toEqual({
      mostRecent: true,
      owners: ["099720109477"],
      filters: [
        { name: "name", values: ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-*"] },
        { name: "architecture", values: ["arm64"] },
      ],
    });
    const [provider] = arm.ofType("pulumi:providers:aws");
    expect(provider.inputs).toMatchObject({
      region: "eu-west-1",
      profile: "ops",
      assumeRoles: JSON.stringify([{ roleArn: "arn:aws:iam::123456789012:role/rke2-deployer" }]),
    });
  });

  it("passes every policy of the pack", async () => {
    expect(
      await checkPack(policies, fromRecorded(run.resources), {
        "ec2-no-public-ip-on-servers": { allowPublicServers: true },
      }),
    ).toEqual([]);
  });
});

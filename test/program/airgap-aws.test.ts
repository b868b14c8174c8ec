// The air-gapped AWS stack (new VPC without a route out, artifacts from the operator's folder, a registry mirror at
// an address outside the VPC, etcd snapshots to S3 through a gateway endpoint) as the real program builds it, under
// mocks. The artifacts folder is a STAND-IN (helpers/fake-artifacts). What mocks cannot prove: that AWS routes
// nothing out (the route table and security groups here are what it is given).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { policies } from "../../policy/policies";
import { writeFakeArtifacts } from "../helpers/fake-artifacts";
import { checkPack, fromRecorded } from "../helpers/policy";
import { promiseOf, runProgram, type ProgramRun } from "../helpers/program";
import { checkAwsProvider, checkCommon } from "../helpers/program-checks";

let run: ProgramRun;
const artifacts = writeFakeArtifacts(fs.mkdtempSync(path.join(os.tmpdir(), "airgap-aws-program-")));
beforeAll(async () => {
  run = await runProgram("airgap-aws", (c) => (c.install.artifactsDir = artifacts));
});

const servers = [0, 1, 2].map((i) => `airgap-aws-server-${i}`);
const agents = [0, 1].map((i) => `airgap-aws-workers-${i}`);

describe("airgap-aws stack", () => {
  it("passes the checks every stack must pass", async () => {
    await checkCommon(run, [
      ...servers.map((name) => ({ name, role: "server" as const })),
      ...agents.map((name) => ({ name, role: "agent" as const })),
    ]);
  });

  it("builds no gateway out: no internet or NAT gateway, no address, a route table with only the local route", () => {
    const types = new Set(run.resources.map((r) => r.type));
    for (const t of [
      "aws:ec2/internetGateway:InternetGateway",
      "aws:ec2/natGateway:NatGateway",
      "aws:ec2/eip:Eip",
      "aws:ec2/route:Route",
    ])
      expect(`${t}: ${types.has(t)}`).toBe(`${t}: false`);
    const tables = run.ofType("aws:ec2/routeTable:RouteTable");
    expect(tables.map((t) => [t.name, t.inputs.routes])).toEqual([["airgap-aws-nodes-private", undefined]]);
    expect(run.ofType("aws:ec2/subnet:Subnet").map((s) => s.name)).toEqual([
      "airgap-aws-nodes-private-0",
      "airgap-aws-nodes-private-1",
      "airgap-aws-nodes-private-2",
    ]);
    for (const i of run.ofType("aws:ec2/instance:Instance")) {
      expect(`${i.name} ${i.inputs.associatePublicIpAddress} ${i.inputs.ami}`).toBe(
        `${i.name} false ami-0a1b2c3d4e5f60718`,
      );
    }
    expect(run.ofType("aws:lb/loadBalancer:LoadBalancer").map((l) => [l.name, l.inputs.internal])).toEqual([
      ["airgap-aws-nodes-nlb", true],
    ]);
    // The image is given by id: nothing is looked up, so nothing can drift.
    // (The instances lookup decides only whether this run replaces machines, and so their order: no input.)
    expect(run.invokes.map((i) => i.token).sort()).toEqual([
      "aws:ec2/getInstances:getInstances",
      "aws:ec2/getInstances:getInstances",
      "aws:index/getAvailabilityZones:getAvailabilityZones",
    ]);
  });

  it("lets nodes reach only the VPC, S3 through the gateway endpoint, and the registry mirror", () => {
    const endpoint = run.byName("airgap-aws-nodes-s3");
    expect(endpoint.inputs).toMatchObject({
      serviceName: "com.amazonaws.eu-west-1.s3",
      vpcEndpointType: "Gateway",
      routeTableIds: ["airgap-aws-nodes-private-id"],
    });
    const egress = run
      .ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
      .map(
        (r) =>
          `${r.inputs.securityGroupId} ${r.inputs.ipProtocol} ${r.inputs.fromPort ?? "all"} -> ${
            r.inputs.cidrIpv4 ?? r.inputs.prefixListId
          }`,
      )
      .sort();
    expect(egress).toEqual([
      "airgap-aws-nodes-agent-id -1 all -> 10.40.0.0/16",
      "airgap-aws-nodes-agent-id tcp 5000 -> 10.100.20.10/32",
      "airgap-aws-nodes-nlb-id -1 all -> 10.40.0.0/16",
      "airgap-aws-nodes-server-id -1 all -> 10.40.0.0/16",
      "airgap-aws-nodes-server-id tcp 443 -> pl-s3-test",
      "airgap-aws-nodes-server-id tcp 5000 -> 10.100.20.10/32",
    ]);
  });

  it("points the kubeconfig at the internal registration NLB, reached from inside the VPC", async () => {
    expect(await promiseOf(run.outputs.apiEndpoint as string)).toBe(
      "https://airgap-aws-nodes-nlb.elb.example:6443",
    );
    expect(await promiseOf(run.outputs.bastion as undefined)).toBeUndefined();
  });

  it("makes every AWS resource and lookup through one provider for nodes.region", () => {
    checkAwsProvider(run, "airgap-aws-nodes-aws", "eu-west-1");
  });

  it("passes every policy of the pack", async () => {
    expect(await checkPack(policies, fromRecorded(run.resources))).toEqual([]);
  });

  it("is refused by the pack once a way out is added: an internet route, an all-outbound rule", async () => {
    const weakened = fromRecorded(run.resources).map((r) => {
      if (r.type === "aws:ec2/routeTable:RouteTable")
        return { ...r, props: { ...r.props, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: "igw-1" }] } };
      if (r.name === "airgap-aws-nodes-agent-egress")
        return { ...r, props: { ...r.props, cidrIpv4: "0.0.0.0/0", fromPort: undefined, toPort: undefined } };
      return r;
    });
    weakened.push({ type: "aws:ec2/internetGateway:InternetGateway", name: "added-igw", props: {} });
    expect((await checkPack(policies, weakened)).sort()).toEqual([
      "aws-airgap-no-route-out: added-igw is a gateway to the internet, but the stack is air-gapped (install.mode airgap: no outbound connection from any node); remove it",
      "aws-airgap-no-route-out: airgap-aws-nodes-agent-egress allows outbound traffic to 0.0.0.0/0, but the stack is air-gapped (install.mode airgap: no outbound connection from any node); remove it",
      "aws-airgap-no-route-out: airgap-aws-nodes-private routes 0.0.0.0/0 out of the VPC, but the stack is air-gapped (install.mode airgap: no outbound connection from any node); remove it",
    ]);
  });

  it("keeps the range of given subnets' VPC on the next up, whatever getVpc answers then; a new vpcId reads again", async () => {
    const given = (vpcId: string) => (c: Record<string, any>) => {
      c.install.artifactsDir = artifacts;
      delete c.nodes.vpcCidr;
      delete c.nodes.zones;
      c.nodes.vpcId = vpcId;
      c.nodes.subnetIds = ["subnet-0a1b2c3d"];
      // S3 snapshots need the gateway endpoint only a VPC the stack makes has.
      delete c.etcdSnapshots;
    };
    // Egress to the VPC is built from its range: an answer that moved would rewrite every such rule.
    const toVpc = (r: ProgramRun) =>
      r
        .ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        .filter((e) => e.inputs.cidrIpv4?.startsWith("10.9"))
        .map((e) => `${e.name} ${e.inputs.cidrIpv4}`);
    const ranges = (r: ProgramRun) => [...new Set(toVpc(r).map((l) => l.split(" ")[1]))];
    const firstRun = await runProgram("airgap-aws", given("vpc-0abc"), { vpcCidr: "10.99.0.0/16" });
    expect(toVpc(firstRun).length).toBeGreaterThan(0);
    expect(ranges(firstRun)).toEqual(["10.99.0.0/16"]);
    const next = await runProgram("airgap-aws", given("vpc-0abc"), {
      previous: firstRun,
      vpcCidr: "10.98.0.0/16",
    });
    expect(next.invokes.map((i) => i.token)).toContain("aws:ec2/getVpc:getVpc");
    expect(toVpc(next)).toEqual(toVpc(firstRun));
    const moved = await runProgram("airgap-aws", given("vpc-0def"), {
      previous: next,
      vpcCidr: "10.98.0.0/16",
    });
    expect(ranges(moved)).toEqual(["10.98.0.0/16"]);
  }, 400_000);
});

// The exact security group rules per CNI and layout: what may reach each group of the cluster, and from where.
import { securityGroupRules, subnetCidr, type Rule } from "../../components/nodes/network";
import type { AwsNodes } from "../../components/spec/types";

const line = (r: Rule) =>
  `${r.to} ${r.protocol} ${r.fromPort}-${r.toPort} from ${"group" in r.from ? r.from.group : r.from.cidr}`;
const source = (over: Partial<AwsNodes>) =>
  ({ sshCidrs: ["203.0.113.0/24"], apiCidrs: ["203.0.113.0/24"], loadBalancer: false, ...over }) as AwsNodes;

describe("securityGroupRules", () => {
  it("canal, one server: SSH and the API from the operator only, everything else inside the cluster", () => {
    expect(securityGroupRules("canal", source({})).map(line)).toEqual([
      "server tcp 22-22 from 203.0.113.0/24",
      "agent tcp 22-22 from 203.0.113.0/24",
      "server tcp 6443-6443 from 203.0.113.0/24",
      "server tcp 6443-6443 from server",
      "server tcp 6443-6443 from agent",
      "server tcp 9345-9345 from 203.0.113.0/24",
      "server tcp 9345-9345 from server",
      "server tcp 9345-9345 from agent",
      "server tcp 2379-2381 from server",
      "server tcp 10250-10250 from server",
      "server tcp 30000-32767 from server",
      "server udp 8472-8472 from server",
      "server tcp 9099-9099 from server",
      "server udp 51820-51821 from server",
      "server tcp 10250-10250 from agent",
      "server tcp 30000-32767 from agent",
      "server udp 8472-8472 from agent",
      "server tcp 9099-9099 from agent",
      "server udp 51820-51821 from agent",
      "agent tcp 10250-10250 from server",
      "agent tcp 30000-32767 from server",
      "agent udp 8472-8472 from server",
      "agent tcp 9099-9099 from server",
      "agent udp 51820-51821 from server",
      "agent tcp 10250-10250 from agent",
      "agent tcp 30000-32767 from agent",
      "agent udp 8472-8472 from agent",
      "agent tcp 9099-9099 from agent",
      "agent udp 51820-51821 from agent",
    ]);
  });

  it("with a load balancer, the operator reaches 6443/9345 only through the NLB's group", () => {
    const rules = securityGroupRules(
      "cilium",
      source({ apiCidrs: ["198.51.100.0/24"], loadBalancer: true }),
    ).map(line);
    expect(rules.filter((r) => / (6443|9345)-/.test(r))).toEqual([
      "nlb tcp 6443-6443 from 198.51.100.0/24",
      "server tcp 6443-6443 from server",
      "server tcp 6443-6443 from agent",
      "nlb tcp 6443-6443 from server",
      "nlb tcp 6443-6443 from agent",
      "server tcp 6443-6443 from nlb",
      "nlb tcp 9345-9345 from 198.51.100.0/24",
      "server tcp 9345-9345 from server",
      "server tcp 9345-9345 from agent",
      "nlb tcp 9345-9345 from server",
      "nlb tcp 9345-9345 from agent",
      "server tcp 9345-9345 from nlb",
    ]);
    expect(
      rules.filter(
        (r) => r.startsWith("server") && / from server$/.test(r) && !/ (6443|9345|2379|10250|30000)-/.test(r),
      ),
    ).toEqual([
      "server icmp 8-0 from server",
      "server tcp 4240-4240 from server",
      "server udp 8472-8472 from server",
      "server udp 51871-51871 from server",
    ]);
  });

  it("calico opens BGP, VXLAN, Typha and health inside the cluster", () => {
    const rules = securityGroupRules("calico", source({}))
      .map(line)
      .filter((r) => r.startsWith("agent") && r.endsWith("from agent"));
    expect(rules).toEqual([
      "agent tcp 10250-10250 from agent",
      "agent tcp 30000-32767 from agent",
      "agent tcp 179-179 from agent",
      "agent udp 4789-4789 from agent",
      "agent tcp 5473-5473 from agent",
      "agent tcp 9098-9099 from agent",
    ]);
  });

  it("never admits the internet or etcd from agents", () => {
    for (const cni of ["canal", "calico", "cilium"] as const) {
      const rules = securityGroupRules(cni, source({ loadBalancer: true })).map(line);
      expect(rules.filter((r) => r.includes("0.0.0.0/0") || r.includes("::/0"))).toEqual([]);
      expect(rules.filter((r) => r.includes("2379"))).toEqual(["server tcp 2379-2381 from server"]);
    }
  });
});

describe("subnetCidr", () => {
  it("carves /20 subnets, private ones from index 8", () => {
    expect([0, 1, 8, 10].map((i) => subnetCidr("10.20.0.0/16", i))).toEqual([
      "10.20.0.0/20",
      "10.20.16.0/20",
      "10.20.128.0/20",
      "10.20.160.0/20",
    ]);
  });
  it("refuses a VPC too small for the subnets", () => {
    expect(() => subnetCidr("10.20.0.0/24", 0)).toThrow(
      "vpcCidr 10.20.0.0/24 has no room for /20 subnet number 0",
    );
    expect(() => subnetCidr("10.20.0.0/18", 8)).toThrow(
      "vpcCidr 10.20.0.0/18 has no room for /20 subnet number 8",
    );
  });
});

// One compliant fixture per policy and one failing fixture per rule, with the exact violation message.
import {
  imdsv2Required,
  noPublicClusterPorts,
  noPublicIpOnServers,
  rootVolumeEncrypted,
} from "../../policy/policies/aws";
import {
  defaultServiceAccountAutomount,
  namespacePodSecurity,
  noPrivilegedWorkloads,
} from "../../policy/policies/kubernetes";
import { checkResource, UNKNOWN, type Fixture } from "../helpers/policy";

const instance = (props: Record<string, unknown> = {}): Fixture => ({
  type: "aws:ec2/instance:Instance",
  name: "prod-nodes-server-0",
  props: {
    metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
    rootBlockDevice: { encrypted: true, volumeType: "gp3" },
    associatePublicIpAddress: false,
    tags: { "hardened-rke2/role": "server" },
    ...props,
  },
});

describe("EC2 policies", () => {
  it("pass a compliant server instance", async () => {
    for (const p of [imdsv2Required, rootVolumeEncrypted, noPublicIpOnServers])
      expect(await checkResource(p, instance())).toEqual([]);
  });
  it("refuse IMDSv1", async () => {
    expect(
      await checkResource(imdsv2Required, instance({ metadataOptions: { httpTokens: "optional" } })),
    ).toEqual([
      'instance prod-nodes-server-0: metadataOptions.httpTokens is "optional"; set it to "required" (IMDSv2 only)',
    ]);
  });
  it("refuse an unencrypted root volume", async () => {
    expect(
      await checkResource(rootVolumeEncrypted, instance({ rootBlockDevice: { encrypted: false } })),
    ).toEqual([
      "instance prod-nodes-server-0: rootBlockDevice.encrypted is not true; encrypt the root volume",
    ]);
  });
  it("refuse a public server unless the pack config allows it", async () => {
    const pub = instance({ associatePublicIpAddress: true });
    expect(await checkResource(noPublicIpOnServers, pub)).toEqual([
      "server prod-nodes-server-0 has a public address; set nodes.publicIp: false (or allowPublicServers in the pack config for dev)",
    ]);
    expect(await checkResource(noPublicIpOnServers, pub, { allowPublicServers: true })).toEqual([]);
  });
  it("treat an unknown value during preview as no violation", async () => {
    expect(await checkResource(imdsv2Required, instance({ metadataOptions: UNKNOWN }))).toEqual(["unknown"]);
  });
});

const rule = (props: Record<string, unknown>): Fixture => ({
  type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  name: "prod-nodes-server-in-0",
  props: { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "198.51.100.0/24", ...props },
});

describe("security group policy", () => {
  it("passes operator ranges and refuses the internet on cluster ports", async () => {
    expect(await checkResource(noPublicClusterPorts, rule({}))).toEqual([]);
    expect(await checkResource(noPublicClusterPorts, rule({ cidrIpv4: "0.0.0.0/0" }))).toEqual([
      "rule prod-nodes-server-in-0 opens port 22 to 0.0.0.0/0; restrict it to the operator's ranges",
    ]);
    expect(
      await checkResource(
        noPublicClusterPorts,
        rule({ cidrIpv4: undefined, cidrIpv6: "::/0", fromPort: 2379, toPort: 2381 }),
      ),
    ).toEqual([
      "rule prod-nodes-server-in-0 opens port 2379-2381 to ::/0; restrict it to the operator's ranges",
    ]);
    expect(
      await checkResource(noPublicClusterPorts, rule({ cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443 })),
    ).toEqual([]);
  });
});

describe("Kubernetes policies", () => {
  const ns = (labels: Record<string, string>, annotations?: Record<string, string>): Fixture => ({
    type: "kubernetes:core/v1:Namespace",
    name: "ns",
    props: { metadata: { name: "shop", labels, annotations } },
  });
  it("require a Pod Security enforce label and a reason for privileged", async () => {
    expect(
      await checkResource(namespacePodSecurity, ns({ "pod-security.kubernetes.io/enforce": "restricted" })),
    ).toEqual([]);
    expect(await checkResource(namespacePodSecurity, ns({}))).toEqual([
      "namespace shop has no pod-security.kubernetes.io/enforce label; set it to restricted (CIS 5.2)",
    ]);
    expect(
      await checkResource(namespacePodSecurity, ns({ "pod-security.kubernetes.io/enforce": "privileged" })),
    ).toEqual(["namespace shop enforces privileged without a hardened-rke2/pod-security-reason (CIS 5.2)"]);
  });

  it("require default ServiceAccounts patched with automount off, never owned", async () => {
    const sa = (type: string, automount: boolean) => ({
      type,
      name: "sa",
      props: { metadata: { name: "default", namespace: "shop" }, automountServiceAccountToken: automount },
    });
    expect(
      await checkResource(
        defaultServiceAccountAutomount,
        sa("kubernetes:core/v1:ServiceAccountPatch", false),
      ),
    ).toEqual([]);
    expect(
      await checkResource(defaultServiceAccountAutomount, sa("kubernetes:core/v1:ServiceAccountPatch", true)),
    ).toEqual([
      "default ServiceAccount in shop keeps token automount; set automountServiceAccountToken: false (CIS 5.1.5)",
    ]);
    expect(
      await checkResource(defaultServiceAccountAutomount, sa("kubernetes:core/v1:ServiceAccount", false)),
    ).toEqual([
      "default ServiceAccount in shop is owned by the stack; patch it (ServiceAccountPatch) so destroy never deletes it",
    ]);
  });

  it("refuse privileged or root workloads", async () => {
    const deploy = (
      securityContext: Record<string, unknown>,
      podContext: Record<string, unknown> = {},
    ): Fixture => ({
      type: "kubernetes:apps/v1:Deployment",
      name: "web",
      props: {
        spec: {
          template: { spec: { securityContext: podContext, containers: [{ name: "app", securityContext }] } },
        },
      },
    });
    expect(await checkResource(noPrivilegedWorkloads, deploy({ runAsNonRoot: true }))).toEqual([]);
    expect(await checkResource(noPrivilegedWorkloads, deploy({ privileged: true }))).toEqual([
      "web: container app runs privileged (CIS 5.2.2)",
    ]);
    expect(await checkResource(noPrivilegedWorkloads, deploy({ runAsUser: 0 }))).toEqual([
      "web: container app runs as root (CIS 5.2.7)",
    ]);
    expect(await checkResource(noPrivilegedWorkloads, deploy({}, { runAsUser: 0 }))).toEqual([
      "web: the pod runs as root (CIS 5.2.7)",
    ]);
  });
});

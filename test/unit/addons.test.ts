// Add-on overrides (addons.<chart>): the exact HelmChartConfig files a server receives, RKE2's disable list, the
// kube-system exception policies following the overrides, and every weakening refused with its key. It cannot prove
// RKE2's Helm controller merges these values: the e2e run applies a rendered one to a real API server.
import { parse } from "yaml";
import { controlMap } from "../../components/render/cis";
import { renderClusterObjects } from "../../components/render/kube";
import { renderNode } from "../../components/render/node";
import { rke2Config } from "../../components/render/rke2";
import { offlineFacts } from "../../components/spec/plan";
import { existingConfig, problemsOf, spec } from "../helpers/spec";

const inputs = { secret: () => "token", file: () => "", secretFile: () => "" };
type Raw = Record<string, any>;
const withAddons = (addons: Raw, change: (c: Raw) => void = () => undefined): Raw => {
  const c: Raw = existingConfig();
  c.addons = addons;
  change(c);
  return c;
};
const MANIFESTS = "/var/lib/rancher/rke2/server/manifests";
const filesOf = (raw: Raw, node = 0) => {
  const s = spec(raw);
  const facts = offlineFacts(s);
  return renderNode(s, facts[node], "192.0.2.11", inputs).files;
};
const exceptionPolicies = (raw: Raw) =>
  renderClusterObjects(spec(raw))
    .map((r) => r.object)
    .filter((o) => o.metadata.namespace === "kube-system" && o.kind === "NetworkPolicy")
    .map((o) => o.metadata.name);

describe("addons: rendered files", () => {
  const raw = withAddons({
    "rke2-ingress-nginx": {
      values: { controller: { config: { "ssl-protocols": "TLSv1.3" }, containerPort: { https: 8443 } } },
    },
    "rke2-canal": { values: { flannel: { backend: "wireguard" } } },
    "rke2-coredns": { values: { replicaCount: 2 } },
  });

  it("writes one HelmChartConfig per overridden chart into RKE2's server manifests folder, 0600, on servers", () => {
    const manifests = filesOf(raw).filter((f) => f.path.startsWith(MANIFESTS));
    expect(manifests.map((f) => `${f.path} ${f.mode} ${f.owner}:${f.group} ${String(f.secret)}`)).toEqual([
      `${MANIFESTS}/rke2-ingress-nginx-config.yaml 0600 root:root false`,
      `${MANIFESTS}/rke2-canal-config.yaml 0600 root:root false`,
      `${MANIFESTS}/rke2-coredns-config.yaml 0600 root:root false`,
    ]);
    expect(manifests[0].content).toBe(
      "# Rendered by hardened-rke2 from the stack config. Do not edit on the node: the next `pulumi up` rewrites it.\n" +
        "# Values for RKE2's bundled rke2-ingress-nginx chart (addons.rke2-ingress-nginx.values), checked against the hardening.\n" +
        "apiVersion: helm.cattle.io/v1\n" +
        "kind: HelmChartConfig\n" +
        "metadata:\n" +
        "  name: rke2-ingress-nginx\n" +
        "  namespace: kube-system\n" +
        "spec:\n" +
        "  valuesContent: |\n" +
        "    controller:\n" +
        "      config:\n" +
        "        ssl-protocols: TLSv1.3\n" +
        "      containerPort:\n" +
        "        https: 8443\n",
    );
    // The values round-trip: what the Helm controller reads is exactly the stack's mapping.
    expect(parse(parse(manifests[1].content).spec.valuesContent)).toEqual({
      flannel: { backend: "wireguard" },
    });
    // Agents do not run the deploy controller: no manifest there.
    expect(filesOf(raw, 3).filter((f) => f.path.startsWith(MANIFESTS))).toEqual([]);
  });

  it("writes nothing and sets no disable list when the stack overrides nothing", () => {
    expect(filesOf(existingConfig()).filter((f) => f.path.startsWith(MANIFESTS))).toEqual([]);
    const s = spec(existingConfig());
    expect(rke2Config(s, offlineFacts(s)[0], "192.0.2.11").disable).toBeUndefined();
  });

  it("lets the ingress exception follow the overridden ports", () => {
    const ingress = renderClusterObjects(spec(raw))
      .map((r) => r.object)
      .find((o) => o.metadata.name === "hardened-rke2-allow-ingress-controller");
    expect(ingress?.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "rke2-ingress-nginx" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          ports: [
            // https moved onto the webhook's port: one entry for both.
            { port: 80, protocol: "TCP" },
            { port: 8443, protocol: "TCP" },
          ],
        },
      ],
    });
  });

  it("puts disabled charts in RKE2's disable list and drops their exception policies", () => {
    const off = withAddons({
      "rke2-ingress-nginx": { disable: true },
      "rke2-metrics-server": { disable: true },
    });
    const s = spec(off);
    expect(rke2Config(s, offlineFacts(s)[0], "192.0.2.11").disable).toEqual([
      "rke2-ingress-nginx",
      "rke2-metrics-server",
    ]);
    expect(rke2Config(s, offlineFacts(s)[3], "192.0.2.11").disable).toBeUndefined();
    expect(exceptionPolicies(existingConfig())).toEqual([
      "hardened-rke2-default-deny",
      "hardened-rke2-allow-same-namespace",
      "hardened-rke2-allow-dns",
      "hardened-rke2-allow-metrics-server",
      "hardened-rke2-allow-ingress-controller",
    ]);
    expect(exceptionPolicies(off)).toEqual([
      "hardened-rke2-default-deny",
      "hardened-rke2-allow-same-namespace",
      "hardened-rke2-allow-dns",
    ]);
    expect(controlMap(s).find((c) => c.key === "namespaceNetworkPolicies")?.where).toContain(
      "rke2-ingress-nginx disabled (/etc/rancher/rke2/config.yaml: disable), so its kube-system exception is not rendered",
    );
  });

  it("names the CNI override on CIS.md's 5.3.1 row", () => {
    expect(controlMap(spec(raw)).find((c) => c.key === "cniNetworkPolicy")?.where).toBe(
      "/etc/rancher/rke2/config.yaml: cni: canal; /var/lib/rancher/rke2/server/manifests/rke2-canal-config.yaml (values checked to keep NetworkPolicy enforcement on)",
    );
  });
});

describe("addons: what weakens the hardening is refused, naming the key", () => {
  it("refuses ingress hostNetwork the stack did not ask for, and takes it with a reason", () => {
    const on = { controller: { hostNetwork: true } };
    expect(problemsOf(withAddons({ "rke2-ingress-nginx": { values: on } }))).toEqual([
      'cluster.addons["rke2-ingress-nginx"].values.controller.hostNetwork: true puts the ingress controller in the host\'s network namespace, outside every NetworkPolicy (CIS 5.3.2), and the stack did not ask for it; allowed: false, or set addons.rke2-ingress-nginx.hostNetworkReason to say why',
    ]);
    expect(
      problemsOf(
        withAddons({
          "rke2-ingress-nginx": {
            values: on,
            hostNetworkReason: "bare-metal edge nodes without a load balancer",
          },
        }),
      ),
    ).toEqual([]);
  });

  it("refuses turning off the CNI's NetworkPolicy enforcement, and overrides for a CNI the stack does not run", () => {
    expect(
      problemsOf(
        withAddons(
          { "rke2-cilium": { values: { policyEnforcementMode: "never" } } },
          (c) => (c.cni = "cilium"),
        ),
      ),
    ).toEqual([
      'cluster.addons["rke2-cilium"].values.policyEnforcementMode: "never" turns off Cilium\'s NetworkPolicy enforcement (CIS 5.3.1, and every policy of CIS 5.3.2 with it); allowed: default or always',
    ]);
    expect(problemsOf(withAddons({ "rke2-cilium": { values: { policyEnforcementMode: "never" } } }))).toEqual(
      [
        'cluster.addons["rke2-cilium"]: the stack\'s cni is canal, so RKE2 does not deploy rke2-cilium and its overrides would do nothing; allowed: overrides for rke2-canal',
      ],
    );
    expect(problemsOf(withAddons({ "rke2-canal": { disable: true } }))).toEqual([
      'cluster.addons["rke2-canal"].disable: true is not allowed: RKE2 deploys the CNI chosen by cni, and a cluster without one enforces no NetworkPolicy (CIS 5.3.1); allowed: false',
    ]);
  });

  it("refuses moving an add-on away from its exception policy, privileged containers, and ports it cannot follow", () => {
    expect(
      problemsOf(
        withAddons({
          "rke2-metrics-server": {
            values: { namespaceOverride: "monitoring", hostNetwork: { enabled: true } },
          },
          "rke2-ingress-nginx": {
            values: {
              nameOverride: "edge",
              controller: { containerPort: { http: "80" }, securityContext: { privileged: true } },
            },
          },
        }),
      ),
    ).toEqual([
      'cluster.addons["rke2-ingress-nginx"].values.nameOverride: "edge" renames the chart\'s pods, and the stack\'s exception NetworkPolicy selects them by the chart\'s name label (app.kubernetes.io/name: rke2-ingress-nginx, app: rke2-metrics-server); allowed: unset',
      'cluster.addons["rke2-ingress-nginx"].values.controller.securityContext.privileged: true runs a container privileged; kube-system is exempt from Pod Security, so the charts\' own settings are what keeps its pods unprivileged (CIS 5.2.2); allowed: false',
      'cluster.addons["rke2-ingress-nginx"].values.controller.containerPort.http: "80" is not a port the exception NetworkPolicy can follow; allowed: an integer 1–65535',
      'cluster.addons["rke2-metrics-server"].values.hostNetwork.enabled: true puts metrics-server in the host\'s network namespace, outside every NetworkPolicy (CIS 5.3.2); allowed: false',
      'cluster.addons["rke2-metrics-server"].values.namespaceOverride: "monitoring" moves the chart out of kube-system: the stack\'s exception NetworkPolicies and the Pod Security exemption cover kube-system only, so in another namespace its pods would be denied by that namespace\'s policies; allowed: unset (kube-system)',
    ]);
  });

  it("refuses values for a disabled chart", () => {
    expect(
      problemsOf(withAddons({ "rke2-coredns": { disable: true, values: { replicaCount: 2 } } })),
    ).toEqual([
      'cluster.addons["rke2-coredns"].values: are set for a chart the stack disables, so they would do nothing; allowed: values, or disable: true, not both',
    ]);
  });

  it("refuses a chart the stack cannot override", () => {
    expect(problemsOf(withAddons({ "rke2-traefik": {} }))).toEqual([
      expect.stringMatching(/^cluster\.addons\["rke2-traefik"\]: unknown key/),
    ]);
  });
});

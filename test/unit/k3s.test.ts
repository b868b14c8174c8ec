// K3s as the second distribution: the spec's K3s rules and every K3s hardening-guide item as rendered, exactly.
// Proves what the renderers write for `distribution: k3s` (docs.k3s.io security/hardening-guide.md); cannot prove
// that a real K3s starts with it (the e2e control-plane run for K3s is issue #16 item 3).
import { parse } from "yaml";
import { renderBundle } from "../../components/render/bundle";
import { controlMap } from "../../components/render/cis";
import { BENCHMARK_CONTROLS } from "../../components/spec/cis-catalogue";
import { stepsFor } from "../../components/render/node";
import { awsConfig, existingConfig, problemsOf, spec } from "../helpers/spec";

const inputs = { secret: () => "token", file: () => "ca", secretFile: () => "key" };

function k3sConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...existingConfig(), distribution: "k3s", version: "v1.33.5+k3s1", ...extra };
}

function fileOf(nodeIndex: number, path: string, raw = k3sConfig()): string {
  const f = renderBundle(spec(raw), inputs).nodes[nodeIndex].files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path}`);
  return f.content;
}

describe("spec: distribution k3s", () => {
  it("accepts a pinned K3s release and maps it to K3s's benchmark", () => {
    const s = spec(k3sConfig());
    expect([s.distribution, s.version.raw, s.profile, s.benchmark, s.cni]).toEqual([
      "k3s",
      "v1.33.5+k3s1",
      undefined,
      "k3s-cis-1.12",
      "flannel",
    ]);
    // K3s's self-assessment guides: 1.8 covers v1.26-v1.29, 1.10 v1.28-v1.33 (newer wins), 1.7 v1.25.
    expect(spec(k3sConfig({ version: "v1.26.15+k3s1" })).benchmark).toBe("k3s-cis-1.8");
    expect(spec(k3sConfig({ version: "v1.30.14+k3s1" })).benchmark).toBe("k3s-cis-1.10");
    expect(spec(k3sConfig({ version: "v1.25.16+k3s1" })).benchmark).toBe("k3s-cis-1.7");
  });

  it("refuses an RKE2 version, a profile, a CNI K3s does not deploy, AWS nodes and a tarball pin", () => {
    expect(problemsOf(k3sConfig({ version: "v1.33.5+rke2r1" }))).toEqual([
      'cluster.version: "v1.33.5+rke2r1" is not a pinned K3s release; allowed: a pinned release such as v1.33.5+k3s1',
    ]);
    expect(problemsOf(k3sConfig({ profile: "cis" }))).toEqual([
      'cluster.profile: "cis" is an RKE2 setting; allowed: unset with distribution k3s (K3s has no CIS profile flag; the stack renders every item of the K3s hardening guide instead)',
    ]);
    expect(problemsOf(k3sConfig({ cni: "canal" }))).toEqual([
      'cluster.cni: "canal" is not a CNI K3s deploys with NetworkPolicy enforcement; allowed: flannel (flannel with K3s\'s embedded network policy controller; Calico or Cilium on K3s are not supported yet)',
    ]);
    expect(problemsOf(k3sConfig({ install: { tarballSha256: "a".repeat(64) } }))).toEqual([
      "cluster.install.tarballSha256: is set but K3s installs from k3s; allowed: binarySha256",
    ]);
    expect(problemsOf({ ...awsConfig(), distribution: "k3s", version: "v1.33.5+k3s1" })).toEqual([
      `cluster.nodes.source: "aws" is not supported with distribution k3s yet (the security groups open RKE2's ports); allowed: existing (K3s on existing hosts)`,
    ]);
  });

  it("still applies K3s's version rules when another key of the cluster section is wrong", () => {
    expect(
      problemsOf(k3sConfig({ name: "Not_A_Label", version: "v1.33.5+rke2r1" })).map((p) => p.split(":")[0]),
    ).toEqual(["cluster.name", "cluster.version"]);
  });

  it("keeps RKE2 refusing a K3s version, pointing at distribution", () => {
    expect(problemsOf({ ...existingConfig(), version: "v1.33.5+k3s1" })).toEqual([
      'cluster.version: "v1.33.5+k3s1" is not a pinned RKE2 release; allowed: a pinned release such as v1.33.5+rke2r1 (or set distribution: k3s)',
    ]);
  });
});

describe("render: every K3s hardening-guide item", () => {
  const first = parse(fileOf(0, "/etc/rancher/k3s/config.yaml")) as Record<string, unknown>;
  const second = parse(fileOf(1, "/etc/rancher/k3s/config.yaml")) as Record<string, unknown>;
  const agent = parse(fileOf(3, "/etc/rancher/k3s/config.yaml")) as Record<string, unknown>;

  it("writes the guide's config keys on servers, with no RKE2 profile", () => {
    expect(first["profile"]).toBeUndefined();
    expect(first["protect-kernel-defaults"]).toBe(true);
    expect(first["secrets-encryption"]).toBe(true);
    expect(first["kube-apiserver-arg"]).toEqual([
      "enable-admission-plugins=NodeRestriction,EventRateLimit",
      "request-timeout=60s",
      "service-account-lookup=true",
      "admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml",
      "audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml",
      "audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log",
      "audit-log-maxage=30",
      "audit-log-maxbackup=10",
      "audit-log-maxsize=100",
      "service-account-extend-token-expiration=false",
    ]);
    expect(first["kube-controller-manager-arg"]).toEqual(["terminated-pod-gc-threshold=10"]);
    expect(first["cni"]).toBeUndefined();
    expect(first["disable-network-policy"]).toBeUndefined();
  });

  it("gives every node the kubelet flags K3s's self-assessment checks, and protect-kernel-defaults", () => {
    for (const c of [first, agent]) {
      expect((c["kubelet-arg"] as string[]).slice(1)).toEqual([
        "streaming-connection-idle-timeout=5m",
        "make-iptables-util-chains=true",
      ]);
      expect((c["kubelet-arg"] as string[])[0]).toMatch(/^tls-cipher-suites=/);
      expect(c["protect-kernel-defaults"]).toBe(true);
    }
  });

  it("starts embedded etcd on the first server only; the others join through port 6443", () => {
    expect([first["cluster-init"], first["server"]]).toEqual([true, undefined]);
    expect([second["cluster-init"], second["server"]]).toEqual([undefined, "https://192.0.2.11:6443"]);
    expect(agent["server"]).toBe("https://192.0.2.11:6443");
  });

  it("configures EventRateLimit with Pod Security restricted in psa.yaml (the plugin refuses to start without it)", () => {
    const psa = parse(fileOf(0, "/var/lib/rancher/k3s/server/psa.yaml")) as { plugins: { name: string }[] };
    expect(psa.plugins.map((p) => p.name)).toEqual(["EventRateLimit", "PodSecurity"]);
  });

  it("renders K3s's systemd unit and has the start step create the audit log folder 0700", () => {
    expect(fileOf(0, "/etc/systemd/system/k3s.service")).toContain("ExecStart=/usr/local/bin/k3s server\n");
    expect(fileOf(3, "/etc/systemd/system/k3s-agent.service")).toContain(
      "ExecStart=/usr/local/bin/k3s agent\n",
    );
    expect(fileOf(0, "/var/lib/hardened-rke2/node.env")).toContain(
      "AUDIT_LOG_DIR='/var/lib/rancher/k3s/server/logs'\nINSTALL_MODE='online'",
    );
    expect(fileOf(0, "/var/lib/hardened-rke2/node.env")).toContain("UNIT='k3s.service'\n");
  });

  it("runs no etcd user step (etcd is embedded in the k3s process)", () => {
    expect(stepsFor(spec(k3sConfig()), "server")).toEqual(["sysctl", "install", "start", "ready", "cis"]);
  });

  it("admits K3s's bundled components into kube-system: CoreDNS, metrics-server, Traefik and its svclb", () => {
    const names = renderBundle(spec(k3sConfig()), inputs)
      .objects.filter(
        (o) => o.object.kind === "NetworkPolicy" && o.object.metadata.namespace === "kube-system",
      )
      .map((o) => o.object.metadata.name);
    expect(names).toEqual([
      "hardened-rke2-default-deny",
      "hardened-rke2-allow-same-namespace",
      "hardened-rke2-allow-dns",
      "hardened-rke2-allow-metrics-server",
      "hardened-rke2-allow-traefik",
      "hardened-rke2-allow-svclb-traefik",
    ]);
  });
});

describe("CIS map: K3s's benchmark numbering", () => {
  const rows = controlMap(spec(k3sConfig()));

  it("has one row per control of k3s-cis-1.12, Not Applicable where K3s's self-assessment says so", () => {
    const inBenchmark = BENCHMARK_CONTROLS.filter((c) => c.ids["k3s-cis-1.12"] !== "-");
    expect(rows.slice(0, inBenchmark.length).map((r) => r.id)).toEqual(
      inBenchmark.map((c) => c.ids["k3s-cis-1.12"]),
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get("1.1.1")?.means).toBe("not applicable");
    expect(byId.get("1.1.12")?.means).toBe("not applicable");
    expect(byId.get("4.2.6")?.where).toBe(
      "/etc/rancher/k3s/config.yaml (kubelet-arg): make-iptables-util-chains=true",
    );
    // Nothing in the K3s map points at an RKE2 file.
    expect(rows.filter((r) => r.where.includes("/rancher/rke2"))).toEqual([]);
  });
});

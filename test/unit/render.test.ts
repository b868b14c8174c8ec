// Proves each renderer's exact output for representative specs: the node files, their modes and owners, the
// in-cluster objects, and that secret values land only in the 0600 files meant to hold them. It cannot prove RKE2
// accepts these files: the end-to-end run does that against the stand-in and a real kube-apiserver.
import { parse } from "yaml";
import { renderBundle } from "../../components/render/bundle";
import { PATHS, type NodeFile } from "../../components/render/files";
import type { RenderInputs } from "../../components/render/inputs";
import { renderClusterObjects } from "../../components/render/kube";
import { renderNode, renderSysctl } from "../../components/render/node";
import { auditPolicy, podSecurityConfig } from "../../components/render/policy";
import { renderRegistries } from "../../components/render/registries";
import { rke2Config, shellQuote } from "../../components/render/rke2";
import { offlineFacts, registrationAddress } from "../../components/spec/plan";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { awsConfig, context, existingConfig, spec as specOf } from "../helpers/spec";

// Operator files the full config names; the renderers get their contents through `planted`, the loader only checks
// that they exist.
const OPERATOR_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "render-operator-"));
for (const f of ["ca.crt", "client.crt", "client.key", "s3-ca.crt"])
  fs.writeFileSync(path.join(OPERATOR_DIR, f), "x");
const spec = (raw: unknown) => specOf(raw, context({ baseDir: OPERATOR_DIR }));

type Raw = Record<string, any>;

const PLANTED = {
  clusterToken: "PLANTED-TOKEN-7f3a9c",
  regPw: "PLANTED-REGISTRY-PASSWORD-51be",
  etcdS3AccessKey: "PLANTED-S3-ACCESS-0c11",
  etcdS3SecretKey: "PLANTED-S3-SECRET-e9d2",
};
const PLANTED_KEY_FILE = "PLANTED-CLIENT-KEY-44aa";

const planted: RenderInputs = {
  secret: (key) => {
    const value = (PLANTED as Record<string, string>)[key];
    if (value === undefined) throw new Error(`test asked for an unplanted secret ${key}`);
    return value;
  },
  file: (p) => `-----BEGIN CERTIFICATE-----\n(contents of ${p})\n-----END CERTIFICATE-----\n`,
  secretFile: () => PLANTED_KEY_FILE,
};

function fullConfig(): Raw {
  const c = existingConfig();
  c.registries = {
    systemDefaultRegistry: "registry.example:5000",
    mirrors: {
      "docker.io": {
        endpoints: ["https://registry.example:5000"],
        rewrites: { "^rancher/(.*)": "mirror/rancher/$1" },
      },
    },
    configs: {
      "registry.example:5000": {
        auth: { username: "puller", passwordSecret: "regPw" },
        tls: { caFile: "ca.crt", certFile: "client.crt", keyFile: "client.key" },
      },
    },
  };
  c.etcdSnapshots = { s3: { bucket: "snapshots", endpointCaFile: "s3-ca.crt" } };
  c.namespaces = [
    {
      name: "shop",
      allowIngressFrom: [
        { namespace: "kube-system", podLabels: { app: "ingress" }, ports: [{ port: 8080 }] },
      ],
    },
  ];
  return c;
}

const byPath = (files: NodeFile[], p: string): NodeFile => {
  const f = files.find((x) => x.path === p);
  if (!f) throw new Error(`no rendered file at ${p}; have ${files.map((x) => x.path).join(", ")}`);
  return f;
};

describe("sysctl", () => {
  it("writes exactly the four parameters of the hardening guides", () => {
    const f = renderSysctl();
    expect(f.path).toBe("/etc/sysctl.d/90-kubelet.conf");
    expect(f.content.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([
      "vm.panic_on_oom=0",
      "vm.overcommit_memory=1",
      "kernel.panic=10",
      "kernel.panic_on_oops=1",
    ]);
    expect([f.mode, f.owner, f.group, f.secret]).toEqual(["0644", "root", "root", false]);
  });
});

describe("RKE2 config.yaml", () => {
  const s = spec(existingConfig());
  const facts = offlineFacts(s);
  const reg = registrationAddress(s, facts);

  it("bootstraps the first server without a server URL and with every CIS flag", () => {
    expect(reg).toBe("192.0.2.11");
    expect(rke2Config(s, facts[0], reg)).toEqual({
      profile: "cis",
      "protect-kernel-defaults": true,
      "token-file": "/etc/rancher/rke2/cluster-token",
      "node-name": "s1",
      selinux: false,
      // CIS 4.2.12: the six suites rke2-cis-1.12 (and kube-bench's rke2-cis-1.8) accept, on every node.
      "kubelet-arg": [
        "tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      ],
      cni: "canal",
      "cluster-cidr": "10.42.0.0/16",
      "service-cidr": "10.43.0.0/16",
      "tls-san": ["192.0.2.11"],
      "write-kubeconfig-mode": "0600",
      "secrets-encryption": true,
      "audit-policy-file": "/etc/rancher/rke2/audit-policy.yaml",
      "pod-security-admission-config-file": "/etc/rancher/rke2/hardened-rke2-pss.yaml",
      "kube-apiserver-arg": [
        "audit-log-path=/var/lib/rancher/rke2/server/logs/audit.log",
        "audit-log-maxage=30",
        "audit-log-maxbackup=10",
        "audit-log-maxsize=100",
        "service-account-extend-token-expiration=false",
      ],
      "kube-controller-manager-arg": ["terminated-pod-gc-threshold=1000"],
      "etcd-snapshot-schedule-cron": "0 */12 * * *",
      "etcd-snapshot-retention": 5,
    });
  });

  it("joins later servers through the registration address", () => {
    expect(rke2Config(s, facts[1], reg)).toMatchObject({
      server: "https://192.0.2.11:9345",
      "node-name": "s2",
    });
  });

  it("gives agents only the node-level keys", () => {
    expect(rke2Config(s, facts[3], reg)).toEqual({
      profile: "cis",
      "protect-kernel-defaults": true,
      "token-file": "/etc/rancher/rke2/cluster-token",
      server: "https://192.0.2.11:9345",
      "node-name": "a1",
      "node-label": ["pool=a"],
      selinux: false,
      // CIS 4.2.12: the six suites rke2-cis-1.12 (and kube-bench's rke2-cis-1.8) accept, on every node.
      "kubelet-arg": [
        "tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      ],
    });
  });

  it("leaves the token-expiry flag to RKE2 where it adds it itself", () => {
    const newer = spec({ ...existingConfig(), version: "v1.33.6+rke2r1" });
    expect(rke2Config(newer, offlineFacts(newer)[0], reg)["kube-apiserver-arg"]).toEqual([
      "audit-log-path=/var/lib/rancher/rke2/server/logs/audit.log",
      "audit-log-maxage=30",
      "audit-log-maxbackup=10",
      "audit-log-maxsize=100",
    ]);
  });

  it("uses the load balancer placeholder as registration address for HA on AWS", () => {
    const ha = spec({ ...awsConfig(), nodes: { ...(awsConfig().nodes as Raw), servers: { count: 3 } } });
    const haFacts = offlineFacts(ha);
    const haReg = registrationAddress(ha, haFacts);
    expect(haReg).toBe("<aws:nlb.dns-name>");
    expect(rke2Config(ha, haFacts[0], haReg)["tls-san"]).toEqual(["<aws:nlb.dns-name>"]);
    expect(haFacts.map((n) => `${n.name}@${n.privateAddress}`)).toEqual([
      "server-0@<aws:server-0.private-ip>",
      "server-1@<aws:server-1.private-ip>",
      "server-2@<aws:server-2.private-ip>",
      "workers-0@<aws:workers-0.private-ip>",
      "workers-1@<aws:workers-1.private-ip>",
    ]);
  });
});

describe("registries.yaml", () => {
  it("writes mirrors, rewrites, auth and TLS file paths with wharfie's field names", () => {
    const files = renderRegistries(spec(fullConfig()), planted);
    const reg = byPath(files, PATHS.registries);
    expect(parse(reg.content)).toEqual({
      mirrors: {
        "docker.io": {
          endpoint: ["https://registry.example:5000"],
          rewrite: { "^rancher/(.*)": "mirror/rancher/$1" },
        },
      },
      configs: {
        "registry.example:5000": {
          auth: { username: "puller", password: PLANTED.regPw },
          tls: {
            ca_file: "/etc/rancher/rke2/registries.d/registry.example_5000/ca.crt",
            cert_file: "/etc/rancher/rke2/registries.d/registry.example_5000/client.crt",
            key_file: "/etc/rancher/rke2/registries.d/registry.example_5000/client.key",
          },
        },
      },
    });
    expect([reg.mode, reg.secret]).toEqual(["0600", true]);
    expect(files.map((f) => `${f.path} ${f.mode} ${f.secret}`)).toEqual([
      "/etc/rancher/rke2/registries.yaml 0600 true",
      "/etc/rancher/rke2/registries.d/registry.example_5000/ca.crt 0644 false",
      "/etc/rancher/rke2/registries.d/registry.example_5000/client.crt 0644 false",
      "/etc/rancher/rke2/registries.d/registry.example_5000/client.key 0600 true",
    ]);
  });

  it("writes nothing when the stack has no registry settings", () => {
    expect(renderRegistries(spec(existingConfig()), planted)).toEqual([]);
  });
});

describe("API server policy files", () => {
  it("audit policy logs every request at Metadata or above, never a secret's body", () => {
    const policy = auditPolicy() as {
      rules: { level: string; resources?: unknown; nonResourceURLs?: string[] }[];
    };
    const last = policy.rules[policy.rules.length - 1];
    expect(last).toEqual({ level: "Metadata" });
    for (const rule of policy.rules.filter((r) => r.level === "None"))
      expect(rule.nonResourceURLs).toBeDefined();
    const secretsRule = policy.rules.find((r) => JSON.stringify(r.resources ?? "").includes('"secrets"'));
    expect(secretsRule?.level).toBe("Metadata");
  });

  it("pod security enforces restricted with the reviewed exemptions", () => {
    const calico = spec({
      ...existingConfig(),
      cni: "calico",
      podSecurity: { exemptions: [{ namespace: "scanner", reason: "reads host files" }] },
    });
    expect(podSecurityConfig(calico)).toEqual({
      apiVersion: "apiserver.config.k8s.io/v1",
      kind: "AdmissionConfiguration",
      plugins: [
        {
          name: "PodSecurity",
          configuration: {
            apiVersion: "pod-security.admission.config.k8s.io/v1",
            kind: "PodSecurityConfiguration",
            defaults: {
              enforce: "restricted",
              "enforce-version": "latest",
              audit: "restricted",
              "audit-version": "latest",
              warn: "restricted",
              "warn-version": "latest",
            },
            exemptions: {
              usernames: [],
              runtimeClasses: [],
              namespaces: ["kube-system", "tigera-operator", "scanner"],
            },
          },
        },
      ],
    });
  });
});

describe("node bundle", () => {
  const s = spec(fullConfig());
  const facts = offlineFacts(s);
  const reg = registrationAddress(s, facts);
  const server = renderNode(s, facts[0], reg, planted);
  const agent = renderNode(s, facts[3], reg, planted);

  it("gives servers the policy files and the etcd user step, agents neither", () => {
    expect(server.scripts.map((x) => x.step)).toEqual([
      "sysctl",
      "etcd-user",
      "install",
      "start",
      "ready",
      "cis",
    ]);
    expect(agent.scripts.map((x) => x.step)).toEqual(["sysctl", "install", "start", "ready", "cis"]);
    expect(server.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([PATHS.auditPolicy, PATHS.podSecurity]),
    );
    expect(agent.files.map((f) => f.path)).not.toEqual(expect.arrayContaining([PATHS.auditPolicy]));
    expect(agent.files.map((f) => f.path)).not.toContain(
      `${PATHS.configDropIns}/50-etcd-s3-credentials.yaml`,
    );
  });

  it("writes every RKE2 file 0600 root:root and scripts 0700", () => {
    for (const f of [...server.files, ...agent.files].filter(
      (x) => x.path.startsWith("/etc/rancher/rke2/") && !x.path.endsWith(".crt"),
    )) {
      expect(`${f.path} ${f.mode} ${f.owner}:${f.group}`).toBe(`${f.path} 0600 root:root`);
    }
    for (const f of server.scripts) expect(f.mode).toBe("0700");
    expect(server.scripts[0].content.startsWith("#!/usr/bin/env bash")).toBe(true);
  });

  it("puts each planted secret only in files marked secret, all 0600", () => {
    const values = [...Object.values(PLANTED), PLANTED_KEY_FILE];
    for (const f of [...server.files, ...server.scripts, ...agent.files, ...agent.scripts]) {
      const holds = values.filter((v) => f.content.includes(v));
      if (holds.length > 0)
        expect(`${f.path} secret=${f.secret} mode=${f.mode}`).toBe(`${f.path} secret=true mode=0600`);
    }
    const secretPaths = server.files.filter((f) => f.secret).map((f) => f.path);
    expect(secretPaths).toEqual([
      "/etc/rancher/rke2/cluster-token",
      "/etc/rancher/rke2/config.yaml.d/50-etcd-s3-credentials.yaml",
      "/etc/rancher/rke2/registries.yaml",
      "/etc/rancher/rke2/registries.d/registry.example_5000/client.key",
    ]);
    expect(byPath(server.files, PATHS.config).content).not.toContain("PLANTED");
  });

  it("quotes env values so a script sourcing them runs no code", () => {
    expect(shellQuote("a'b; rm -rf /")).toBe(`'a'\\''b; rm -rf /'`);
    expect(byPath(server.files, PATHS.nodeEnv).content).toContain(
      "ROLE='server'\nNODE_NAME='s1'\nDISTRIBUTION='rke2'\nUNIT='rke2-server.service'\n",
    );
  });
});

describe("in-cluster objects", () => {
  const objects = renderClusterObjects(spec(fullConfig()));
  const names = objects.map(
    (o) => `${o.object.kind} ${o.object.metadata.namespace ?? ""}/${o.object.metadata.name} ${o.mode}`,
  );

  it("patch the default ServiceAccount of every namespace, never own it", () => {
    expect(names.filter((n) => n.startsWith("ServiceAccount"))).toEqual([
      "ServiceAccount default/default patch",
      "ServiceAccount kube-system/default patch",
      "ServiceAccount kube-public/default patch",
      "ServiceAccount kube-node-lease/default patch",
      "ServiceAccount shop/default patch",
    ]);
    for (const o of objects.filter((x) => x.object.kind === "ServiceAccount")) {
      expect(o.object.automountServiceAccountToken).toBe(false);
    }
  });

  it("give every namespace a default deny and same-namespace policy, kube-system the guide's exceptions", () => {
    const policies = names.filter((n) => n.startsWith("NetworkPolicy"));
    for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease", "shop"]) {
      expect(policies).toEqual(
        expect.arrayContaining([
          `NetworkPolicy ${ns}/hardened-rke2-default-deny own`,
          `NetworkPolicy ${ns}/hardened-rke2-allow-same-namespace own`,
        ]),
      );
    }
    expect(policies.filter((n) => n.includes(" kube-system/"))).toEqual([
      "NetworkPolicy kube-system/hardened-rke2-default-deny own",
      "NetworkPolicy kube-system/hardened-rke2-allow-same-namespace own",
      "NetworkPolicy kube-system/hardened-rke2-allow-dns own",
      "NetworkPolicy kube-system/hardened-rke2-allow-metrics-server own",
      "NetworkPolicy kube-system/hardened-rke2-allow-ingress-controller own",
    ]);
    expect(policies.filter((n) => n.includes(" shop/"))).toEqual([
      "NetworkPolicy shop/hardened-rke2-default-deny own",
      "NetworkPolicy shop/hardened-rke2-allow-same-namespace own",
      "NetworkPolicy shop/hardened-rke2-allow-dns own",
      "NetworkPolicy shop/hardened-rke2-allow-declared-ingress own",
    ]);
    // RKE2 recreates its own policies under these names in CIS mode; ours must never take them.
    expect(policies.some((n) => /\/default-network-/.test(n))).toBe(false);
  });

  it("render managed namespaces' declared ingress and DNS egress exactly", () => {
    const spec_ = (name: string) =>
      objects.find((o) => o.object.metadata.namespace === "shop" && o.object.metadata.name === name)?.object
        .spec;
    expect(spec_("hardened-rke2-allow-declared-ingress")).toEqual({
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { app: "ingress" } },
            },
          ],
          ports: [{ port: 8080, protocol: "TCP" }],
        },
      ],
    });
    expect(spec_("hardened-rke2-allow-dns")).toEqual({
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { port: 53, protocol: "UDP" },
            { port: 53, protocol: "TCP" },
          ],
        },
      ],
    });
  });

  it("label managed namespaces with Pod Security restricted", () => {
    const ns = objects.find((o) => o.object.kind === "Namespace");
    expect(ns?.object.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "hardened-rke2",
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "latest",
    });
  });
});

describe("bundle", () => {
  it("renders one bundle per planned node and the CIS map for the stack's benchmark", () => {
    const b = renderBundle(spec(existingConfig()), planted);
    expect(b.nodes.map((n) => n.node.name)).toEqual(["s1", "s2", "s3", "a1"]);
    expect(b.controls.find((c) => c.title.startsWith("--audit-log-path"))?.id).toBe("1.2.16");
    const old = renderBundle(spec({ ...existingConfig(), version: "v1.26.15+rke2r1" }), planted);
    expect(old.controls.find((c) => c.title.startsWith("--audit-log-path"))?.id).toBe("1.2.17");
  });
});

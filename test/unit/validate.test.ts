// Proves the loader turns every bad input of the mission's list into an exact message naming the key, the value and
// what is allowed; that every problem is reported at once; and that valid configs get their documented defaults.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFakeArtifacts } from "../helpers/fake-artifacts";
import { awsConfig, context, existingConfig, problemsOf, spec } from "../helpers/spec";

type Raw = Record<string, any>;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "hardened-rke2-test-"));
}

function withChange(base: () => Raw, change: (c: Raw) => void): Raw {
  const c = base();
  change(c);
  return c;
}

describe("bad input: each gets an exact message and no spec", () => {
  it("refuses an even number of existing servers", () => {
    const c = withChange(existingConfig, (c) => (c.nodes.hosts = c.nodes.hosts.slice(1)));
    expect(problemsOf(c)).toEqual([
      "cluster.nodes.hosts: the number of hosts with role server is 2, an even count (an even count adds no etcd " +
        "fault tolerance); allowed: 1, 3, 5 or 7",
    ]);
  });

  it.each([
    [0, "0, too few (a cluster needs at least one server)"],
    [2, "2, an even count (an even count adds no etcd fault tolerance)"],
    [4, "4, an even count (an even count adds no etcd fault tolerance)"],
  ])("refuses %i AWS servers", (count, text) => {
    const c = withChange(awsConfig, (c) => (c.nodes.servers.count = count));
    expect(problemsOf(c)).toEqual([
      `cluster.nodes.servers.count: the server count is ${text}; allowed: 1, 3, 5 or 7`,
    ]);
  });

  it("refuses a profile the version does not accept, naming the accepted ones", () => {
    expect(problemsOf(withChange(existingConfig, (c) => (c.profile = "cis-1.23")))).toEqual([
      'cluster.profile: "cis-1.23" is not accepted by RKE2 v1.33.5+rke2r1 (it would refuse to start); allowed: cis ' +
        "(or leave profile unset to derive it from the version)",
    ]);
    const old = withChange(existingConfig, (c) => {
      c.version = "v1.27.5+rke2r1";
      c.profile = "cis";
    });
    expect(problemsOf(old)).toEqual([
      'cluster.profile: "cis" is not accepted by RKE2 v1.27.5+rke2r1 (it would refuse to start); allowed: cis-1.23 ' +
        "(or leave profile unset to derive it from the version)",
    ]);
  });

  it("refuses the etcd profile: accepted by RKE2 but not a CIS profile", () => {
    expect(problemsOf(withChange(existingConfig, (c) => (c.profile = "etcd")))).toEqual([
      'cluster.profile: "etcd" is accepted by RKE2 v1.33.5+rke2r1 but is not a CIS profile (no kernel-parameter ' +
        "check, no restricted pod security); allowed: cis",
    ]);
  });

  it("refuses an unknown CNI", () => {
    expect(problemsOf(withChange(existingConfig, (c) => (c.cni = "flannel")))).toEqual([
      'cluster.cni: "flannel" is not a CNI RKE2 deploys with NetworkPolicy enforcement; allowed: canal, calico, cilium',
    ]);
  });

  it("refuses an air-gap folder that is missing a file", () => {
    const dir = writeFakeArtifacts(tmpDir(), { omit: ["rke2.linux-amd64.tar.gz"] });
    const c = withChange(existingConfig, (c) => (c.install = { mode: "airgap", artifactsDir: dir }));
    expect(problemsOf(c)).toEqual([
      `cluster.install.artifactsDir: "${dir}" has no rke2.linux-amd64.tar.gz; allowed: a folder with every RKE2 amd64 ` +
        "artifact the install needs (copy it from the RKE2 release page)",
    ]);
  });

  it("refuses an air-gap folder without its checksum file", () => {
    const dir = writeFakeArtifacts(tmpDir(), { omit: ["sha256sum-amd64.txt"] });
    const c = withChange(existingConfig, (c) => (c.install = { mode: "airgap", artifactsDir: dir }));
    expect(problemsOf(c)).toEqual([
      `cluster.install.artifactsDir: "${dir}" has no sha256sum-amd64.txt; allowed: a folder with every RKE2 amd64 ` +
        "artifact the install needs (copy it from the RKE2 release page)",
    ]);
  });

  it("refuses an air-gap file whose checksum does not match", () => {
    const dir = writeFakeArtifacts(tmpDir(), { corrupt: "rke2-images.linux-amd64.tar.zst" });
    const c = withChange(existingConfig, (c) => (c.install = { mode: "airgap", artifactsDir: dir }));
    const [problem, ...rest] = problemsOf(c);
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      new RegExp(
        `^cluster\\.install\\.artifactsDir: rke2-images\\.linux-amd64\\.tar\\.zst in "${dir}" has sha256 [0-9a-f]{64} ` +
          "but sha256sum-amd64\\.txt lists [0-9a-f]{64}; allowed: the file exactly as released \\(download it again\\)$",
      ),
    );
  });

  it("requires the chosen CNI's image tarball when no registry serves images", () => {
    const dir = writeFakeArtifacts(tmpDir(), { omit: ["rke2-images-cilium.linux-amd64.tar.zst"] });
    const c = withChange(existingConfig, (c) => {
      c.cni = "cilium";
      c.install = { mode: "airgap", artifactsDir: dir };
    });
    expect(problemsOf(c)).toEqual([
      `cluster.install.artifactsDir: "${dir}" has no rke2-images-cilium.linux-amd64.tar.zst (or .tar.gz), the images ` +
        "of cni cilium; allowed: a folder with every RKE2 amd64 artifact the install needs (copy it from the RKE2 release page)",
    ]);
  });

  it("refuses a mirror with no endpoint", () => {
    const c = withChange(
      existingConfig,
      (c) => (c.registries = { mirrors: { "docker.io": { endpoints: [] }, "quay.io": {} } }),
    );
    expect(problemsOf(c)).toEqual([
      'cluster.registries.mirrors["docker.io"].endpoints: [] is empty: the mirror has no endpoint; allowed: at least ' +
        "one URL such as https://registry.example.com:5000",
      'cluster.registries.mirrors["quay.io"].endpoints: missing: the mirror has no endpoint; allowed: at least one URL ' +
        "such as https://registry.example.com:5000",
    ]);
  });

  it("refuses overlapping cluster, service and VPC ranges", () => {
    expect(problemsOf(withChange(existingConfig, (c) => (c.clusterCidr = "10.43.0.0/16")))).toEqual([
      'cluster.serviceCidr: "10.43.0.0/16" overlaps cluster.clusterCidr "10.43.0.0/16"; allowed: a range that shares no address with it',
    ]);
    expect(problemsOf(withChange(awsConfig, (c) => (c.nodes.vpcCidr = "10.40.0.0/14")))).toEqual([
      'cluster.nodes.vpcCidr: "10.40.0.0/14" overlaps cluster.clusterCidr "10.42.0.0/16"; allowed: a range that shares no address with it',
      'cluster.nodes.vpcCidr: "10.40.0.0/14" overlaps cluster.serviceCidr "10.43.0.0/16"; allowed: a range that shares no address with it',
    ]);
  });

  it("refuses a VPC too small for the subnets", () => {
    expect(problemsOf(withChange(awsConfig, (c) => (c.nodes.vpcCidr = "10.10.0.0/20")))).toEqual([
      'cluster.nodes.vpcCidr: "10.10.0.0/20" is too small; allowed: a /16 or larger (the stack carves a public and a ' +
        "private /20 subnet for each of up to 8 zones)",
    ]);
  });

  it("refuses SSH or the API open to the internet without the explicit opt-in", () => {
    const ssh = withChange(awsConfig, (c) => {
      c.nodes.sshCidrs = ["0.0.0.0/0"];
      c.nodes.apiCidrs = ["198.51.100.0/24"];
    });
    expect(problemsOf(ssh)).toEqual([
      'cluster.nodes.sshCidrs[0]: "0.0.0.0/0" opens SSH (22) to the whole internet; allowed: the operator\'s own ' +
        "ranges, or set nodes.allowPublicSsh: true to accept the exposure explicitly",
    ]);
    const api = withChange(awsConfig, (c) => (c.nodes.apiCidrs = ["198.51.100.0/24", "::/0"]));
    expect(problemsOf(api)).toEqual([
      'cluster.nodes.apiCidrs[1]: "::/0" opens the Kubernetes API (6443) and registration (9345) to the whole ' +
        "internet; allowed: the operator's own ranges, or set nodes.allowPublicApi: true to accept the exposure explicitly",
    ]);
    const optedIn = withChange(awsConfig, (c) => {
      c.nodes.sshCidrs = ["0.0.0.0/0"];
      c.nodes.allowPublicSsh = true;
      c.nodes.allowPublicApi = true;
    });
    expect(problemsOf(optedIn)).toEqual([]);
  });

  it("refuses a way out of an air-gapped AWS stack: public addresses, a public API, a bastion, S3 outside the VPC's region", () => {
    const dir = writeFakeArtifacts(tmpDir());
    const fix =
      "the air-gapped layout has no internet gateway; reach the VPC over a VPN or Direct Connect instead";
    const c = withChange(awsConfig, (c) => {
      c.install = { mode: "airgap", artifactsDir: dir };
      c.nodes.publicIp = true;
      c.etcdSnapshots = { s3: { bucket: "snaps", region: "us-east-1" } };
    });
    expect(problemsOf(c)).toEqual([
      `cluster.nodes.publicIp: true with install.mode airgap; allowed: false (${fix})`,
      'cluster.etcdSnapshots.s3.region: "us-east-1" with install.mode airgap on AWS; allowed: "eu-west-1" ' +
        "(nodes.region: the S3 gateway endpoint serves only the VPC's region)",
    ]);
    const d = withChange(awsConfig, (c) => {
      c.install = { mode: "airgap", artifactsDir: dir };
      c.nodes.apiAccess = "public";
      c.nodes.bastion = {};
      c.etcdSnapshots = { s3: { bucket: "snaps", region: "eu-west-1" } };
    });
    expect(problemsOf(d)).toEqual([
      `cluster.nodes.bastion: is set with install.mode airgap; allowed: no bastion (${fix})`,
      `cluster.nodes.apiAccess: "public" with install.mode airgap; allowed: "private" (${fix})`,
      'cluster.etcdSnapshots.s3.endpoint: "s3.amazonaws.com" with install.mode airgap on AWS; allowed: ' +
        '"s3.eu-west-1.amazonaws.com" (the regional name the S3 gateway endpoint routes)',
    ]);
  });

  it("refuses a bastion beside public node addresses, an image refresh beside a fixed image, a bad role ARN", () => {
    const c = withChange(awsConfig, (c) => {
      c.nodes.publicIp = true;
      c.nodes.bastion = { instanceType: "t3.micro" };
      c.nodes.amiId = "ami-0123456789abcdef0";
      c.nodes.amiRefresh = "2026-12";
      c.nodes.assumeRoleArn = "arn:aws:iam::12:user/x";
    });
    expect(problemsOf(c)).toEqual([
      'cluster.nodes.assumeRoleArn: "arn:aws:iam::12:user/x" is not an IAM role ARN; allowed: arn:aws:iam::<account>:role/<name>',
      'cluster.nodes.amiRefresh: "2026-12" has no effect with amiId "ami-0123456789abcdef0" (no image is looked ' +
        "up); allowed: remove one of them",
      'cluster.nodes.bastion: {"instanceType":"t3.micro"} is set together with publicIp: true, where SSH reaches ' +
        "the nodes directly; allowed: remove nodes.bastion, or set nodes.publicIp: false so that SSH goes through the bastion",
    ]);
  });

  it("refuses an existing host without a pinned host key", () => {
    const c = withChange(existingConfig, (c) => delete c.nodes.hosts[2].hostKey);
    expect(problemsOf(c)).toEqual([
      "cluster.nodes.hosts[2].hostKey: missing; allowed: the host's SSH public key as '<type> <base64>', e.g. from " +
        "`ssh-keyscan -t ed25519 <address>` checked out of band; host-key checking is never turned off",
    ]);
  });

  it("refuses a plain-text registry password without echoing it", () => {
    const c = withChange(existingConfig, (c) => {
      c.registries = {
        configs: { "r.example:5000": { auth: { username: "u", password: "hunter2-planted" } } },
      };
    });
    const problems = problemsOf(c);
    expect(problems).toEqual([
      'cluster.registries.configs["r.example:5000"].auth.password: a plain-text password is not accepted (it would ' +
        "sit unencrypted in the stack file and state); allowed: passwordSecret: <key>, with the value set by " +
        "`pulumi config set --secret <key>`",
    ]);
    expect(problems.join("\n")).not.toContain("hunter2-planted");
  });

  it("refuses a referenced secret key that is stored in plain text, and a missing one under pulumi up", () => {
    const c = withChange(existingConfig, (c) => {
      c.registries = { configs: { "r.example:5000": { auth: { username: "u", passwordSecret: "regPw" } } } };
    });
    const plain = context({
      configKeys: new Map([
        ["regPw", { secret: false }],
        ["sshPrivateKey", { secret: true }],
      ]),
    });
    expect(problemsOf(c, plain)).toEqual([
      "cluster.secrets.regPw: the config key hardened-rke2:regPw (the password of registry r.example:5000) is stored " +
        "in plain text; allowed: a secret value, set with `pulumi config set --secret regPw`",
    ]);
    const up = context({ configKeys: new Map(), requireSecrets: true });
    expect(problemsOf(c, up)).toEqual([
      "cluster.secrets.sshPrivateKey: the secret config key hardened-rke2:sshPrivateKey (the SSH private key that " +
        "reaches every node) is not set; allowed: set it with `pulumi config set --secret sshPrivateKey`",
      "cluster.secrets.regPw: the secret config key hardened-rke2:regPw (the password of registry r.example:5000) is " +
        "not set; allowed: set it with `pulumi config set --secret regPw`",
    ]);
    // The offline render needs no secret: a missing one becomes a placeholder, not an error.
    expect(problemsOf(c, context({ configKeys: new Map() }))).toEqual([]);
  });

  it("refuses unknown keys at any depth, suggesting the nearest key", () => {
    const c = withChange(existingConfig, (c) => {
      c.cnii = "canal";
      c.nodes.hosts[0].hostkey = c.nodes.hosts[0].hostKey;
      c.audit = { maxage: 30 };
    });
    expect(problemsOf(c)).toEqual([
      'cluster.cnii: unknown key "cnii"; did you mean "cni"? allowed: name, distribution, selinux, ' +
        "secretsEncryption, verification, version, profile, cni, clusterCidr, serviceCidr, tlsSan, nodes, registries, " +
        "install, etcdSnapshots, restore, audit, podSecurity, namespaces, admissionGuard, fips, addons, upgrade",
      'cluster.nodes.hosts[0].hostkey: unknown key "hostkey"; did you mean "hostKey"? allowed: name, address, ' +
        "privateAddress, port, user, role, hostKey, labels, taints",
      'cluster.audit.maxage: unknown key "maxage"; did you mean "maxAge"? allowed: policyFile, logPath, maxAge, ' +
        "maxBackup, maxSize",
    ]);
  });

  it("refuses audit limits below the CIS minimums and secrets encryption turned off", () => {
    const c = withChange(existingConfig, (c) => {
      c.audit = { maxAge: 7, maxBackup: 3, maxSize: 10 };
      c.secretsEncryption = false;
    });
    expect(problemsOf(c)).toEqual([
      "cluster.secretsEncryption: false cannot turn secrets encryption off; allowed: true (CIS 1.2.27/1.2.28; RKE2 " +
        "forces it on servers, K3s's hardening guide sets it)",
      "cluster.audit.maxAge: 7 is below the CIS minimum; allowed: 30 or more days",
      "cluster.audit.maxBackup: 3 is below the CIS minimum; allowed: 10 or more files",
      "cluster.audit.maxSize: 10 is below the CIS minimum; allowed: 100 or more MB",
    ]);
  });

  it("refuses releases older than the supported line and distributions not built yet", () => {
    expect(problemsOf(withChange(existingConfig, (c) => (c.version = "v1.24.17+rke2r1")))).toEqual([
      'cluster.version: "v1.24.17+rke2r1" is older than the oldest supported line; allowed: v1.25.0+rke2r1 or later ' +
        "(older RKE2 lines rely on PodSecurityPolicy and are end of life)",
    ]);
    // K3s is a distribution of its own: an RKE2 release is not one of its versions.
    expect(problemsOf(withChange(existingConfig, (c) => (c.distribution = "k3s")))).toEqual([
      'cluster.version: "v1.33.5+rke2r1" is not a pinned K3s release; allowed: a pinned release such as v1.33.5+k3s1',
    ]);
    expect(problemsOf(withChange(existingConfig, (c) => (c.distribution = "k8s")))).toEqual([
      'cluster.distribution: "k8s" is not a supported distribution; allowed: rke2, k3s',
    ]);
  });

  it("refuses a namespace below restricted without a reason, and one RKE2 owns", () => {
    const c = withChange(
      existingConfig,
      (c) => (c.namespaces = [{ name: "kube-system" }, { name: "legacy", podSecurity: "baseline" }]),
    );
    expect(problemsOf(c)).toEqual([
      'cluster.namespaces[0].name: "kube-system" is a namespace RKE2 owns (hardened by the stack already); allowed: a namespace of your own',
      'cluster.namespaces[1].podSecurityReason: missing for podSecurity "baseline"; allowed: a reason saying why this ' +
        "namespace runs below restricted (CIS 5.2), or podSecurity: restricted",
    ]);
  });

  it("reports every problem of every field at once", () => {
    const c = {
      version: 3,
      cni: "weave",
      nodes: { source: "gcp" },
      clusterCidr: "10.42.0.1/16",
      extra: true,
    };
    expect(problemsOf(c)).toEqual([
      'cluster.extra: unknown key "extra"; allowed: name, distribution, selinux, secretsEncryption, ' +
        "verification, version, profile, cni, clusterCidr, serviceCidr, tlsSan, nodes, registries, install, " +
        "etcdSnapshots, restore, audit, podSecurity, namespaces, admissionGuard, fips, addons, upgrade",
      "cluster.name: missing; allowed: lower-case letters, digits and '-'",
      "cluster.version: 3 was read as a number, not text (YAML reads an unquoted 1.30 as 1.3); write the value in " +
        'quotes exactly as meant, e.g. "3"; allowed: a pinned release such as v1.33.5+rke2r1 or v1.33.5+k3s1',
      'cluster.cni: "weave" is not a supported CNI; allowed: canal, calico, cilium (RKE2) or flannel (K3s) (each ' +
        "enforces NetworkPolicy, CIS 5.3.1)",
      'cluster.clusterCidr: "10.42.0.1/16" is not an IPv4 network; allowed: a CIDR whose address is the network ' +
        "address, such as 10.42.0.0/16",
      'cluster.nodes.source: "gcp" is not a node source; allowed: aws, existing',
    ]);
  });
});

describe("valid configs", () => {
  it("derive the profile and benchmark from the version and apply the documented defaults", () => {
    const s = spec(existingConfig());
    expect(s.profile).toBe("cis");
    expect(s.benchmark).toBe("rke2-cis-1.12");
    expect(s.cni).toBe("canal");
    expect([s.clusterCidr, s.serviceCidr]).toEqual(["10.42.0.0/16", "10.43.0.0/16"]);
    expect(s.audit).toEqual({
      logPath: "/var/lib/rancher/rke2/server/logs/audit.log",
      maxAge: 30,
      maxBackup: 10,
      maxSize: 100,
    });
    expect(s.etcdSnapshots).toEqual({ schedule: "0 */12 * * *", retention: 5 });
    expect(s.install).toEqual({
      mode: "online",
      arch: "amd64",
      artifactUrl: "https://github.com/rancher/rke2/releases/download",
    });
    expect(s.registries).toEqual({ disableDefaultEndpoint: false, mirrors: {}, configs: {} });
  });

  it("take a versioned profile on an older line", () => {
    const s = spec(withChange(existingConfig, (c) => (c.version = "v1.26.9+rke2r1")));
    expect([s.profile, s.benchmark]).toEqual(["cis-1.23", "rke2-cis-1.8"]);
  });

  it("order existing hosts servers first and default SSH user, port and private address", () => {
    const c = withChange(existingConfig, (c) => c.nodes.hosts.unshift(c.nodes.hosts.pop()));
    const s = spec(c);
    if (s.nodes.source !== "existing") throw new Error("expected existing hosts");
    expect(s.nodes.hosts.map((h) => `${h.name}:${h.role}`)).toEqual([
      "s1:server",
      "s2:server",
      "s3:server",
      "a1:agent",
    ]);
    expect(s.nodes.hosts[0]).toMatchObject({ user: "root", port: 22, privateAddress: "192.0.2.11" });
  });

  it("put an NLB in front of 3+ AWS servers by default, not in front of one", () => {
    const one = spec(awsConfig());
    const three = spec(withChange(awsConfig, (c) => (c.nodes.servers.count = 3)));
    expect([
      one.nodes.source === "aws" && one.nodes.loadBalancer,
      three.nodes.source === "aws" && three.nodes.loadBalancer,
    ]).toEqual([false, true]);
  });

  it("accept an air-gap folder whose files match, listing exactly the files the install uses", () => {
    const dir = writeFakeArtifacts(tmpDir());
    const s = spec(withChange(existingConfig, (c) => (c.install = { mode: "airgap", artifactsDir: dir })));
    if (s.install.mode !== "airgap") throw new Error("expected airgap");
    expect(s.install.artifacts.map((a) => `${a.kind}:${a.file}`)).toEqual([
      "tarball:rke2.linux-amd64.tar.gz",
      "images:rke2-images.linux-amd64.tar.zst",
    ]);
    expect(s.install.checksumFile.trim().split("\n")).toHaveLength(2);
  });

  it("turn the upstream registry fallback off when a system default registry is set", () => {
    const s = spec(
      withChange(existingConfig, (c) => (c.registries = { systemDefaultRegistry: "registry.example:5000" })),
    );
    expect(s.registries.disableDefaultEndpoint).toBe(true);
  });
});

describe("operator files named in the config", () => {
  it("refuses an audit policy that logs nothing, and files that do not exist", () => {
    const dir = tmpDir();
    fs.writeFileSync(
      path.join(dir, "empty-policy.yaml"),
      "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n",
    );
    const c = withChange(existingConfig, (c) => {
      c.audit = { policyFile: "empty-policy.yaml" };
      c.registries = {
        configs: { "r.example": { tls: { caFile: "missing-ca.crt", certFile: "missing.crt" } } },
      };
    });
    expect(problemsOf(c, context({ baseDir: dir }))).toEqual([
      `cluster.registries.configs["r.example"].tls.caFile: "missing-ca.crt" is not a readable file (resolved to ${dir}/missing-ca.crt); allowed: a path relative to ${dir} or absolute`,
      `cluster.registries.configs["r.example"].tls.certFile: "missing.crt" is not a readable file (resolved to ${dir}/missing.crt); allowed: a path relative to ${dir} or absolute`,
      'cluster.registries.configs["r.example"].tls: names only one of certFile and keyFile; allowed: both (client certificate auth) or neither',
      'cluster.audit.policyFile: "empty-policy.yaml" logs nothing (every rule is level None, like RKE2\'s empty ' +
        "default); allowed: a policy with at least one rule at Metadata or above (CIS 3.2.1)",
    ]);
  });

  it("accepts an operator audit policy that logs", () => {
    const dir = tmpDir();
    fs.writeFileSync(
      path.join(dir, "policy.yaml"),
      "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: RequestResponse\n",
    );
    expect(
      problemsOf(
        withChange(existingConfig, (c) => (c.audit = { policyFile: "policy.yaml" })),
        context({ baseDir: dir }),
      ),
    ).toEqual([]);
  });
});

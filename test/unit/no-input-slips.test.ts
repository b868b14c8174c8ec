// Proves issue 18 item 4: every field is checked for what it means, each rule has its exact message, and one mistake
// in each section is reported together with all the others in one run.
import { awsConfig, existingConfig, problemsOf } from "../helpers/spec";

type Raw = Record<string, any>;
const RSA_KEY =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDKV3EcjMPbQIdhdmaPqYpVjdNbunap1hIgDDckI6Enk+652+bs6MpKNOTzXvbs25hHHxCOvPHyK+5yTHg5FJFi+JI5MoIT4pL/CUbqeIl83GqZzl/0aObJb992788PYIy94C91KaiYhWxtrebuzKdVRfXn1QZKY5RygL5WXFxgMuNWYP8/Wl3ZaYT0k9Cv1B0wKN/X8/7vOUW6RUpIxqvZMMa2I+QhUMCYHzaf0sFUdIi0+jsM1ptQ2J5HAfnDfLNdsE8o+AxMqQAnSdJ+2ZguXeVnLCa9mqKWRI/w0ebL0bIfbdsR9Yzc8ca6U1aXlC9rjo5TEY8NS8BmdFDjrF4n";
const ECDSA_KEY =
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGwnAxCEcj8j0TV+l4yQAnD/MnyJ0jjpnFhMdbg1j/oXCJfzWRGU3q7KcMk1J6Cg9EPbNLAC2lRQjqd0V6HVZY8=";

function withChange(base: () => Raw, change: (c: Raw) => void): Raw {
  const c = base();
  change(c);
  return c;
}
const OPT_IN =
  "allowed: the operator's own ranges, or set nodes.allowPublicSsh: true to accept the exposure explicitly";

describe("a range admitting the whole internet needs the opt-in, however it is spelt", () => {
  it.each(["0.0.0.0/0", "::/0", "0:0::0/0", "::0/0", "0000:0000:0000:0000:0000:0000:0000:0000/0"])(
    "refuses %s",
    (cidr) => {
      const c = withChange(awsConfig, (c) => (c.nodes.sshCidrs = [cidr]));
      expect(problemsOf(c)).toEqual([
        `cluster.nodes.sshCidrs[0]: ${JSON.stringify(cidr)} opens SSH (22) to the whole internet; ${OPT_IN}`,
        `cluster.nodes.sshCidrs[0]: ${JSON.stringify(cidr)} opens the Kubernetes API (6443) and registration (9345) ` +
          "to the whole internet; allowed: the operator's own ranges, or set nodes.allowPublicApi: true to accept the " +
          "exposure explicitly",
      ]);
    },
  );

  it("refuses ranges that together cover the internet", () => {
    const c = withChange(awsConfig, (c) => {
      c.nodes.sshCidrs = ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"];
      c.nodes.apiCidrs = ["10.0.0.0/8"];
    });
    expect(problemsOf(c)).toEqual([
      'cluster.nodes.sshCidrs: ["0.0.0.0/1","128.0.0.0/2","192.0.0.0/2"] together open SSH (22) to the whole ' +
        `internet; ${OPT_IN}`,
    ]);
  });

  it("accepts a set that leaves a gap, and the whole internet with the opt-in", () => {
    expect(
      problemsOf(withChange(awsConfig, (c) => (c.nodes.sshCidrs = ["0.0.0.0/1", "192.0.0.0/2"]))),
    ).toEqual([]);
    const optIn = withChange(awsConfig, (c) => {
      c.nodes.sshCidrs = ["::/0"];
      c.nodes.allowPublicSsh = true;
      c.nodes.allowPublicApi = true;
    });
    expect(problemsOf(optIn)).toEqual([]);
  });
});

describe("host keys and public keys decode as keys OpenSSH and EC2 accept", () => {
  it("refuses an ssh-rsa host key with the ssh-keyscan fix for that host", () => {
    const c = withChange(existingConfig, (c) => (c.nodes.hosts[1].hostKey = RSA_KEY));
    expect(problemsOf(c)).toEqual([
      `cluster.nodes.hosts[1].hostKey: ${JSON.stringify(RSA_KEY).slice(0, 77)}... is an ssh-rsa key: the command ` +
        "provider pins it and offers only its SHA-1 ssh-rsa signature, which OpenSSH 8.8 and later refuse by default, " +
        "so no connection would succeed; allowed: the host's ed25519 key, from `ssh-keyscan -t ed25519 192.0.2.12` " +
        "checked out of band",
    ]);
  });

  it("accepts an ECDSA host key, refuses a truncated or mislabelled one and a removed type", () => {
    expect(problemsOf(withChange(existingConfig, (c) => (c.nodes.hosts[0].hostKey = ECDSA_KEY)))).toEqual([]);
    const hint =
      "allowed: the host's SSH public key as '<type> <base64>', e.g. from `ssh-keyscan -t ed25519 <address>` " +
      "checked out of band; host-key checking is never turned off";
    const truncated = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAW1dhevxjWB8K";
    const relabelled = ECDSA_KEY.replace("ecdsa-sha2-nistp256", "ssh-ed25519");
    const dss = "ssh-dss AAAAB3NzaC1kc3MAAACBAP";
    const c = withChange(existingConfig, (c) => {
      c.nodes.hosts[0].hostKey = truncated;
      c.nodes.hosts[1].hostKey = relabelled;
      c.nodes.hosts[2].hostKey = dss;
    });
    expect(problemsOf(c)).toEqual([
      `cluster.nodes.hosts[0].hostKey: ${JSON.stringify(truncated)} does not decode as a ssh-ed25519 key (the ` +
        `base64 is truncated or belongs to another key type); ${hint}`,
      `cluster.nodes.hosts[1].hostKey: ${JSON.stringify(relabelled).slice(0, 77)}... does not decode as a ` +
        `ssh-ed25519 key (the base64 is truncated or belongs to another key type); ${hint}`,
      `cluster.nodes.hosts[2].hostKey: ${JSON.stringify(dss)} has type ssh-dss, which OpenSSH no longer accepts or ` +
        "this product does not pin (allowed types: ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, " +
        `ecdsa-sha2-nistp521, ssh-rsa); ${hint}`,
    ]);
  });

  it("refuses an ECDSA key as the EC2 key pair", () => {
    const c = withChange(awsConfig, (c) => (c.nodes.publicKey = ECDSA_KEY));
    expect(problemsOf(c)).toEqual([
      `cluster.nodes.publicKey: ${JSON.stringify(ECDSA_KEY).slice(0, 77)}... is an ECDSA key, which EC2 cannot ` +
        "import as a key pair; allowed: '<type> <base64> [comment]' of an ssh-ed25519 (preferred) or ssh-rsa key",
    ]);
  });
});

describe("URLs and endpoints are https unless a named opt-in says otherwise", () => {
  it("refuses a plain-HTTP mirror endpoint without allowHttp, accepts it with", () => {
    const mirror = (extra: Raw) =>
      withChange(existingConfig, (c) => {
        c.registries = { mirrors: { "docker.io": { endpoints: ["http://mirror.internal:5000"], ...extra } } };
      });
    expect(problemsOf(mirror({}))).toEqual([
      'cluster.registries.mirrors["docker.io"].endpoints[0]: "http://mirror.internal:5000" is plain HTTP: images and ' +
        "registry credentials would cross the network unencrypted; allowed: an https:// URL, or set " +
        'registries.mirrors["docker.io"].allowHttp: true to accept it explicitly',
    ]);
    expect(problemsOf(mirror({ allowHttp: true }))).toEqual([]);
  });

  it("refuses an http artifact URL and an S3 endpoint with a scheme", () => {
    const c = withChange(existingConfig, (c) => {
      c.install = { artifactUrl: "http://mirror.internal/rke2" };
      c.etcdSnapshots = { s3: { bucket: "snaps", endpoint: "http://minio.internal:9000" } };
    });
    expect(problemsOf(c)).toEqual([
      'cluster.install.artifactUrl: "http://mirror.internal/rke2" is not an https URL; allowed: https://… (TLS is ' +
        "always verified)",
      'cluster.etcdSnapshots.s3.endpoint: "http://minio.internal:9000" is not a host; allowed: host[:port] of the S3 ' +
        "service without a scheme, e.g. s3.eu-west-1.amazonaws.com (RKE2 always uses https)",
    ]);
  });
});

describe("every address field is an IP address or a DNS name", () => {
  it("refuses URLs, spaces and bad names in the registration address, host addresses and tls-san", () => {
    const c = withChange(existingConfig, (c) => {
      c.nodes.registrationAddress = "https://vip.example.com";
      c.nodes.hosts[0].address = "192.0.2.300";
      c.nodes.hosts[1].privateAddress = "node 2";
      c.tlsSan = ["api.example.com", "-bad-.example.com", "*.apps.example.com", "2001:db8::1"];
    });
    expect(problemsOf(c)).toEqual([
      'cluster.tlsSan[1]: "-bad-.example.com" is not an IP address or a DNS name; allowed: a name or address clients ' +
        "use for the API, e.g. api.example.com or 192.0.2.10",
      'cluster.nodes.registrationAddress: "https://vip.example.com" is not an IP address or a DNS name; allowed: the ' +
        "fixed address in front of the servers, e.g. 192.0.2.10 or node1.example.com",
      'cluster.nodes.hosts[0].address: "192.0.2.300" is not an IP address or a DNS name; allowed: where SSH reaches ' +
        "the host, e.g. 192.0.2.10 or node1.example.com",
      'cluster.nodes.hosts[1].privateAddress: "node 2" is not an IP address or a DNS name; allowed: the address ' +
        "other nodes reach the host on, e.g. 192.0.2.10 or node1.example.com",
    ]);
  });
});

describe("counts and sizes have the bounds their messages state", () => {
  it("refuses 9 servers: the message says 1, 3, 5 or 7", () => {
    const c = withChange(awsConfig, (c) => (c.nodes.servers.count = 9));
    expect(problemsOf(c)).toEqual([
      "cluster.nodes.servers.count: the server count is 9, more than 7 (etcd advises at most 7 members: each one " +
        "more slows every write); allowed: 1, 3, 5 or 7",
    ]);
  });

  it("says a whole number is wanted, not 'a int'", () => {
    const c = withChange(awsConfig, (c) => (c.nodes.servers.rootVolumeGb = 50.5));
    expect(problemsOf(c)).toEqual([
      "cluster.nodes.servers.rootVolumeGb: 50.5 is not a whole number; allowed: a whole number",
    ]);
  });
});

describe("numbers YAML made of what was written", () => {
  it("explains 1.30 read as 1.3 and 1e400 read as infinity", () => {
    const c = withChange(existingConfig, (c) => {
      c.version = 1.3;
      c.audit = { maxAge: Infinity };
    });
    expect(problemsOf(c)).toEqual([
      "cluster.version: 1.3 was read as a number, not text (YAML reads an unquoted 1.30 as 1.3); write the value in " +
        'quotes exactly as meant, e.g. "1.3"; allowed: a pinned release such as v1.33.5+rke2r1 or v1.33.5+k3s1',
      "cluster.audit.maxAge: infinity is what YAML makes of an unquoted number too large for it (such as 1e400); " +
        "write a smaller number, or the value in quotes if it is text; allowed: a whole number",
    ]);
  });
});

describe("a wrong type says what the key is for", () => {
  it("names the keys an object takes instead of 'a object'", () => {
    const c = withChange(existingConfig, (c) => (c.audit = "on"));
    expect(problemsOf(c)).toEqual([
      'cluster.audit: "on" is not a mapping with the keys policyFile, logPath, maxAge, maxBackup, maxSize; allowed: ' +
        "a mapping with the keys policyFile, logPath, maxAge, maxBackup, maxSize",
    ]);
  });
});

describe("one mistake in each section, all reported in one run", () => {
  it("reports every section's mistake, and a bad taint no longer hides an even server count", () => {
    const c = withChange(existingConfig, (c) => {
      c.name = "Bad_Name"; // cluster
      c.profile = "cis-1.23"; // release
      c.cni = "flannel"; // network
      c.nodes.hosts = c.nodes.hosts.slice(1); // nodes: two servers...
      c.nodes.hosts[0].taints = ["bad taint"]; // ...and a bad taint beside them
      c.registries = { mirrors: { "docker.io": { endpoints: [] } } };
      c.install = { arch: "s390x" };
      c.etcdSnapshots = { retention: 0 };
      c.audit = { maxSize: 10 };
      c.namespaces = [{ name: "shop", podSecurity: "privileged" }]; // pod security and namespaces
      c.admissionGuard = { mode: "audit" };
    });
    expect(problemsOf(c).map((p) => p.slice(0, p.indexOf(":")))).toEqual([
      "cluster.name",
      "cluster.profile",
      "cluster.cni",
      "cluster.nodes.hosts[0].taints[0]",
      "cluster.nodes.hosts",
      'cluster.registries.mirrors["docker.io"].endpoints',
      "cluster.install.arch",
      "cluster.etcdSnapshots.retention",
      "cluster.audit.maxSize",
      "cluster.namespaces[0].podSecurityReason",
      "cluster.admissionGuard.mode",
    ]);
  });
});

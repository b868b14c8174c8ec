// The `render` command as a user runs it: exit codes, the summary, every problem listed for an invalid config with
// no folder written, and no secret value anywhere in the output even when the stack holds secrets.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { main, parseArgs } from "../../cli/render";
import { allText } from "../helpers/render-tree";
import { existingConfig, REPO } from "../helpers/spec";

const TSX = path.join(REPO, "node_modules", ".bin", "tsx");

function runCli(args: string[]) {
  return spawnSync(TSX, ["cli/render.ts", ...args], { cwd: REPO, encoding: "utf8" });
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "render-cli-"));
}

function writeStack(dir: string, config: Record<string, unknown>): string {
  const file = path.join(dir, "Pulumi.test.yaml");
  fs.writeFileSync(file, stringify({ config }));
  return file;
}

describe("render command", () => {
  it("renders an example stack and prints the summary", () => {
    const out = path.join(tmp(), "out");
    const r = runCli(["--stack", "dev", "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `rendered 2 nodes, 23 node files, 22 Kubernetes objects, 136 CIS controls mapped -> ${out}\n`,
    );
    expect(fs.existsSync(path.join(out, "CIS.md"))).toBe(true);
  });

  it("lists every problem of an invalid config, exits 1 and writes no folder", () => {
    const dir = tmp();
    const bad = existingConfig();
    bad.cni = "flannel";
    bad.profile = "cis-1.23";
    (bad.nodes as { hosts: unknown[] }).hosts.pop();
    (bad.nodes as { hosts: unknown[] }).hosts.pop();
    const file = writeStack(dir, { "hardened-rke2:cluster": bad });
    const out = path.join(dir, "out");
    const r = runCli(["--config", file, "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        "invalid stack config (3 problems):",
        '  - cluster.profile: "cis-1.23" is not accepted by RKE2 v1.33.5+rke2r1 (it would refuse to start); allowed: cis (or leave profile unset to derive it from the version)',
        '  - cluster.cni: "flannel" is not a CNI RKE2 deploys with NetworkPolicy enforcement; allowed: canal, calico, cilium',
        "  - cluster.nodes.hosts: the number of hosts with role server is 2, an even count (an even count adds no etcd fault tolerance); allowed: 1, 3, 5 or 7",
        "",
      ].join("\n"),
    );
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(["Pulumi.test.yaml"]);
  });

  it("never overwrites a folder that is not an earlier render", () => {
    const out = tmp();
    fs.writeFileSync(path.join(out, "precious.txt"), "keep me");
    const errors: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s) => (errors.push(String(s)), true));
    try {
      expect(main(["--stack", "dev", "--out", out])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join("")).toBe(
      `${out} exists and is not a previous render output; choose an empty or new --out folder\n`,
    );
    expect(fs.readdirSync(out)).toEqual(["precious.txt"]);
  });

  it("creates missing parent folders of --out, as in a fresh clone", () => {
    const out = path.join(tmp(), "out", "dev");
    expect(main(["--stack", "dev", "--out", out])).toBe(0);
    expect(fs.existsSync(path.join(out, "CIS.md"))).toBe(true);
  });

  it("replaces its own earlier output", () => {
    const out = path.join(tmp(), "out");
    expect(runCli(["--stack", "dev", "--out", out]).status).toBe(0);
    fs.writeFileSync(path.join(out, "stale"), "from an older render");
    expect(runCli(["--stack", "dev", "--out", out]).status).toBe(0);
    expect(fs.existsSync(path.join(out, "stale"))).toBe(false);
  });

  it("writes no secret value even when the stack holds secrets", () => {
    const dir = tmp();
    fs.writeFileSync(
      path.join(dir, "ca.crt"),
      "-----BEGIN CERTIFICATE-----\nPUBLIC-CA\n-----END CERTIFICATE-----\n",
    );
    fs.writeFileSync(
      path.join(dir, "client.crt"),
      "-----BEGIN CERTIFICATE-----\nPUBLIC-CLIENT\n-----END CERTIFICATE-----\n",
    );
    fs.writeFileSync(
      path.join(dir, "client.key"),
      "-----BEGIN PRIVATE KEY-----\nPLANTED-CLIENT-KEY-91c3\n-----END PRIVATE KEY-----\n",
    );
    const cluster = existingConfig();
    cluster.registries = {
      mirrors: { "docker.io": { endpoints: ["https://r.example:5000"] } },
      configs: {
        "r.example:5000": {
          auth: { username: "u", passwordSecret: "registryPassword" },
          tls: { caFile: "ca.crt", certFile: "client.crt", keyFile: "client.key" },
        },
      },
    };
    cluster.etcdSnapshots = { s3: { bucket: "b-snapshots" } };
    const file = writeStack(dir, {
      "hardened-rke2:cluster": cluster,
      "hardened-rke2:registryPassword": { secure: "v1:PLANTED-CIPHERTEXT-REGISTRY" },
      "hardened-rke2:clusterToken": { secure: "v1:PLANTED-CIPHERTEXT-TOKEN" },
      "hardened-rke2:sshPrivateKey": { secure: "v1:PLANTED-CIPHERTEXT-SSH" },
      "hardened-rke2:etcdS3SecretKey": { secure: "v1:PLANTED-CIPHERTEXT-S3" },
    });
    const out = path.join(dir, "out");
    const r = spawnSync(TSX, [path.join(REPO, "cli/render.ts"), "--config", file, "--out", out], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "PLANTED-PASSPHRASE" },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const text = allText(out) + r.stdout;
    for (const planted of ["PLANTED-CLIENT-KEY-91c3", "PLANTED-CIPHERTEXT", "PLANTED-PASSPHRASE"]) {
      expect(text).not.toContain(planted);
    }
    const registries = fs.readFileSync(path.join(out, "nodes/s1/etc/rancher/rke2/registries.yaml"), "utf8");
    expect(registries).toContain("password: <secret:hardened-rke2:registryPassword>");
    expect(
      fs.readFileSync(
        path.join(out, "nodes/s1/etc/rancher/rke2/registries.d/r.example_5000/client.key"),
        "utf8",
      ),
    ).toBe("<secret-file:client.key>");
    expect(fs.readFileSync(path.join(out, "nodes/s1/etc/rancher/rke2/cluster-token"), "utf8")).toBe(
      "<secret:hardened-rke2:clusterToken>\n",
    );
    for (const secretFile of [
      "etc/rancher/rke2/cluster-token",
      "etc/rancher/rke2/registries.yaml",
      "etc/rancher/rke2/config.yaml.d/50-etcd-s3-credentials.yaml",
    ]) {
      expect((fs.statSync(path.join(out, "nodes/s1", secretFile)).mode & 0o777).toString(8)).toBe("600");
    }
  });

  it.each([
    [[], "name one of --stack or --config"],
    [["--stack", "dev"], "--out is required"],
    [["--stack", "dev", "--config", "x", "--out", "o"], "name one of --stack or --config"],
    [["--stack"], "--stack needs a value"],
    [["--bogus", "1"], "unknown option --bogus"],
  ])("refuses arguments %j", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

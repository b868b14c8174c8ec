// The CIS host-check script (components/render/scripts/60-cis-check.sh) run over a root and a process table of the
// test's own, and the cause of one audit of its table put back there: shared by the unit test (a root laid out as
// RKE2 lays out a server) and the SSH e2e (a copy of a test host's real files and processes after `pulumi up`).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";

export const SCRIPT = path.join(__dirname, "../../components/render/scripts/60-cis-check.sh");
const R = "/var/lib/rancher/rke2";

export interface Fixture {
  root: string;
  proc: string;
  args: Record<string, string[]>;
  /** The distribution's data folder (RKE2's when unset). */
  dataDir?: string;
  /** K3s: the file standing for its journal, where the components' command lines are logged instead of /proc. */
  journal?: string;
}

const dataDirOf = (f: Fixture) => f.dataDir ?? R;
/** The kubelet's defaults file in the distribution's drop-in folder (`00-<program>-defaults.conf`). */
const kubeletConfOf = (f: Fixture) =>
  `${dataDirOf(f)}/agent/etc/kubelet.conf.d/00-${path.basename(dataDirOf(f))}-defaults.conf`;

export function put(root: string, p: string, content: string, mode: number, uid = 0, gid = 0): void {
  const abs = path.join(root, p);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  fs.chmodSync(abs, mode);
  fs.chownSync(abs, uid, gid);
}

export function writeProc(f: Fixture): void {
  if (f.journal !== undefined) {
    // As K3s logs a component's start (logrus text format, k3s pkg/daemons/control/server.go `Running %s %s`); etcd
    // runs in the k3s process with no such line (its config file is read from the data folder).
    const lines = Object.entries(f.args)
      .filter(([name]) => name !== "etcd")
      .map(
        ([name, args]) => `time="2026-12-07T00:00:00Z" level=info msg="Running ${name} ${args.join(" ")}"`,
      );
    fs.writeFileSync(
      f.journal,
      `time="2026-12-07T00:00:00Z" level=info msg="Starting k3s"\n${lines.join("\n")}\n`,
    );
    return;
  }
  fs.rmSync(f.proc, { recursive: true, force: true });
  Object.entries(f.args).forEach(([name, args], i) => {
    fs.mkdirSync(path.join(f.proc, String(100 + i)), { recursive: true });
    fs.writeFileSync(
      path.join(f.proc, String(100 + i), "cmdline"),
      [`/usr/local/bin/${name}`, ...args, ""].join("\0"),
    );
  });
}

/**
 * The files a hardened node of either distribution holds under its data folder, as the distribution writes them
 * (server: the component kubeconfigs 0600, the Secrets encryption config with aescbc first, PKI .crt 0644 and .key
 * 0600; every node: the kubelet's and kube-proxy's kubeconfigs and client CA 0600, the kubelet's defaults drop-in).
 * The etcd folder and config, whose owner differs between them, are the caller's.
 */
export function nodeFiles(
  root: string,
  dataDir: string,
  role: "server" | "agent",
  kubeletConfig: Record<string, unknown>,
): void {
  if (role === "server") {
    for (const k of ["admin", "scheduler", "controller"])
      put(root, `${dataDir}/server/cred/${k}.kubeconfig`, "k\n", 0o600);
    put(
      root,
      `${dataDir}/server/cred/encryption-config.json`,
      JSON.stringify({
        kind: "EncryptionConfiguration",
        resources: [{ resources: ["secrets"], providers: [{ aescbc: { keys: [] } }, { identity: {} }] }],
      }),
      0o600,
    );
    const tls = `${dataDir}/server/tls`;
    for (const c of ["server-ca", "client-ca", "serving-kube-apiserver"])
      put(root, `${tls}/${c}.crt`, "c\n", 0o644);
    for (const k of ["server-ca", "client-ca", "serving-kube-apiserver", "service"])
      put(root, `${tls}/${k}.key`, "k\n", 0o600);
    fs.chmodSync(path.join(root, tls), 0o700);
  }
  for (const k of ["kubelet", "kubeproxy"]) put(root, `${dataDir}/agent/${k}.kubeconfig`, "k\n", 0o600);
  put(root, `${dataDir}/agent/client-ca.crt`, "c\n", 0o600);
  put(
    root,
    `${dataDir}/agent/etc/kubelet.conf.d/00-${path.basename(dataDir)}-defaults.conf`,
    stringify(kubeletConfig),
    0o600,
  );
}

/** etcd's config file as RKE2 and K3s write it (pkg/daemons/executor ETCDConfig.ToConfigFile): the TLS keys 2.x reads. */
export function etcdConfigOf(dataDir: string): Record<string, unknown> {
  const tls = `${dataDir}/server/tls/etcd`;
  return {
    "data-dir": `${dataDir}/server/db/etcd`,
    "client-transport-security": {
      "cert-file": `${tls}/server-client.crt`,
      "key-file": `${tls}/server-client.key`,
      "client-cert-auth": true,
      "trusted-ca-file": `${tls}/server-ca.crt`,
    },
    "peer-transport-security": {
      "cert-file": `${tls}/peer-server-client.crt`,
      "key-file": `${tls}/peer-server-client.key`,
      "client-cert-auth": true,
      "trusted-ca-file": `${tls}/peer-ca.crt`,
    },
  };
}

export interface Verdict {
  lines: Map<string, string>;
  count: string;
  status: number | null;
}

export function run(f: Fixture): Verdict {
  const r = spawnSync("bash", [SCRIPT], {
    env: {
      PATH: process.env.PATH,
      HARDENED_RKE2_ROOT: f.root,
      HARDENED_RKE2_PROC: f.proc,
      ...(f.journal !== undefined ? { HARDENED_RKE2_JOURNAL: f.journal } : {}),
    },
    encoding: "utf8",
    // Bounded, generous for a loaded machine; a run cut short says so instead of reading as "nothing FAILed".
    timeout: 300_000,
  });
  if (r.status === null)
    throw new Error(
      `60-cis-check.sh did not finish (signal ${r.signal}): ${r.stdout.slice(-500)}${r.stderr}`,
    );
  const out = r.stdout.trim().split("\n");
  return {
    lines: new Map(out.slice(0, -1).map((l) => [l.split(" ")[1], l])),
    count: out[out.length - 1],
    status: r.status,
  };
}

/** Causes that fail a second control too, because its audit reads what the first one's cause removed: without
 * --encryption-provider-config there is no config whose providers 1.2.28 could read (kube-bench's audit finds none
 * either). */
export const ALSO_FAILS: Record<string, string[]> = { "1.2.27": ["1.2.28"] };

export const failing = (v: Verdict) =>
  [...v.lines.values()].filter((l) => l.startsWith("FAIL")).map((l) => l.split(" ")[1]);

/** A value the audit's test refuses. */
function badValue(op: string, want: string): string | undefined {
  switch (op) {
    case "eq":
    case "eq|unset":
    case "contains|unset":
      return "0.0.0.0:1";
    case "noteq":
    case "noteq|unset":
      return want;
    case "has":
      return "AlwaysAllow";
    case "nothave":
    case "nothave|unset":
      return want;
    case "gte":
      return String(Number(want) - 1);
    case "subset":
      return "TLS_RSA_WITH_RC4_128_SHA";
    case "unset":
      return "/etc/planted";
    default:
      return undefined; // "set": the cause is the flag's absence
  }
}

function setKey(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  if (value === undefined) delete o[keys[keys.length - 1]];
  else o[keys[keys.length - 1]] = value;
}

/** Puts the cause of one table line back into the fixture. */
export function breakLine(f: Fixture, line: string): void {
  const [, kind, first, b, c, d] = line.split("\t");
  let a = first;
  const abs = (p: string) => path.join(f.root, p);
  switch (kind) {
    case "mode": {
      const target = a.includes("*") ? path.join(path.dirname(a), "planted" + path.extname(a)) : a;
      if (!fs.existsSync(abs(target))) put(f.root, target, "x\n", 0o600);
      fs.chmodSync(abs(target), fs.statSync(abs(target)).isDirectory() ? 0o777 : 0o666);
      return;
    }
    case "owner":
      fs.chownSync(abs(a), 4242, 4242);
      return;
    case "flag": {
      const current = (f.args[a] ?? []).find((x) => x.startsWith(`--${b}=`))?.slice(b.length + 3);
      const args = (f.args[a] ?? []).filter((x) => !x.startsWith(`--${b}=`));
      // A list keeps its other elements, so only this control's element changes.
      const others = (current ?? "").split(",").filter((x) => x !== "" && x !== d);
      const bad =
        c === "has"
          ? [...others, "Webhook"].join(",")
          : c.startsWith("nothave")
            ? [...others, d].join(",")
            : badValue(c, d);
      f.args[a] = bad === undefined ? args : [...args, `--${b}=${bad}`];
      writeProc(f);
      return;
    }
    case "kubelet": {
      const bad = badValue(c, d);
      if (a === "-") a = "";
      if (a) f.args.kubelet = f.args.kubelet.filter((x) => !x.startsWith(`--${a}=`));
      if (bad === undefined) {
        const conf = kubeletConfOf(f);
        const doc = parse(fs.readFileSync(abs(conf), "utf8")) as Record<string, unknown>;
        setKey(doc, b, undefined);
        fs.writeFileSync(abs(conf), stringify(doc));
      } else if (a) {
        f.args.kubelet.push(`--${a}=${bad}`);
      } else {
        const doc: Record<string, unknown> = {};
        setKey(doc, b, bad === "true" || bad === "false" ? bad === "true" : bad);
        put(f.root, `${dataDirOf(f)}/agent/etc/kubelet.conf.d/99-planted.conf`, stringify(doc), 0o600);
      }
      writeProc(f);
      return;
    }
    case "etcd": {
      const conf = `${dataDirOf(f)}/server/db/etcd/config`;
      const doc = parse(fs.readFileSync(abs(conf), "utf8")) as Record<string, unknown>;
      const bad = badValue(b, c);
      setKey(
        doc,
        a,
        bad === undefined ? undefined : bad === "true" || bad === "false" ? bad === "true" : bad,
      );
      fs.writeFileSync(abs(conf), stringify(doc));
      return;
    }
    case "encryption": {
      const conf = `${dataDirOf(f)}/server/cred/encryption-config.json`;
      fs.writeFileSync(
        abs(conf),
        JSON.stringify({
          resources: [{ resources: ["secrets"], providers: [{ identity: {} }, { aescbc: {} }] }],
        }),
      );
      return;
    }
    default:
      throw new Error(`no way to break ${line}`);
  }
}

/** What a host's CIS checks read, copied out of its root: the check table, the accounts, RKE2's configuration and
 * RKE2's files (without the etcd data, the images and the release's binaries, which no check reads). Owners kept by
 * number (the etcd user exists in the host's root only). */
const CHECKED_PATHS = [
  "etc/passwd",
  "etc/group",
  "etc/rancher",
  "var/lib/hardened-rke2/cis-checks.tsv",
  R.slice(1),
];
const NOT_CHECKED = [
  `${R.slice(1)}/server/db/etcd/member`,
  `${R.slice(1)}/agent/images`,
  `${R.slice(1)}/data`,
];

function copyTree(from: string, to: string, paths: string[], exclude: string[] = []): void {
  fs.mkdirSync(to, { recursive: true });
  const present = paths.filter((p) => fs.existsSync(path.join(from, p)));
  const pack = spawnSync(
    "tar",
    [
      "-C",
      from,
      "--numeric-owner",
      ...exclude.map((e) => `--exclude=./${e}`),
      "-cf",
      "-",
      ...present.map((p) => `./${p}`),
    ],
    { maxBuffer: 1 << 30, timeout: 120_000 },
  );
  if (pack.status !== 0) throw new Error(`tar of ${from} failed: ${pack.stderr.toString()}`);
  const unpack = spawnSync("tar", ["-C", to, "--numeric-owner", "-xpf", "-"], {
    input: pack.stdout,
    timeout: 120_000,
  });
  if (unpack.status !== 0) throw new Error(`untar into ${to} failed: ${unpack.stderr.toString()}`);
}

export interface NegativeRun {
  /** Controls of the host's table. */
  controls: string[];
  /** The copy's own answer before any cause is put back: FAIL lines (none expected). */
  baseFails: string[];
  /** One entry per table line whose cause, put back, did not fail exactly its control: line and the FAILs seen. */
  wrong: string[];
  /** Table lines whose cause was put back and failed exactly their control. */
  failedAsExpected: number;
}

/**
 * The per-check negative run on a real host's state: its files (copied out of its root) and its processes' command
 * lines (`processes`: name to arguments, as they run), then, for each line of its rendered check table, the cause of
 * that audit put back in a fresh copy and the check script run over it: exactly that control must FAIL.
 */
export function negativeRun(
  hostRoot: string,
  processes: Record<string, string[]>,
  work: string,
): NegativeRun {
  const pristine = path.join(work, "pristine");
  copyTree(hostRoot, pristine, CHECKED_PATHS, NOT_CHECKED);
  const table = fs
    .readFileSync(path.join(pristine, "var/lib/hardened-rke2/cis-checks.tsv"), "utf8")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
  const fixtureAt = (dir: string): Fixture => {
    copyTree(pristine, dir, ["."]);
    const f = { root: dir, proc: `${dir}.proc`, args: structuredClone(processes) };
    writeProc(f);
    return f;
  };
  const base = run(fixtureAt(path.join(work, "base")));
  const result: NegativeRun = {
    controls: [...new Set(table.map((l) => l.split("\t")[0]))],
    baseFails: [...base.lines.values()].filter((l) => l.startsWith("FAIL")),
    wrong: [],
    failedAsExpected: 0,
  };
  table.forEach((line, i) => {
    const dir = path.join(work, `case-${i}`);
    const f = fixtureAt(dir);
    breakLine(f, line);
    const id = line.split("\t")[0];
    const seen = failing(run(f));
    if (JSON.stringify(seen) === JSON.stringify([id, ...(ALSO_FAILS[id] ?? [])])) result.failedAsExpected++;
    else result.wrong.push(`${line.replace(/\t/g, " ")}: FAIL ${JSON.stringify(seen)}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(f.proc, { recursive: true, force: true });
  });
  return result;
}

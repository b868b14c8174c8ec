// SSH test hosts for the end-to-end `pulumi up`: each host is a throw-away root (helpers/standin-root.ts) with OpenSSH's
// sshd, its sftp subsystem and sudo (test/hosts/add-sshd.sh), a host key of its own, and an address of its own on
// loopback (127.0.1.N): the test never sends traffic anywhere else, and never changes this machine's kernel parameters
// or users. What a host does is counted on the host itself: sshd's log (each session's command or subsystem) and the
// sftp server's log (bytes written per file).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { CONTROL_PLANE, HOST_TOOLS, placeTools, until } from "./control-plane";
import { makeRoot } from "./standin-root";
import { REPO } from "./spec";

/** The port every test host's sshd listens on (its own address each; not 22, which the machine may use itself). */
export const SSH_PORT = 2222;

/** The non-root account every test host has (add-sshd.sh), allowed to run anything as root through sudo. */
const LOGIN_USER = "rke2admin";

export interface SshHost {
  name: string;
  address: string;
  user: string;
  root: string;
  /** The host's public key as the stack pins it: `ssh-ed25519 <base64>`. */
  hostKey: string;
  /** sshd's log (outside the root). */
  sshdLog: string;
  /** What the host has done so far: remote sessions by kind, bytes written over SFTP. */
  counts(): HostCounts;
}

export interface HostCounts {
  /** `Starting session: command for ...` lines: remote commands run. */
  commands: number;
  /** SFTP sessions opened. */
  sftpSessions: number;
  /** Bytes written into files over SFTP. */
  bytesWritten: number;
}

function countsOf(sshdLog: string, sftpLog: string): HostCounts {
  const log = fs.existsSync(sshdLog) ? fs.readFileSync(sshdLog, "utf8") : "";
  const sftp = fs.existsSync(sftpLog) ? fs.readFileSync(sftpLog, "utf8") : "";
  return {
    commands: (log.match(/^Starting session: command for /gm) ?? []).length,
    sftpSessions: (log.match(/^Starting session: subsystem 'sftp' for /gm) ?? []).length,
    bytesWritten: [...sftp.matchAll(/^close ".*" bytes read \d+ written (\d+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    ),
  };
}

async function listening(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/**
 * Makes a host: its root, sshd and accounts, `authorizedKey` allowed for root and for `user`, kubectl and (on the first
 * server) the real control-plane binaries where the RKE2 stand-in looks for them. Starts its sshd bound to `address`.
 */
export async function makeSshHost(
  name: string,
  address: string,
  user: string,
  authorizedKeyFile: string,
  logDir: string,
  controlPlane: boolean,
): Promise<SshHost> {
  const root = makeRoot();
  const r = spawnSync(
    "bash",
    [path.join(REPO, "test", "hosts", "add-sshd.sh"), root, authorizedKeyFile, LOGIN_USER],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`add-sshd.sh failed for ${name}: ${r.stderr}`);
  // The RKE2 stand-in binds the control plane to this address (it stands in for the node's interface).
  fs.writeFileSync(path.join(root, "etc/standin-host-address"), `${address}\n`);
  // kubectl on every host (the RKE2 stand-in puts it where RKE2 does and runs its kubelet stand-in), the control plane
  // on the first server.
  placeTools(root, controlPlane ? [...CONTROL_PLANE, ...HOST_TOOLS] : HOST_TOOLS);
  const sshdLog = path.join(logDir, `sshd-${name}.log`);
  const out = fs.openSync(sshdLog, "a");
  // -D: stay in the foreground (the test owns the process); -e: log to stderr, which goes to sshdLog.
  const sshd = spawn(
    "chroot",
    [
      root,
      "/usr/sbin/sshd",
      "-D",
      "-e",
      "-f",
      "/etc/ssh/sshd_config",
      "-o",
      `ListenAddress=${address}:${SSH_PORT}`,
    ],
    { stdio: ["ignore", out, out], detached: true },
  );
  sshd.unref();
  fs.closeSync(out);
  await until(`sshd of ${name} listening on ${address}:${SSH_PORT}`, 30, async () =>
    (await listening(address, SSH_PORT)) ? true : undefined,
  );
  const pub = fs
    .readFileSync(path.join(root, "etc/ssh/ssh_host_ed25519_key.pub"), "utf8")
    .trim()
    .split(/\s+/);
  return {
    name,
    address,
    user,
    root,
    hostKey: `${pub[0]} ${pub[1]}`,
    sshdLog,
    counts: () => countsOf(sshdLog, path.join(root, "var/log/sftp-server.log")),
  };
}

/** A new ed25519 key pair in `dir`: the private key file's path and the public key line. */
export function newKeyPair(dir: string, name: string): { privateKeyFile: string; publicKey: string } {
  const file = path.join(dir, name);
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  return { privateKeyFile: file, publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim() };
}

/** Adds `publicKey` to the authorized keys of root and the login user on a host (or replaces them all with it). */
export function authorize(host: SshHost, publicKey: string, replace = false): void {
  for (const home of ["root", `home/${LOGIN_USER}`]) {
    const file = path.join(host.root, home, ".ssh/authorized_keys");
    const keys = replace ? [] : fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
    fs.writeFileSync(file, [...keys, publicKey].join("\n") + "\n");
  }
}

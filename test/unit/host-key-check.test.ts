// The operator-side host-key check (components/bootstrap/scripts/check-host-key.sh) run for real by bash, exactly as
// the program hands it to command.local.Command (HOSTS in its environment), against a STAND-IN ssh-keyscan on PATH
// that answers from a table. Proves: every host is checked, every mismatching or silent host is named with its fix
// in one run, and a run where every key matches passes. What it cannot show: a real sshd's answer (the e2e run's
// wrong-host-key phase does).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CHECK_HOST_KEY_SCRIPT } from "../../components/bootstrap/remote";

const KEY = (c: string) => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${c.repeat(43)}`;
const bin = fs.mkdtempSync(path.join(os.tmpdir(), "host-key-check-"));

/** A stand-in ssh-keyscan: `-T t -p port -t type host` answers "host type base64" from $KEYSCAN_TABLE
 * ("host:port key" lines); a host not in the table answers nothing, as one that does not respond. */
fs.writeFileSync(
  path.join(bin, "ssh-keyscan"),
  [
    "#!/usr/bin/env bash",
    'port="$4" host="$7"',
    'echo "# $host:$port SSH-2.0-standin"',
    'awk -v h="$host:$port" -v n="$host" \'$1 == h { print n " " $2 " " $3 }\' <<<"$KEYSCAN_TABLE"',
    "",
  ].join("\n"),
  { mode: 0o755 },
);

function check(hosts: string[], table: string[]) {
  const r = spawnSync("/bin/bash", ["-c", CHECK_HOST_KEY_SCRIPT], {
    encoding: "utf8",
    // No socket on standard input: bash reads ~/.bashrc when it takes one for a remote shell's.
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      HOSTS: hosts.map((h) => `${h}\n`).join(""),
      KEYSCAN_TABLE: table.join("\n"),
    },
  });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim().split("\n") };
}

describe("check-host-key.sh", () => {
  const hosts = [
    `s1 192.0.2.1 22 ${KEY("A")}`,
    `s2 192.0.2.2 2222 ${KEY("B")}`,
    `a1 192.0.2.3 22 ${KEY("C")}`,
  ];

  it("passes when every host answers with its pinned key", () => {
    const r = check(hosts, [
      `192.0.2.1:22 ${KEY("A")}`,
      `192.0.2.2:2222 ${KEY("B")}`,
      `192.0.2.3:22 ${KEY("C")}`,
    ]);
    expect(r).toEqual({
      status: 0,
      stdout: "hardened-rke2: the host keys of all 3 hosts match the stack",
      stderr: [""],
    });
  });

  it("names every host whose key differs or that does not answer, with the fix, in one run", () => {
    const r = check(hosts, [`192.0.2.1:22 ${KEY("A")}`, `192.0.2.2:2222 ${KEY("X")}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toEqual([
      `hardened-rke2: the SSH host key of s2 (192.0.2.2 port 2222) is not the one the stack pins in nodes.hosts (name: s2). The host answers: ${KEY("X")}. If the host was reinstalled, compare that key's fingerprint with the one on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), and once they agree set its hostKey to the key (type and base64) that this prints: ssh-keyscan -t ssh-ed25519 -p 2222 192.0.2.2`,
      "hardened-rke2: a1 (192.0.2.3 port 22) answered no SSH key scan within 10 s: check the address and port in nodes.hosts, that sshd runs there and that this machine can reach it (ssh-keyscan is needed on this machine)",
      "hardened-rke2: 2 of 3 hosts failed the host-key check; no node step runs until every host passes",
    ]);
  });
});

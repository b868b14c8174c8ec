// The `restore` key (spec/etcd-snapshots.ts) and the restore's node script (components/bootstrap/scripts/restore.sh),
// run for real as root in a throw-away root exactly as the program sends it (restoreCommand), with the systemctl
// stand-in: the errors name the key, the value and the fix; a missing snapshot stops the restore before RKE2 is
// touched; a rejoining server sets its etcd data aside rather than deleting it. The restore itself (RKE2 restoring
// a real etcd snapshot, the other server rejoining) is shown by test/e2e/restore.test.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { restoreCommand, restoreTrigger, type RestoreAction } from "../../components/bootstrap/restore";
import { existingConfig, problemsOf, spec } from "../helpers/spec";
import { inRoot, makeRoot } from "../helpers/standin-root";

describe("the restore key", () => {
  it("defaults to a local snapshot and is absent unless set", () => {
    expect(spec(existingConfig()).restore).toBeUndefined();
    expect(spec({ ...existingConfig(), restore: { snapshot: "on-demand-s1-1764700000" } }).restore).toEqual({
      snapshot: "on-demand-s1-1764700000",
      from: "local",
    });
  });

  it("refuses a path or a word that is not a snapshot name, naming the key, the value and the fix", () => {
    expect(problemsOf({ ...existingConfig(), restore: { snapshot: "/tmp/x.db" } })).toEqual([
      expect.stringMatching(
        /^cluster\.restore\.snapshot: "\/tmp\/x\.db" is not a snapshot name; allowed: the file name of a snapshot in \/var\/lib\/rancher\/rke2\/server\/db\/snapshots on the first server .*copy a snapshot from elsewhere into that folder first$/,
      ),
    ]);
    expect(problemsOf({ ...existingConfig(), restore: { snapshot: "a b;rm -rf /" } })).toHaveLength(1);
    expect(problemsOf({ ...existingConfig(), restore: {} })).toEqual([
      expect.stringMatching(/^cluster\.restore\.snapshot: missing; allowed: the file name of a snapshot/),
    ]);
  });

  it("refuses a restore from S3 without the bucket etcdSnapshots.s3 names", () => {
    expect(problemsOf({ ...existingConfig(), restore: { snapshot: "x", from: "s3" } })).toEqual([
      'cluster.restore.from: "s3" without etcdSnapshots.s3; allowed: "local" (a snapshot on the first server), ' +
        "or set etcdSnapshots.s3 to the bucket the snapshot is in (RKE2 reads the bucket and its credentials from there)",
    ]);
    const withS3 = {
      ...existingConfig(),
      etcdSnapshots: { s3: { bucket: "snaps" } },
      restore: { snapshot: "etcd-snapshot-s1-1764700000", from: "s3" },
    };
    expect(
      problemsOf(withS3, {
        configKeys: new Map([
          ["sshPrivateKey", { secret: true }],
          ["etcdS3AccessKey", { secret: true }],
          ["etcdS3SecretKey", { secret: true }],
        ]),
        baseDir: "/",
        requireSecrets: false,
      }),
    ).toEqual([]);
  });

  it("re-runs only for a new value", () => {
    const a = restoreTrigger({ snapshot: "s-1", from: "local" });
    expect(restoreTrigger({ snapshot: "s-1", from: "local" })).toBe(a);
    expect(restoreTrigger({ snapshot: "s-2", from: "local" })).not.toBe(a);
    expect(restoreTrigger({ snapshot: "s-1", from: "s3" })).not.toBe(a);
  });
});

describe("restore.sh", () => {
  const root = makeRoot();
  const data = path.join(root, "var/lib/rancher/rke2");
  const run = (action: RestoreAction, snapshot = "on-demand-s1-1764700000") => {
    const r = inRoot(root, ["bash", "-c", restoreCommand(action, "s1", { snapshot, from: "local" })]);
    return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
  };
  const systemctl = () => fs.readFileSync(path.join(root, "var/log/systemctl-standin.log"), "utf8");
  beforeAll(() => {
    fs.mkdirSync(path.join(root, "etc/systemd/system"), { recursive: true });
    fs.writeFileSync(
      path.join(root, "etc/systemd/system/rke2-server.service"),
      "[Service]\nExecStart=/usr/bin/sleep 0\n",
    );
    fs.mkdirSync(path.join(data, "server/db/snapshots"), { recursive: true });
    fs.writeFileSync(path.join(data, "server/db/snapshots/on-demand-s1-1700000000"), "");
  });

  it("stops rke2-server", () => {
    expect(run("stop")).toEqual({ status: 0, out: "hardened-rke2: restore: rke2-server stopped" });
    expect(systemctl()).toMatch(/^systemctl stop rke2-server$/m);
  });

  it("stops before RKE2 is touched when the snapshot is not on the first server, listing the ones there", () => {
    expect(run("reset")).toEqual({
      status: 1,
      out:
        "hardened-rke2: restore: no snapshot on-demand-s1-1764700000 on the first server s1 (looked for " +
        "/var/lib/rancher/rke2/server/db/snapshots/on-demand-s1-1764700000; there: on-demand-s1-1700000000 ). Set " +
        "restore.snapshot to one of those, or copy the snapshot there, then run 'pulumi up' again. The servers are " +
        "stopped until then.",
    });
  });

  it("refuses a second reset while RKE2's reset flag is there", () => {
    fs.writeFileSync(path.join(data, "server/db/reset-flag"), "");
    const r = run("reset", "on-demand-s1-1700000000");
    fs.rmSync(path.join(data, "server/db/reset-flag"));
    expect(r.status).toBe(1);
    expect(r.out).toMatch(
      /reset-flag exists on s1: an earlier cluster reset was not followed by a normal start/,
    );
  });

  it("sets a rejoining server's etcd data aside and starts it", () => {
    fs.mkdirSync(path.join(data, "server/db/etcd/member"), { recursive: true });
    const r = run("rejoin");
    expect(r.status).toBe(0);
    expect(r.out).toMatch(
      /etcd data set aside in \/var\/lib\/rancher\/rke2\/server\/db-before-restore-\d{8}T\d{6}Z/,
    );
    expect(fs.existsSync(path.join(data, "server/db"))).toBe(false);
    const aside = fs.readdirSync(path.join(data, "server")).filter((d) => d.startsWith("db-before-restore-"));
    expect(fs.existsSync(path.join(data, "server", aside[0], "etcd/member"))).toBe(true);
    expect(systemctl()).toMatch(/^systemctl start rke2-server$/m);
  });
});

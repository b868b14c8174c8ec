// Section "etcdSnapshots": RKE2's scheduled etcd snapshots, kept on the servers and optionally copied to S3. The S3
// credentials live in secret config keys and reach the node through a 0600 drop-in, never config.yaml.
// Key "restore": a restore of the cluster from one of those snapshots, as RKE2 documents it (docs.rke2.io,
// "Backup and Restore": every server stopped, `rke2 server --cluster-reset --cluster-reset-restore-path=<snapshot>` on
// the first, the others' db folder removed and the servers started again to rejoin). It runs once per value: the steps
// that carry it out are keyed on it (bootstrap/restore.ts), so leaving it set restores nothing again.
import { z } from "zod";
import { secretKeyName } from "./fields";
import { isHostPort } from "./net";
import { bad } from "./problems";
import { readOperatorFile, section, type SecretRef } from "./section";

const CRON = /^(\S+\s+){4}\S+$/;
/** A snapshot's name as RKE2 writes it (`<name>-<node>-<unix time>`, `.zip` when compressed): a plain file name, so
 * it reaches the node's script as one word and can name no other folder. */
const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,250}$/;
/** Where RKE2 keeps local snapshots (its default etcd-snapshot-dir, which this product never changes). */
export const SNAPSHOT_DIR = "/var/lib/rancher/rke2/server/db/snapshots";
const SNAPSHOT_ALLOWED =
  `is not a snapshot name; allowed: the file name of a snapshot in ${SNAPSHOT_DIR} on the first server ` +
  "(as `rke2 etcd-snapshot ls` lists it, e.g. on-demand-s1-1764700000), or its S3 object name with from: s3; copy a " +
  "snapshot from elsewhere into that folder first";

export const etcdSnapshotsShape = {
  etcdSnapshots: z
    .strictObject({
      schedule: z
        .string()
        .regex(CRON, { error: bad("is not a cron expression; allowed: five fields, e.g. '0 */12 * * *'") })
        .default("0 */12 * * *"),
      retention: z.number().int().min(1).max(1000).default(5),
      s3: z
        .strictObject({
          bucket: z.string().min(3),
          region: z.string().default("us-east-1"),
          // RKE2 speaks https to it (etcd-s3-insecure is never set), so the endpoint is a host, not a URL.
          endpoint: z
            .string()
            .refine(isHostPort, {
              error: bad(
                "is not a host; allowed: host[:port] of the S3 service without a scheme, e.g. s3.eu-west-1.amazonaws.com (RKE2 always uses https)",
              ),
            })
            .default("s3.amazonaws.com"),
          folder: z.string().optional(),
          endpointCaFile: z.string().optional(),
          accessKeySecret: secretKeyName.default("etcdS3AccessKey"),
          secretKeySecret: secretKeyName.default("etcdS3SecretKey"),
        })
        .optional(),
    })
    .prefault({}),
  restore: z
    .strictObject({
      snapshot: z
        .string({ error: bad(SNAPSHOT_ALLOWED) })
        .regex(SNAPSHOT_NAME, { error: bad(SNAPSHOT_ALLOWED) }),
      /** local: the first server's snapshot folder; s3: the bucket of etcdSnapshots.s3, fetched by RKE2 itself. */
      from: z.enum(["local", "s3"]).default("local"),
    })
    .optional(),
};

function ref(key: string, purpose: string): SecretRef {
  return { key, purpose, required: true };
}

export const etcdSnapshots = section({
  shape: etcdSnapshotsShape,
  build({ etcdSnapshots: raw, restore }, { problems, load }) {
    const { schedule, retention, s3 } = raw;
    if (restore?.from === "s3" && !s3) {
      problems.add(
        ["restore", "from"],
        '"s3" without etcdSnapshots.s3; allowed: "local" (a snapshot on the first server), or set etcdSnapshots.s3 ' +
          "to the bucket the snapshot is in (RKE2 reads the bucket and its credentials from there)",
      );
      return undefined;
    }
    if (s3?.endpointCaFile !== undefined) {
      const ca = readOperatorFile(
        problems,
        ["etcdSnapshots", "s3", "endpointCaFile"],
        load,
        s3.endpointCaFile,
      );
      if (ca === undefined) return undefined;
    }
    const keys = s3 && {
      accessKey: ref(s3.accessKeySecret, "the etcd snapshot S3 access key"),
      secretKey: ref(s3.secretKeySecret, "the etcd snapshot S3 secret key"),
    };
    return {
      value: {
        etcdSnapshots: {
          schedule,
          retention,
          ...(s3 &&
            keys && {
              s3: {
                bucket: s3.bucket,
                region: s3.region,
                endpoint: s3.endpoint,
                folder: s3.folder,
                endpointCaFile: s3.endpointCaFile,
                ...keys,
              },
            }),
        },
        ...(restore && { restore }),
      },
      secrets: keys ? [keys.accessKey, keys.secretKey] : [],
    };
  },
});

// Section "etcdSnapshots": RKE2's scheduled etcd snapshots, kept on the servers and optionally copied to S3. The S3
// credentials live in secret config keys and reach the node through a 0600 drop-in, never config.yaml.
import { z } from "zod";
import { secretKeyName } from "./fields";
import { isHostPort } from "./net";
import { bad } from "./problems";
import { readOperatorFile, section, type SecretRef } from "./section";

const CRON = /^(\S+\s+){4}\S+$/;

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
};

function ref(key: string, purpose: string): SecretRef {
  return { key, purpose, required: true };
}

export const etcdSnapshots = section({
  shape: etcdSnapshotsShape,
  build({ etcdSnapshots: raw }, { problems, load }) {
    const { schedule, retention, s3 } = raw;
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
      },
      secrets: keys ? [keys.accessKey, keys.secretKey] : [],
    };
  },
});

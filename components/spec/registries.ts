// Section "registries": containerd's registries.yaml (mirrors, auth from secret keys, TLS files) and RKE2's
// system-default-registry. TLS verification is never turned off; passwords never sit in the stack file.
import { z } from "zod";
import { secretKeyName } from "./fields";
import { isHostPort } from "./net";
import { bad, type Path } from "./problems";
import { readOperatorFile, section, type BuildContext, type SecretRef } from "./section";
import { supportsDisableDefaultRegistryEndpoint } from "./version";

const mirror = z.strictObject({
  endpoints: z
    .array(
      z.string().regex(/^https?:\/\/[^\s]+$/, {
        error: bad(
          "is not an endpoint URL; allowed: https://host[:port][/path] (http:// only with the mirror's allowHttp: true)",
        ),
      }),
    )
    .optional(),
  rewrites: z.record(z.string(), z.string()).default({}),
  /** Accept plain-HTTP endpoints for this mirror (images, and any credentials, cross the network unencrypted). */
  allowHttp: z.boolean().default(false),
});

const registryConfig = z.strictObject({
  auth: z
    .strictObject({
      username: z.string().min(1),
      passwordSecret: secretKeyName.optional(),
      // Present only so that a plain-text password gets its own error (without echoing the value).
      password: z.unknown().optional(),
    })
    .optional(),
  tls: z
    .strictObject({
      caFile: z.string().min(1).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
    })
    .optional(),
});

export const registriesShape = {
  registries: z
    .strictObject({
      /** `host[:port]` RKE2 pulls its system images from. */
      systemDefaultRegistry: z
        .string()
        .refine(isHostPort, { error: bad("is not a registry host; allowed: host[:port], no scheme or path") })
        .optional(),
      /** Stop containerd from falling back to the upstream registry after the mirrors (air-gap). */
      disableDefaultEndpoint: z.boolean().optional(),
      mirrors: z.record(z.string(), mirror).default({}),
      configs: z.record(z.string(), registryConfig).default({}),
    })
    .prefault({}),
};

type RawConfig = z.output<typeof registryConfig>;

function buildAuth(host: string, auth: NonNullable<RawConfig["auth"]>, { problems }: BuildContext) {
  const path: Path = ["registries", "configs", host, "auth"];
  if (auth.password !== undefined) {
    // The value is never echoed: it is the secret the operator just exposed.
    problems.add(
      [...path, "password"],
      "a plain-text password is not accepted (it would sit unencrypted in the " +
        "stack file and state); allowed: passwordSecret: <key>, with the value set by `pulumi config set --secret <key>`",
    );
    return undefined;
  }
  if (auth.passwordSecret === undefined) {
    problems.add(
      [...path, "passwordSecret"],
      "missing; allowed: the name of a secret config key holding the password",
    );
    return undefined;
  }
  const password: SecretRef = {
    key: auth.passwordSecret,
    purpose: `the password of registry ${host}`,
    required: true,
  };
  return { username: auth.username, password };
}

/** Operator TLS files exist; the private key is only looked for when it will be read (pulumi up). */
function checkTlsFiles(host: string, tls: RawConfig["tls"], { problems, load }: BuildContext) {
  const where: Path = ["registries", "configs", host, "tls"];
  if (tls?.caFile !== undefined) readOperatorFile(problems, [...where, "caFile"], load, tls.caFile);
  if (tls?.certFile !== undefined) readOperatorFile(problems, [...where, "certFile"], load, tls.certFile);
  if (tls?.keyFile !== undefined && load.requireSecrets) {
    readOperatorFile(problems, [...where, "keyFile"], load, tls.keyFile);
  }
  if ((tls?.certFile === undefined) !== (tls?.keyFile === undefined)) {
    problems.add(
      where,
      "names only one of certFile and keyFile; allowed: both (client certificate auth) or neither",
    );
  }
}

export const registries = section({
  shape: registriesShape,
  build({ registries: raw }, ctx) {
    const { problems, earlier } = ctx;
    const before = problems.list.length;
    const version = earlier.version;
    const canDisable = version === undefined || supportsDisableDefaultRegistryEndpoint(version);
    if (raw.disableDefaultEndpoint === true && !canDisable) {
      problems.add(
        ["registries", "disableDefaultEndpoint"],
        `true is not supported by RKE2 ${version?.raw ?? ""}; ` +
          "allowed: false, or a release from v1.26.13, v1.27.10, v1.28.6, v1.29.1 or v1.30 on",
      );
    }
    const mirrors: Record<string, { endpoints: string[]; rewrites: Record<string, string> }> = {};
    for (const [name, m] of Object.entries(raw.mirrors)) {
      if (!m.endpoints || m.endpoints.length === 0) {
        problems.add(
          ["registries", "mirrors", name, "endpoints"],
          `${m.endpoints === undefined ? "missing" : "[] is empty"}: the mirror has no endpoint; ` +
            "allowed: at least one URL such as https://registry.example.com:5000",
        );
        continue;
      }
      m.endpoints.forEach((e, i) => {
        if (e.startsWith("http://") && !m.allowHttp) {
          problems.add(
            ["registries", "mirrors", name, "endpoints", i],
            `${JSON.stringify(e)} is plain HTTP: images and registry credentials would cross the network unencrypted; ` +
              `allowed: an https:// URL, or set registries.mirrors[${JSON.stringify(name)}].allowHttp: true to accept it explicitly`,
          );
        }
      });
      mirrors[name] = { endpoints: m.endpoints, rewrites: m.rewrites };
    }
    const secrets: SecretRef[] = [];
    const configs: Record<string, { auth?: ReturnType<typeof buildAuth>; tls?: RawConfig["tls"] }> = {};
    for (const [host, c] of Object.entries(raw.configs)) {
      const auth = c.auth && buildAuth(host, c.auth, ctx);
      if (auth) secrets.push(auth.password);
      checkTlsFiles(host, c.tls, ctx);
      configs[host] = { auth, tls: c.tls };
    }
    if (problems.list.length > before) return undefined;
    return {
      value: {
        registries: {
          systemDefaultRegistry: raw.systemDefaultRegistry,
          // With a system default registry the cluster is meant to pull only from it: no silent fallback upstream.
          disableDefaultEndpoint:
            raw.disableDefaultEndpoint ?? (raw.systemDefaultRegistry !== undefined && canDisable),
          mirrors,
          configs,
        },
      },
      secrets,
    };
  },
});

export type RegistriesSpec = NonNullable<ReturnType<typeof registries.build>>["value"]["registries"];

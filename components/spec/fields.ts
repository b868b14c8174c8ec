// Field schemas more than one section uses: names, networks, labels, taints, ports, secret key names.
import { z } from "zod";
import { isIpv6Cidr, parseIpv4Cidr } from "./net";
import { bad } from "./problems";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsLabel = (max: number) =>
  z
    .string({ error: bad("is not a name; allowed: lower-case letters, digits and '-'") })
    .max(max, { error: bad(`is too long; allowed: at most ${max} characters`) })
    .regex(DNS_LABEL, { error: bad("is not a DNS label; allowed: lower-case letters, digits and '-'") });

export const ipv4Cidr = z.string().refine((s) => parseIpv4Cidr(s) !== undefined, {
  error: bad(
    "is not an IPv4 network; allowed: a CIDR whose address is the network address, such as 10.42.0.0/16",
  ),
});
export const anyCidr = z.string().refine((s) => parseIpv4Cidr(s) !== undefined || isIpv6Cidr(s), {
  error: bad("is not a network; allowed: an IPv4 or IPv6 CIDR such as 203.0.113.0/24"),
});

// Kubernetes label keys/values and taints as the API server accepts them.
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
export const labels = z
  .record(
    z.string().regex(LABEL_KEY, { error: bad("is not a label key; allowed: [prefix/]name") }),
    z
      .string()
      .regex(LABEL_VALUE, { error: bad("is not a label value; allowed: up to 63 letters, digits, '-_.'") }),
  )
  .default({});
export const taints = z
  .array(
    z.string().regex(/^[^=:\s]+(=[^=:\s]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, {
      error: bad("is not a taint; allowed: key[=value]:NoSchedule|PreferNoSchedule|NoExecute"),
    }),
  )
  .default([]);

const SECRET_KEY_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** A reference to a secret stack config key (set with `pulumi config set --secret <key>`). */
export const secretKeyName = z.string().regex(SECRET_KEY_RE, {
  error: bad("is not a config key name; allowed: the name of a secret config key such as registryPassword"),
});

export const port = z.number().int().min(1).max(65535);

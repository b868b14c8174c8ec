// Section "network": the CNI and the pod and service ranges, and the extra names the API certificate carries.
import { z } from "zod";
import { ipv4Cidr } from "./fields";
import { isAddress } from "./net";
import { bad } from "./problems";
import { section } from "./section";

export const networkShape = {
  cni: z
    .enum(["canal", "calico", "cilium"], {
      error: bad(
        "is not a supported CNI; allowed: canal, calico, cilium (each enforces NetworkPolicy, CIS 5.3.1)",
      ),
    })
    .default("canal"),
  clusterCidr: ipv4Cidr.default("10.42.0.0/16"),
  serviceCidr: ipv4Cidr.default("10.43.0.0/16"),
  /** Extra names the API server certificate carries; the registration address is always added. */
  tlsSan: z
    .array(
      z.string().refine((s) => isAddress(s.replace(/^\*\./, "")), {
        error: bad(
          "is not an IP address or a DNS name; allowed: a name or address clients use for the API, e.g. api.example.com or 192.0.2.10",
        ),
      }),
    )
    .default([]),
};

export type Cni = z.output<typeof networkShape.cni>;

export const network = section({
  shape: networkShape,
  build: (raw) => ({ value: raw, secrets: [] }),
});

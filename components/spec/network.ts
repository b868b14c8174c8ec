// Section "network": the CNI and the pod and service ranges, and the extra names the API certificate carries.
import { z } from "zod";
import { ipv4Cidr } from "./fields";
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
  tlsSan: z.array(z.string().min(1)).default([]),
};

export type Cni = z.output<typeof networkShape.cni>;

export const network = section({
  shape: networkShape,
  build: (raw) => ({ value: raw, secrets: [] }),
});

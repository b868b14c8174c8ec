// Section "network": the CNI and the pod and service ranges, and the extra names the API certificate carries.
import { z } from "zod";
import { ipv4Cidr } from "./fields";
import { isAddress } from "./net";
import { DISTRIBUTION } from "./distribution";
import { bad, fmt } from "./problems";
import { section } from "./section";

export const networkShape = {
  /** Unset: the distribution's default (RKE2 canal, K3s flannel). */
  cni: z
    .enum(["canal", "calico", "cilium", "flannel"], {
      error: bad(
        "is not a supported CNI; allowed: canal, calico, cilium (RKE2) or flannel (K3s) (each enforces NetworkPolicy, CIS 5.3.1)",
      ),
    })
    .optional(),
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

export type Cni = NonNullable<z.output<typeof networkShape.cni>>;

export const network = section({
  shape: networkShape,
  build(raw, { problems, earlier }) {
    if (earlier.distribution === undefined) return undefined;
    const d = DISTRIBUTION[earlier.distribution];
    const cni = (raw.cni ?? d.cnis[0]) as Cni;
    // A CNI the distribution does not deploy would leave the cluster with no NetworkPolicy enforcement (CIS 5.3.1).
    // K3s: flannel with its embedded network policy controller; the product never sets `disable-network-policy` or
    // `flannel-backend: none`, so a K3s cluster without an enforcing CNI cannot be rendered.
    if (!d.cnis.includes(cni)) {
      problems.add(
        ["cni"],
        `${fmt(cni)} is not a CNI ${d.title} deploys with NetworkPolicy enforcement; allowed: ${d.cnis.join(", ")}` +
          (earlier.distribution === "k3s"
            ? " (flannel with K3s's embedded network policy controller; Calico or Cilium on K3s are not supported yet)"
            : ""),
      );
      return undefined;
    }
    return { value: { ...raw, cni }, secrets: [] };
  },
});

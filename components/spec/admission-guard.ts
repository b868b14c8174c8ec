// Section "admissionGuard": the ValidatingAdmissionPolicy that refuses pods mounting a default ServiceAccount's token
// (CIS 5.1.5) in namespaces the stack does not manage.
import { z } from "zod";
import { section } from "./section";
import { supportsValidatingAdmissionPolicy } from "./version";

export const admissionGuardShape = {
  admissionGuard: z
    .strictObject({
      /** Unset: on wherever the release has ValidatingAdmissionPolicy (Kubernetes 1.30+). */
      enabled: z.boolean().optional(),
      /** `deny` refuses, `warn` only warns. */
      mode: z.enum(["deny", "warn"]).default("deny"),
    })
    .prefault({}),
};

export const admissionGuard = section({
  shape: admissionGuardShape,
  build({ admissionGuard: raw }, { problems, earlier }) {
    const v = earlier.version;
    if (v === undefined) return undefined;
    const supported = supportsValidatingAdmissionPolicy(v);
    if (raw.enabled === true && !supported) {
      problems.add(
        ["admissionGuard", "enabled"],
        `true needs ValidatingAdmissionPolicy, GA from Kubernetes 1.30, but ` +
          `RKE2 ${v.raw} is older; allowed: false, or a v1.30+ release`,
      );
      return undefined;
    }
    return { value: { admissionGuard: { enabled: raw.enabled ?? supported, mode: raw.mode } }, secrets: [] };
  },
});

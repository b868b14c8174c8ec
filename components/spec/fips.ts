// Section "fips": FIPS 140-2 mode. RKE2's own binaries are built with Go's BoringCrypto module (RKE2 docs:
// security/fips_support), but the module runs in FIPS mode only on a kernel that is in FIPS mode, so the stack checks
// both on every node: the kernel before RKE2 is installed, the installed binary for the module after.
import { z } from "zod";
import { section } from "./section";

export const fipsShape = {
  /** Off by default: FIPS mode is a property of the hosts, which the operator turns on (it needs a reboot). */
  fips: z.boolean().default(false),
};

export const fips = section({
  shape: fipsShape,
  build: (raw) => ({ value: raw, secrets: [] }),
});

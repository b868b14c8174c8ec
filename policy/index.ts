// The CrossGuard pack: `pulumi preview --policy-pack policy` runs it against a stack. Each policy is mandatory by
// default; the pack's config (`--policy-pack-config`) can change a policy's enforcement level or settings.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("hardened-rke2", { policies, enforcementLevel: "mandatory" });

// The floor: a minimal program that registers `count` command resources with one `apply` each and does nothing
// else. What the Pulumi SDK itself costs for as many resources as the product registers, so the product's figures
// can be read as a ratio to it. Like any Pulumi program (and like index.ts), it registers them at the top level of
// the module the loader requires: the SDK captures each registration's call stack, so where the registrations run
// from is part of what they cost. bench/run-once.ts sets BENCH_FLOOR_COUNT before requiring it.
import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";

export function floorProgram(count: number): pulumi.Output<number>[] {
  const outputs: pulumi.Output<number>[] = [];
  for (let i = 0; i < count; i++) {
    const c = new command.remote.Command(`floor-${i}`, {
      connection: { host: "192.0.2.1", user: "root" },
      create: "true",
    });
    outputs.push(c.stdout.apply((s) => s.length));
  }
  return outputs;
}

export const lengths = floorProgram(Number(process.env.BENCH_FLOOR_COUNT ?? 0));

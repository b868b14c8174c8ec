// Values that may or may not be Outputs, combined with as few Output operations as they allow. An existing-hosts stack
// knows its addresses and host keys when the program starts; a stack that makes machines learns them from the cloud.
// The SDK's `all` costs a new Output and an `apply` for every Output it is given and one more for the result, each
// several tracked promises with a captured stack (output.ts, outputRec), and `output(plain)` builds an Output where
// none is needed: at hundreds of nodes that bookkeeping is most of the program's cost (README, "Benchmark").
import * as pulumi from "@pulumi/pulumi";

type Plain<T extends readonly unknown[]> = { -readonly [K in keyof T]: pulumi.Unwrap<T[K]> };

/**
 * `fn` of the values: called now when none is an Output (the result is then a plain value), else in one `apply` over
 * the distinct Outputs among them, which carries their secrecy, known-ness and resources as `all` would.
 */
export function lift<const T extends readonly unknown[], R>(
  values: T,
  fn: (values: Plain<T>) => R,
): pulumi.Input<R> {
  const outputs = [...new Set(values.filter((v) => pulumi.Output.isInstance(v)))] as pulumi.Output<unknown>[];
  const fill = (resolved: unknown[]) =>
    fn(values.map((v) => (pulumi.Output.isInstance(v) ? resolved[outputs.indexOf(v)] : v)) as Plain<T>);
  if (outputs.length === 0) return fill([]);
  if (outputs.length === 1) return outputs[0].apply<R>((v) => fill([v]));
  return pulumi.all(outputs).apply<R>((resolved) => fill(resolved));
}

/** The same, always as an Output: where a resource input or a caller needs one (`output` of a plain value is cheap). */
export function liftOutput<const T extends readonly unknown[], R>(
  values: T,
  fn: (values: Plain<T>) => R,
): pulumi.Output<pulumi.Unwrap<R>> {
  const r = lift(values, fn);
  return (pulumi.Output.isInstance(r) ? r : pulumi.output(r)) as pulumi.Output<pulumi.Unwrap<R>>;
}

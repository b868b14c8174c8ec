// What a config section is: the top-level keys of `hardened-rke2:cluster` it owns with their zod schemas (defaults
// written there, once), and a `build` that turns the parsed value into its part of the ClusterSpec plus the secret
// config keys it references. validate.ts runs every section in order and then the few rules that span sections.
import * as fs from "node:fs";
import * as path from "node:path";
import type { z } from "zod";
import type { Cni } from "./network";
import type { Distribution } from "./distribution";
import { fmt, type Path, type Problems } from "./problems";
import type { Rke2Version } from "./version";

export interface LoadContext {
  /** Every config key set on the stack (without the project prefix) and whether it is stored as a secret. */
  configKeys: ReadonlyMap<string, { secret: boolean }>;
  /** What relative paths in the config (artifacts folder, policy and TLS files) are resolved against. */
  baseDir: string;
  /** `pulumi up` needs every required secret; the offline render does not (it writes placeholders). */
  requireSecrets: boolean;
}

/** A secret that lives in its own secret stack config key (`pulumi config set --secret <key>`), never inline. */
export interface SecretRef {
  /** The config key without the project prefix, e.g. `registryPassword`. */
  key: string;
  /** What the secret is for, shown in errors and in the render's placeholders. */
  purpose: string;
  /** False when the stack works without it (the cluster token is generated when unset). */
  required: boolean;
}

/** What sections built before this one decided, for the rules that read another section (undefined: it failed). */
export interface Earlier {
  distribution?: Distribution;
  version?: Rke2Version;
  cni?: Cni;
  /** The registry system images come from, when the registries section names one. */
  systemDefaultRegistry?: string;
}

export interface BuildContext {
  problems: Problems;
  load: LoadContext;
  earlier: Earlier;
}

/** A section's part of the spec, and the secret config keys that part references. */
export interface Built<T> {
  value: T;
  secrets: SecretRef[];
}

export interface Section<S extends z.core.$ZodLooseShape, T> {
  /** The top-level keys this section owns, each with its schema. */
  shape: S;
  /** The section's spec, or undefined after recording why not. Runs only when every key parsed. */
  build(parsed: z.output<z.ZodObject<S>>, ctx: BuildContext): Built<T> | undefined;
}

/** Declares a section (a function only so that TypeScript infers the shape and the value type). */
export function section<S extends z.core.$ZodLooseShape, T>(s: Section<S, T>): Section<S, T> {
  return s;
}

/** Reads an operator file the config names, or records that it is not there. */
export function readOperatorFile(
  problems: Problems,
  where: Path,
  ctx: LoadContext,
  file: string,
): string | undefined {
  const abs = path.resolve(ctx.baseDir, file);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) {
    problems.add(
      where,
      `${fmt(file)} is not a readable file (resolved to ${abs}); allowed: a path relative to ${ctx.baseDir} or absolute`,
    );
    return undefined;
  }
  return fs.readFileSync(abs, "utf8");
}

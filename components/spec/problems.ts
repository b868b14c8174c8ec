// The error engine: every config problem is collected with its key path, the bad value and what is allowed, and all
// of them are thrown together (MISSION "Bad input": all errors at once, before any resource).
import type { z } from "zod";

/** Renders a config value for an error message (values here are never secrets: secrets live in their own keys). */
export function fmt(value: unknown): string {
  if (value === undefined) return "nothing";
  // YAML reads 1e400 as infinity, which JSON would print as null.
  if (typeof value === "number" && !Number.isFinite(value)) return "infinity";
  // JSON.stringify gives undefined only for functions and symbols, which YAML config never holds.
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A custom zod error: "<value> <what>", so every message names the bad value and what is allowed. */
export const bad =
  (what: string) =>
  (iss: { input?: unknown }): string =>
    iss.input === undefined ? `missing; ${what.replace(/^is [^;]*; /, "")}` : `${fmt(iss.input)} ${what}`;

export interface ConfigProblem {
  /** Where, as a config path: `cluster.nodes.hosts[1].hostKey`. */
  path: string;
  /** What is wrong and what is allowed. */
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export type Path = (string | number)[];

/** `cluster.nodes.hosts[1].hostKey`: the path as the operator finds it in the stack file. */
export function pathText(path: Path): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(part) ? `${acc}.${part}` : `${acc}[${JSON.stringify(part)}]`;
  }, "cluster");
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(
        row[j] + 1,
        row[j - 1] + 1,
        prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
      );
      prev = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

/** "unknown key; did you mean …?" with the closest allowed key when one is close enough to be a typo. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const best = [...allowed].sort((x, y) => editDistance(key, x) - editDistance(key, y))[0];
  const hint =
    best !== undefined && editDistance(key, best) <= Math.max(2, Math.floor(key.length / 3))
      ? ` did you mean ${JSON.stringify(best)}?`
      : "";
  return `unknown key ${JSON.stringify(key)};${hint} allowed: ${allowed.join(", ")}`;
}

const KEY_SEPARATOR = "\u0000";

interface MapIssue {
  code?: string | undefined;
  input?: unknown;
  expected?: string;
  values?: unknown[];
  keys?: string[];
  minimum?: unknown;
  maximum?: unknown;
  origin?: string;
  inst?: unknown;
}

/** What a value of each type is, in the operator's words; an object lists the keys it takes. */
function expectedText(iss: MapIssue): string {
  const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def
    ?.shape;
  switch (iss.expected) {
    case "object":
      return `a mapping with the keys ${Object.keys(shape ?? {}).join(", ")}`;
    case "record":
      return "a mapping of names to values";
    case "array":
      return "a list";
    case "boolean":
      return "true or false";
    case "number":
    case "int":
      return "a whole number";
    default:
      return `a ${iss.expected ?? "value"}`;
  }
}

/** YAML turns some unquoted text into numbers (`1.30` → 1.3, `1e400` → infinity): say so, and how to quote it. */
export function yamlNumberNote(input: unknown): string | undefined {
  if (typeof input !== "number") return undefined;
  return Number.isFinite(input)
    ? `${input} was read as a number, not text (YAML reads an unquoted 1.30 as 1.3); write the value in quotes exactly as meant, e.g. "${input}"`
    : "infinity is what YAML makes of an unquoted number too large for it (such as 1e400); write a smaller number, or the value in quotes if it is text";
}

/** Messages for the issues a schema does not word itself: always the value and what is allowed. */
function defaultMessage(iss: MapIssue): string | undefined {
  const got = fmt(iss.input);
  switch (iss.code) {
    case "invalid_type":
      return iss.input === undefined
        ? `missing; allowed: ${expectedText(iss)}`
        : `${got} is not ${expectedText(iss)}; allowed: ${expectedText(iss)}`;
    case "invalid_value":
      return `${got} is not allowed; allowed: ${(iss.values ?? []).map((v) => String(v)).join(", ")}`;
    case "too_small":
      return iss.origin === "array"
        ? `${got} has too few entries; allowed: at least ${String(iss.minimum)}`
        : `${got} is too small; allowed: at least ${String(iss.minimum)}`;
    case "too_big":
      return iss.origin === "array"
        ? `${got} has too many entries; allowed: at most ${String(iss.maximum)}`
        : `${got} is too large; allowed: at most ${String(iss.maximum)}`;
    case "unrecognized_keys": {
      const def = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod
        ?.def;
      const allowed = Object.keys(def?.shape ?? {});
      return (iss.keys ?? []).map((k) => unknownKeyMessage(k, allowed)).join(KEY_SEPARATOR);
    }
    default:
      return undefined;
  }
}

/** Every problem found so far; sections add to it and parse through it. */
export class Problems {
  readonly list: ConfigProblem[] = [];
  add(path: Path, message: string): void {
    this.list.push({ path: pathText(path), message });
  }
  /** Parses `value` with `schema`; records every issue under `base` and returns the value when it parsed. */
  parse<T>(schema: z.ZodType<T>, value: unknown, base: Path): T | undefined {
    const result = schema.safeParse(value, {
      reportInput: true,
      error: (iss) => defaultMessage(iss),
    });
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const path = [...base, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
      if (issue.code === "unrecognized_keys") {
        issue.message
          .split(KEY_SEPARATOR)
          .forEach((message, i) => this.add([...path, issue.keys[i]], message));
      } else {
        this.add(path, withYamlNote(issue));
      }
    }
    return undefined;
  }
}

/** A number where text was expected, or an infinity anywhere, gets the YAML explanation before what is allowed. */
function withYamlNote(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const infinite = issue.code === "invalid_type" && (issue as { received?: unknown }).received === "Infinity";
  const note = infinite
    ? yamlNumberNote(Infinity)
    : issue.code === "invalid_type" && issue.expected === "string"
      ? yamlNumberNote(input)
      : undefined;
  if (note === undefined) return issue.message;
  const allowed = issue.message.indexOf("allowed:");
  return `${note}; ${allowed >= 0 ? issue.message.slice(allowed) : issue.message}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

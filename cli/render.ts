// `npm run render -- --stack <env> --out <dir>` or `--config <file>`: the offline main job. It runs the same loader and
// renderers as `pulumi up`, with no cloud, no Pulumi engine and no secrets, and writes the whole bundle an auditor
// reviews. An invalid config lists every problem, exits non-zero and writes nothing.
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { renderBundle, type Bundle } from "../components/render/bundle";
import type { NodeFile } from "../components/render/files";
import { placeholderInputs } from "../components/render/inputs";
import { podSecurityExemptions } from "../components/render/policy";
import type { ClusterSpec } from "../components/spec/types";
import { CATALOGUE } from "../components/spec/cis-catalogue";
import { DISTRIBUTION } from "../components/spec/distribution";
import { kubeBenchFor } from "../components/spec/version";
import { ConfigError, loadStackFileSpec, PROJECT_DIR, stackFilePath } from "../stacks/config";

/** Marks a folder as a render output, so a re-render may replace it and nothing else is ever overwritten. */
const MARKER = ".hardened-rke2-render";

export interface RenderArgs {
  stack?: string;
  config?: string;
  out: string;
  artifactsDir?: string;
}

export interface RenderSummary {
  nodes: number;
  files: number;
  objects: number;
  controls: number;
  out: string;
}

const USAGE =
  "usage: npm run render -- (--stack <env> | --config <stack file>) --out <dir> [--artifacts-dir <dir>]";

export function parseArgs(argv: string[]): RenderArgs {
  const args: Partial<RenderArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
    switch (flag) {
      case "--stack":
        args.stack = value;
        break;
      case "--config":
        args.config = value;
        break;
      case "--out":
        args.out = value;
        break;
      case "--artifacts-dir":
        args.artifactsDir = value;
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
    i++;
  }
  if ((args.stack === undefined) === (args.config === undefined))
    throw new Error(`name one of --stack or --config\n${USAGE}`);
  if (args.out === undefined) throw new Error(`--out is required\n${USAGE}`);
  return args as RenderArgs;
}

function writeFile(root: string, file: NodeFile): void {
  const target = path.join(root, file.path);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, file.content, { mode: parseInt(file.mode, 8) });
  fs.chmodSync(target, parseInt(file.mode, 8));
}

/** Writes a report file (not a node file) with an explicit mode, so the output does not depend on the umask. */
function writeDoc(target: string, content: string): void {
  fs.writeFileSync(target, content, { mode: 0o644 });
  fs.chmodSync(target, 0o644);
}

function fileTable(files: NodeFile[]): string {
  const rows = files.map(
    (f) =>
      `| \`${f.path}\` | ${f.mode} | ${f.owner}:${f.group} | ${f.secret ? "yes" : "no"} | ${f.purpose} |`,
  );
  return ["| path | mode | owner | secret | purpose |", "|---|---|---|---|---|", ...rows].join("\n");
}

function cisMarkdown(spec: ClusterSpec, bundle: Bundle): string {
  const cell = (t: string) => t.replace(/\|/g, "\\|");
  const row = (c: Bundle["controls"][number]) =>
    `| ${c.id} | ${c.kubeBenchId} | ${cell(c.title)}${c.automated ? "" : " (Manual)"} | ${c.means}: ${cell(c.where)} | ${cell(c.verifiedBy)} |`;
  const inBenchmark = bundle.controls.filter((c) => c.key === undefined || CATALOGUE[c.key].refs.length > 0);
  const own = bundle.controls.filter((c) => c.key !== undefined && CATALOGUE[c.key].refs.length === 0);
  const kb = kubeBenchFor(spec.version);
  const header = [
    `| ${spec.benchmark} | kube-bench ${kb} | control | satisfied by | verified by |`,
    "|---|---|---|---|---|",
  ];
  const exemptions = podSecurityExemptions(spec).map((e) => `- \`${e.namespace}\`: ${e.reason}`);
  return [
    `# CIS control map: ${spec.name}`,
    "",
    (spec.distribution === "k3s"
      ? `K3s ${spec.version.raw} (no CIS profile flag: every item of the K3s hardening guide is rendered); control IDs ` +
        `from the ${spec.benchmark} benchmark, the one K3s's CIS self-assessment guide covers this release with`
      : `RKE2 ${spec.version.raw}, profile \`${spec.profile}\`; control IDs from the ${spec.benchmark} benchmark, the ` +
        `one Rancher's compliance operator runs for this release`) +
      `; the second column is the ID plain kube-bench's ` +
      `auto-detected ${kb} gives the same control ("-": not in it). One row per control of ${spec.benchmark} ` +
      `(${inBenchmark.filter((c) => c.automated).length} Automated, ${inBenchmark.filter((c) => !c.automated).length} Manual).`,
    "",
    ...header,
    ...inBenchmark.map(row),
    "",
    "## The product's own checks (not benchmark controls)",
    "",
    "| check | what | satisfied by | verified by |",
    "|---|---|---|---|",
    ...own.map(
      (c) => `| ${c.id} | ${cell(c.title)} | ${c.means}: ${cell(c.where)} | ${cell(c.verifiedBy)} |`,
    ),
    "",
    "## Pod Security exemptions (reviewed)",
    "",
    ...exemptions,
    "",
  ].join("\n");
}

/** Writes the bundle into `out` (through a temporary folder, so a failure leaves nothing half-written). */
export function writeBundle(spec: ClusterSpec, bundle: Bundle, out: string): RenderSummary {
  const abs = path.resolve(out);
  if (fs.existsSync(abs) && !fs.existsSync(path.join(abs, MARKER))) {
    throw new Error(`${abs} exists and is not a previous render output; choose an empty or new --out folder`);
  }
  // The README's first command writes out/dev in a fresh clone, where out/ does not exist yet.
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(abs), `.${path.basename(abs)}.tmp-`));
  try {
    let files = 0;
    for (const nb of bundle.nodes) {
      const root = path.join(tmp, "nodes", nb.node.name);
      for (const f of [...nb.files, ...nb.scripts]) {
        writeFile(root, f);
        files++;
      }
      const steps = nb.scripts.map((s, i) => `${i + 1}. \`${s.path}\` (${s.step})`).join("\n");
      writeDoc(
        path.join(root, "NODE.md"),
        `# ${nb.node.name} (${nb.node.role})\n\nRegistration address: ${bundle.registration}\n\n` +
          `## Files, written before ${DISTRIBUTION[spec.distribution].title} first starts\n\n${fileTable([...nb.files, ...nb.scripts])}\n\n` +
          `## Bootstrap steps, in order\n\n${steps}\n`,
      );
    }
    const manifests = path.join(tmp, "manifests");
    fs.mkdirSync(manifests, { recursive: true });
    // One file per kind family; the manifest notes how each object is applied and which control it serves.
    const fileOf: Record<string, string> = {
      Namespace: "namespaces",
      ServiceAccount: "serviceaccounts",
      NetworkPolicy: "networkpolicies",
      ValidatingAdmissionPolicy: "admission",
      ValidatingAdmissionPolicyBinding: "admission",
    };
    for (const name of [...new Set(Object.values(fileOf))]) {
      const text = bundle.objects
        .filter((o) => fileOf[o.object.kind] === name)
        .map((o) => {
          const how = o.mode === "patch" ? "a patch of the cluster's own object" : "an object the stack owns";
          return `# CIS ${o.control}; applied as ${how}\n${stringify(o.object)}`;
        })
        .join("---\n");
      if (text !== "") writeDoc(path.join(manifests, `${name}.yaml`), text);
    }
    writeDoc(path.join(tmp, "CIS.md"), cisMarkdown(spec, bundle));
    writeDoc(path.join(tmp, MARKER), "");
    fs.rmSync(abs, { recursive: true, force: true });
    fs.renameSync(tmp, abs);
    return {
      nodes: bundle.nodes.length,
      files,
      objects: bundle.objects.length,
      controls: bundle.controls.length,
      out: abs,
    };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

export function render(args: RenderArgs): RenderSummary {
  const file = args.config !== undefined ? path.resolve(args.config) : stackFilePath(args.stack ?? "");
  if (!fs.existsSync(file)) throw new Error(`no stack config at ${file}`);
  const baseDir = args.config !== undefined ? process.cwd() : PROJECT_DIR;
  const spec = loadStackFileSpec(file, { artifactsDir: args.artifactsDir, baseDir });
  const bundle = renderBundle(spec, placeholderInputs(baseDir));
  return writeBundle(spec, bundle, args.out);
}

export function main(argv: string[]): number {
  try {
    const summary = render(parseArgs(argv));
    process.stdout.write(
      `rendered ${summary.nodes} nodes, ${summary.files} node files, ${summary.objects} Kubernetes objects, ` +
        `${summary.controls} CIS controls mapped -> ${summary.out}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(
      `${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

// Run by the stack after the in-cluster hardening (a local command): reads the kubeconfig from standard input, the
// expectations and the audit log sample from the environment, checks every control against the API server and
// prints one PASS/FAIL line per control. In `enforce` mode a failed control exits 1, which fails the `pulumi up`.
import { clientFor, fetchAnswers } from "../components/hardening/api";
import { formatResults, summarize, verifyControls, type Expectations } from "../components/hardening/verify";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<number> {
  const expect = JSON.parse(process.env.HARDENED_RKE2_EXPECT ?? "{}") as Expectations;
  const mode = process.env.HARDENED_RKE2_VERIFY_MODE ?? "enforce";
  const answers = await fetchAnswers(
    clientFor(await readStdin()),
    process.env.HARDENED_RKE2_AUDIT_LINE ?? "",
  );
  // Each FIPS node's module-check output, from the stack (plain: the step prints no secret).
  answers.fipsEvidence = JSON.parse(process.env.HARDENED_RKE2_FIPS_EVIDENCE ?? "{}") as Record<
    string,
    string
  >;
  // Each node's cis step output (plain: the step prints modes, owners and the checked flags, no secret).
  answers.hostChecks = JSON.parse(process.env.HARDENED_RKE2_HOST_CHECKS ?? "{}") as Record<string, string>;
  const results = verifyControls(expect, answers);
  process.stdout.write(`${formatResults(results)}\n${summarize(expect.benchmark, results)}\n`);
  const failed = results.filter((r) => !r.pass);
  if (failed.length > 0 && mode === "enforce") {
    process.stderr.write(
      `hardened-rke2: CIS controls failing: ${[...new Set(failed.map((r) => (r.node ? `${r.id} [${r.node}]` : r.id)))].join(", ")} (verification: enforce)\n`,
    );
    return 1;
  }
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(
      `hardened-rke2: verification could not run: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);

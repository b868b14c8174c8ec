// Throw-away test certificates made with openssl: a CA, and certificates it signs. Shared by the suites that start
// TLS servers on loopback.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export function openssl(...args: string[]): void {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** `<dir>/<name>.crt` and `.key`: a self-signed CA valid for a day. */
export function makeCa(dir: string, name: string): void {
  openssl(
    "req",
    "-x509",
    ...EC,
    "-keyout",
    path.join(dir, `${name}.key`),
    "-out",
    path.join(dir, `${name}.crt`),
    "-days",
    "1",
    "-subj",
    `/CN=${name}`,
  );
}

/** `<dir>/<name>.crt` and `.key` signed by the CA `<dir>/<ca>.crt`, with the given subject and extensions. */
export function issue(dir: string, name: string, ca: string, subject: string, extensions: string): void {
  const f = (n: string) => path.join(dir, n);
  openssl("req", ...EC, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", subject);
  fs.writeFileSync(f(`${name}.ext`), extensions);
  openssl(
    "x509",
    "-req",
    "-in",
    f(`${name}.csr`),
    "-CA",
    f(`${ca}.crt`),
    "-CAkey",
    f(`${ca}.key`),
    "-CAcreateserial",
    "-out",
    f(`${name}.crt`),
    "-days",
    "1",
    "-extfile",
    f(`${name}.ext`),
  );
}

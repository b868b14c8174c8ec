// Shared test fixtures: a small valid raw config per node source, and the load context around it.
import * as path from "node:path";
import type { ClusterSpec } from "../../components/spec/types";
import { buildClusterSpec, type LoadContext } from "../../components/spec/validate";

export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAW1dhevxjWB8K/ttpJP6AxPF+eUXm+JPlL9gxUfC+Gw";
export const PUBLIC_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICLVZZ5G89TJvymYcF5wQyrxmQfixHgYVb0vZD0lj1is op@example";
export const REPO = path.resolve(__dirname, "../..");

/** Three existing servers and one agent, online install. */
export function existingConfig(): Record<string, unknown> {
  return {
    name: "test",
    version: "v1.33.5+rke2r1",
    nodes: {
      source: "existing",
      hosts: [
        { name: "s1", address: "192.0.2.11", role: "server", hostKey: HOST_KEY },
        { name: "s2", address: "192.0.2.12", role: "server", hostKey: HOST_KEY },
        { name: "s3", address: "192.0.2.13", role: "server", hostKey: HOST_KEY },
        { name: "a1", address: "192.0.2.21", role: "agent", hostKey: HOST_KEY, labels: { pool: "a" } },
      ],
    },
  };
}

/** One server and one agent pool on AWS. */
export function awsConfig(): Record<string, unknown> {
  return {
    name: "test",
    version: "v1.33.5+rke2r1",
    nodes: {
      source: "aws",
      region: "eu-west-1",
      vpcCidr: "10.10.0.0/16",
      sshCidrs: ["203.0.113.0/24"],
      publicKey: PUBLIC_KEY,
      servers: { count: 1 },
      agentPools: [{ name: "workers", count: 2 }],
    },
  };
}

export function context(overrides: Partial<LoadContext> = {}): LoadContext {
  return {
    configKeys: new Map([["sshPrivateKey", { secret: true }]]),
    baseDir: REPO,
    requireSecrets: false,
    ...overrides,
  };
}

export function spec(raw: unknown, ctx: LoadContext = context()): ClusterSpec {
  return buildClusterSpec(raw, ctx);
}

/** The problems a config yields, as "path: message" lines; [] when it is valid. */
export function problemsOf(raw: unknown, ctx: LoadContext = context()): string[] {
  try {
    buildClusterSpec(raw, ctx);
    return [];
  } catch (err) {
    const problems = (err as { problems?: { path: string; message: string }[] }).problems;
    if (!problems) throw err;
    return problems.map((p) => `${p.path}: ${p.message}`);
  }
}

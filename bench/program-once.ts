// One measured evaluation of the whole program under mocks for a generated existing-hosts stack of N nodes
// (3 servers, N-3 agents). Run in its own process per size so every run starts with a fresh Pulumi runtime.
// Prints one JSON line: { nodes, resources, evalMs, heapMB }.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

const nodes = Number(process.argv[2]);
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAW1dhevxjWB8K/ttpJP6AxPF+eUXm+JPlL9gxUfC+Gw";

export function benchConfig(n: number): Record<string, unknown> {
  return {
    name: "bench",
    version: "v1.33.5+rke2r1",
    nodes: {
      source: "existing",
      hosts: Array.from({ length: n }, (_, i) => ({
        name: `node-${i}`,
        address: `192.0.2.${(i % 250) + 1}`,
        port: 2200 + i,
        role: i < 3 ? "server" : "agent",
        hostKey: HOST_KEY,
      })),
    },
    namespaces: [{ name: "apps" }],
  };
}

/** Resolves when an exported value (an Output or a plain value) has its value. */
function settled(value: unknown): Promise<void> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve();
  return new Promise((resolve) => void value.apply(() => resolve()));
}

async function main() {
  pulumi.runtime.setAllConfig(
    {
      "hardened-rke2:cluster": JSON.stringify(benchConfig(nodes)),
      "hardened-rke2:sshPrivateKey": "bench-key",
      "hardened-rke2:clusterToken": "bench-token",
    },
    ["hardened-rke2:sshPrivateKey", "hardened-rke2:clusterToken"],
  );
  let resources = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        resources++;
        return {
          id: `${args.name}-id`,
          state: {
            ...(args.inputs as Record<string, unknown>),
            stdout: "apiVersion: v1\nclusters:\n- cluster: {server: x}\n",
          },
        };
      },
      call: () => {
        throw new Error("no invoke expected");
      },
    },
    "hardened-rke2",
    "bench",
    false,
  );
  const start = process.hrtime.bigint();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require(path.join(__dirname, "..", "index.ts")) as Record<string, unknown>;
  await Promise.all(Object.values(program).map((v) => settled(v)));
  await new Promise((r) => setTimeout(r, 0));
  const evalMs = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(
    `${JSON.stringify({ nodes, resources, evalMs, heapMB: process.memoryUsage().heapUsed / 2 ** 20 })}\n`,
  );
}

if (require.main === module) void main();

// One measured evaluation under mocks, in a fresh process so every run starts with a fresh Pulumi runtime:
//   product N        the whole program (index.ts) for a generated existing-hosts stack of N nodes (3 servers,
//                    N-3 agents);
//   floor N COUNT    bench/floor.ts registering COUNT command resources (the product's count at N nodes) at the
//                    top level of its module, as index.ts does.
// The clock starts after @pulumi/pulumi is loaded and the mocks are set, and stops when every exported value has
// its value and every registration the program started has been answered. Prints one JSON line:
// { program, nodes, resources, exported, evalMs, cpuMs, heapMB, liveMB, rssMB }: wall and CPU time (all the
// process's threads) of that span, the V8 heap in use at its end (garbage included: what the process carries), the
// heap still in use after a full garbage collection (what the run holds), and the process's peak resident memory
// (loader and SDK included).
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import * as pulumi from "@pulumi/pulumi";

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

/** Resolves when a value (an Output or a plain value) has its value. */
function settled(value: unknown): Promise<void> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve();
  return new Promise((resolve) => void value.apply(() => resolve()));
}

export async function main(args: string[]): Promise<void> {
  const [program, nodesArg, countArg] = args;
  const nodes = Number(nodesArg);
  if (program !== "product" && program !== "floor") throw new Error(`unknown program ${program}`);
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
      newResource: (a) => {
        resources++;
        return {
          id: `${a.name}-id`,
          state: {
            ...(a.inputs as Record<string, unknown>),
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
  const cpuStart = process.cpuUsage();
  let values: unknown[];
  if (program === "product") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    values = Object.values(require(path.join(__dirname, "..", "index")) as Record<string, unknown>);
  } else {
    process.env.BENCH_FLOOR_COUNT = countArg;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    values = (require("./floor") as typeof import("./floor")).lengths;
  }
  await Promise.all(values.map((v) => settled(v)));
  await pulumi.runtime.disconnect();
  const evalMs = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1e3;
  const heapMB = process.memoryUsage().heapUsed / 2 ** 20;
  v8.setFlagsFromString("--expose-gc");
  (vm.runInNewContext("gc") as () => void)();
  const liveMB = process.memoryUsage().heapUsed / 2 ** 20;
  const rssMB = process.resourceUsage().maxRSS / 1024;
  // `values` is read after the collection, so what the program returned is still held when the heap is measured.
  const exported = values.length;
  process.stdout.write(
    `${JSON.stringify({ program, nodes, resources, exported, evalMs, cpuMs, heapMB, liveMB, rssMB })}\n`,
  );
}

if (require.main === module) void main(process.argv.slice(2));

// The pack against a weakened dev stack, as the real program builds it: SSH opened to the internet with the config's
// explicit opt-in (the loader accepts it; CI's policy check must still refuse it), and a server with a public address
// without the pack's dev allowance; and prod's bastion opened to the world the same way.
import { policies } from "../../policy/policies";
import { checkPack, fromRecorded } from "../helpers/policy";
import { runProgram } from "../helpers/program";

describe("policy pack on a weakened stack", () => {
  it("reports exactly the weakened rules", async () => {
    const run = await runProgram("dev", (c) => {
      c.nodes.sshCidrs = ["0.0.0.0/0"];
      c.nodes.apiCidrs = ["203.0.113.0/24"];
      c.nodes.allowPublicSsh = true;
    });
    expect(await checkPack(policies, fromRecorded(run.resources))).toEqual([
      "ec2-no-public-ip-on-servers: server dev-nodes-server-0 has a public address; set nodes.publicIp: false (or allowPublicServers in the pack config for dev)",
      "security-group-no-public-cluster-ports: rule dev-nodes-server-in-0 opens port 22 to 0.0.0.0/0; restrict it to the operator's ranges",
      "security-group-no-public-cluster-ports: rule dev-nodes-agent-in-1 opens port 22 to 0.0.0.0/0; restrict it to the operator's ranges",
    ]);
  });

  it("refuses SSH opened to the world through the bastion group", async () => {
    const run = await runProgram("prod", (c) => {
      c.nodes.sshCidrs = ["0.0.0.0/0"];
      c.nodes.allowPublicSsh = true;
    });
    expect(await checkPack(policies, fromRecorded(run.resources))).toEqual([
      "security-group-no-public-cluster-ports: rule prod-nodes-bastion-in-0 opens port 22 to 0.0.0.0/0; restrict it to the operator's ranges",
    ]);
  });
});

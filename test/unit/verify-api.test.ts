// The verification's API client against a small HTTPS server on 127.0.0.1 that answers like kube-apiserver for the
// four requests it makes (a STAND-IN: the end-to-end run uses a real one). Proves client-certificate auth, TLS
// verification against the kubeconfig's CA, and how answers are read.
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { clientFor, fetchAnswers, PRIVILEGED_POD } from "../../components/hardening/api";
import { issue, makeCa } from "../helpers/pki";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-api-"));
const file = (n: string) => path.join(dir, n);
makeCa(dir, "cluster-ca");
makeCa(dir, "other-ca");
issue(
  dir,
  "apiserver",
  "cluster-ca",
  "/CN=apiserver",
  "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
);
issue(dir, "admin", "cluster-ca", "/CN=admin", "extendedKeyUsage=clientAuth\n");

const requests: string[] = [];
let postedBody: unknown;
const server = https.createServer(
  {
    key: fs.readFileSync(file("apiserver.key")),
    cert: fs.readFileSync(file("apiserver.crt")),
    ca: fs.readFileSync(file("cluster-ca.crt")),
    requestCert: true,
    rejectUnauthorized: true,
  },
  (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/api/v1/namespaces")
        return send(200, { items: [{ metadata: { name: "default" } }, { metadata: { name: "shop" } }] });
      if (req.url === "/apis/networking.k8s.io/v1/networkpolicies")
        return send(200, {
          items: [{ metadata: { namespace: "shop", name: "hardened-rke2-default-deny" } }],
        });
      if (req.url?.startsWith("/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault"))
        return send(200, {
          items: [
            { metadata: { namespace: "default", name: "default" }, automountServiceAccountToken: false },
            { metadata: { namespace: "shop", name: "default" } },
          ],
        });
      if (req.url === "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies")
        return send(200, { items: [{ metadata: { name: "hardened-rke2-default-sa-token" } }] });
      if (req.url === "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings")
        return send(200, { items: [] });
      if (req.method === "POST" && req.url === "/api/v1/namespaces/default/pods?dryRun=All") {
        postedBody = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        return send(403, {
          kind: "Status",
          message: 'pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged',
        });
      }
      return send(404, { message: "not found" });
    });
  },
);

const open = new Set<import("node:net").Socket>();
server.on("secureConnection", (socket) => {
  open.add(socket);
  socket.on("close", () => open.delete(socket));
});

let port = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

const b64 = (n: string) => fs.readFileSync(file(n)).toString("base64");
const kubeconfig = (caName: string) =>
  stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "c",
        cluster: { server: `https://127.0.0.1:${port}`, "certificate-authority-data": b64(`${caName}.crt`) },
      },
    ],
    users: [
      {
        name: "u",
        user: { "client-certificate-data": b64("admin.crt"), "client-key-data": b64("admin.key") },
      },
    ],
  });

describe("verification API client", () => {
  it("reads namespaces, policies, default ServiceAccounts, admission policies and the privileged dry run", async () => {
    const answers = await fetchAnswers(clientFor(kubeconfig("cluster-ca")), '{"level":"Metadata"}');
    expect(answers).toEqual({
      namespaces: ["default", "shop"],
      networkPolicies: ["shop/hardened-rke2-default-deny"],
      defaultServiceAccounts: { default: false, shop: undefined },
      privilegedPodDryRun: {
        status: 403,
        message: 'pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged',
      },
      auditLogLine: '{"level":"Metadata"}',
      admissionPolicies: ["hardened-rke2-default-sa-token"],
      admissionBindings: [],
    });
    expect(requests.slice(-1)).toEqual(["POST /api/v1/namespaces/default/pods?dryRun=All"]);
    expect(postedBody).toEqual(PRIVILEGED_POD);
  });

  it("asks again on a new connection after the API server closed the last one while the caller was busy", async () => {
    const client = clientFor(kubeconfig("cluster-ca"));
    expect((await client.request("GET", "/api/v1/namespaces")).status).toBe(200);
    // The API server restarts (a roll) and its connections close, while the caller's event loop is blocked (the SSH
    // e2e waits on a whole `pulumi up` synchronously): the close reaches the caller only after its next request.
    for (const socket of open) socket.destroy();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    expect((await client.request("GET", "/api/v1/namespaces")).status).toBe(200);
  });

  it("refuses an API server whose certificate the kubeconfig's CA did not sign", async () => {
    const before = requests.length;
    await expect(fetchAnswers(clientFor(kubeconfig("other-ca")), "")).rejects.toThrow(/certificate/);
    expect(requests.length).toBe(before);
  });
});

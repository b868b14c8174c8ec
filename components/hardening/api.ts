// Reads the verification answers from the API server with the stack's kubeconfig. TLS is verified against the
// cluster CA in the kubeconfig; nothing here turns verification off.
import * as https from "node:https";
import { parse } from "yaml";
import type { ClusterAnswers } from "./verify";

interface Kubeconfig {
  clusters?: { cluster?: { server?: string; "certificate-authority-data"?: string } }[];
  users?: { user?: { "client-certificate-data"?: string; "client-key-data"?: string; token?: string } }[];
}

interface Client {
  request(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; json: unknown }>;
}

export function clientFor(kubeconfigText: string): Client {
  const kc = parse(kubeconfigText) as Kubeconfig;
  const cluster = kc.clusters?.[0]?.cluster;
  const user = kc.users?.[0]?.user ?? {};
  if (!cluster?.server) throw new Error("the kubeconfig names no API server");
  const b64 = (v?: string) => (v === undefined ? undefined : Buffer.from(v, "base64"));
  const base = new URL(cluster.server);
  return {
    request: (method, path, body, contentType = "application/json") =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
          {
            method,
            hostname: base.hostname,
            port: base.port === "" ? 443 : Number(base.port),
            path,
            ca: b64(cluster["certificate-authority-data"]),
            cert: b64(user["client-certificate-data"]),
            key: b64(user["client-key-data"]),
            headers: {
              Accept: "application/json",
              ...(payload !== undefined ? { "Content-Type": contentType } : {}),
              ...(user.token !== undefined ? { Authorization: `Bearer ${user.token}` } : {}),
            },
            timeout: 30_000,
            // A connection per request, never one from the pool: an API server restarted between two requests (a
            // roll, a certificate rotation) has closed the pooled one, and a caller whose event loop was busy in the
            // meantime (the SSH e2e waits on a whole `pulumi up`) would still be handed it and fail with EPIPE or
            // "socket hang up" (Node's global agent keeps connections alive since Node 19).
            agent: false,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let json: unknown = text;
              try {
                json = JSON.parse(text);
              } catch {
                // a non-JSON answer (a proxy's error page) is kept as text for the message
              }
              resolve({ status: res.statusCode ?? 0, json });
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
        req.on("error", (err: Error) => reject(new Error(`${method} ${base.origin}${path}: ${err.message}`)));
        if (payload !== undefined) req.write(payload);
        req.end();
      }),
  };
}

interface List<T> {
  items?: T[];
}
type Meta = { metadata?: { name?: string; namespace?: string } };

/** A pod every Pod Security level below privileged refuses. Only ever sent as a dry run. */
export const PRIVILEGED_POD = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "hardened-rke2-verify-privileged", namespace: "default" },
  spec: {
    automountServiceAccountToken: false,
    containers: [{ name: "c", image: "registry.invalid/verify:1", securityContext: { privileged: true } }],
  },
};

function messageOf(json: unknown): string {
  const message = (json as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : JSON.stringify(json).slice(0, 300);
}

export async function fetchAnswers(client: Client, auditLogLine: string): Promise<ClusterAnswers> {
  const get = async <T>(path: string): Promise<T> => {
    const r = await client.request("GET", path);
    if (r.status !== 200)
      throw new Error(`GET ${path} answered ${r.status}: ${JSON.stringify(r.json).slice(0, 200)}`);
    return r.json as T;
  };
  const namespaces = (await get<List<Meta>>("/api/v1/namespaces")).items ?? [];
  const policies = (await get<List<Meta>>("/apis/networking.k8s.io/v1/networkpolicies")).items ?? [];
  const accounts =
    (
      await get<List<Meta & { automountServiceAccountToken?: boolean }>>(
        "/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault",
      )
    ).items ?? [];
  const admission = "/apis/admissionregistration.k8s.io/v1";
  const vaps = (await get<List<Meta>>(`${admission}/validatingadmissionpolicies`)).items ?? [];
  const bindings = (await get<List<Meta>>(`${admission}/validatingadmissionpolicybindings`)).items ?? [];
  const dry = await client.request("POST", "/api/v1/namespaces/default/pods?dryRun=All", PRIVILEGED_POD);
  return {
    namespaces: namespaces.map((n) => n.metadata?.name ?? ""),
    networkPolicies: policies.map((p) => `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`),
    defaultServiceAccounts: Object.fromEntries(
      accounts.map((a) => [a.metadata?.namespace ?? "", a.automountServiceAccountToken]),
    ),
    privilegedPodDryRun: {
      status: dry.status,
      message: messageOf(dry.json),
    },
    auditLogLine,
    admissionPolicies: vaps.map((p) => p.metadata?.name ?? ""),
    admissionBindings: bindings.map((b) => b.metadata?.name ?? ""),
  };
}

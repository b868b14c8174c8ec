// The distribution's registries.yaml (/etc/rancher/rke2 or /etc/rancher/k3s; field names from the struct tags of
// rancher/wharfie, which RKE2 and K3s both use: docs.k3s.io installation/private-registry) and the CA, client
// certificate and key files it points at.
import type { ClusterSpec } from "../spec/types";
import { DISTRIBUTION } from "../spec/distribution";
import { pathsFor, rootFile, yamlFile, type NodeFile } from "./files";
import type { RenderInputs } from "./inputs";

/** Folder-safe name for a registry host such as `registry.example.com:5000`. */
function hostDir(spec: ClusterSpec, host: string): string {
  return `${pathsFor(spec.distribution).registryCerts}/${host.replace(/[^A-Za-z0-9.-]/g, "_")}`;
}

/** registries.yaml plus its certificate files; nothing when the stack configures no registry. */
export function renderRegistries(spec: ClusterSpec, inputs: RenderInputs): NodeFile[] {
  const { mirrors, configs } = spec.registries;
  if (Object.keys(mirrors).length === 0 && Object.keys(configs).length === 0) return [];
  const files: NodeFile[] = [];
  const doc: { mirrors: Record<string, unknown>; configs: Record<string, unknown> } = {
    mirrors: {},
    configs: {},
  };
  for (const [name, m] of Object.entries(mirrors)) {
    doc.mirrors[name] =
      Object.keys(m.rewrites).length > 0
        ? { endpoint: m.endpoints, rewrite: m.rewrites }
        : { endpoint: m.endpoints };
  }
  let holdsSecret = false;
  for (const [host, c] of Object.entries(configs)) {
    const entry: Record<string, unknown> = {};
    if (c.auth) {
      holdsSecret = true;
      entry.auth = { username: c.auth.username, password: inputs.secret(c.auth.password.key) };
    }
    if (c.tls) {
      const tls: Record<string, string> = {};
      const dir = hostDir(spec, host);
      // wharfie field, file on the node, the operator's file, and whether it is a secret (the client key).
      const parts: [string, string, string | undefined, boolean, string][] = [
        ["ca_file", "ca.crt", c.tls.caFile, false, `CA of registry ${host}`],
        ["cert_file", "client.crt", c.tls.certFile, false, `client certificate for ${host}`],
        ["key_file", "client.key", c.tls.keyFile, true, `client key for ${host}`],
      ];
      for (const [field, name, local, secret, purpose] of parts) {
        if (local === undefined) continue;
        tls[field] = `${dir}/${name}`;
        const content = secret ? inputs.secretFile(local) : inputs.file(local);
        files.push(rootFile(tls[field], secret ? "0600" : "0644", content, purpose, secret));
      }
      // TLS verification stays on: insecure_skip_verify is never written.
      entry.tls = tls;
    }
    doc.configs[host] = entry;
  }
  if (Object.keys(doc.configs).length === 0) delete (doc as { configs?: unknown }).configs;
  files.unshift(
    rootFile(
      pathsFor(spec.distribution).registries,
      "0600",
      yamlFile(
        `containerd registry mirrors and credentials (${DISTRIBUTION[spec.distribution].title} private registry configuration).`,
        doc,
      ),
      "registry mirrors, rewrites, credentials and TLS files",
      holdsSecret,
    ),
  );
  return files;
}

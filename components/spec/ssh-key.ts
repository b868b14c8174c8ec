// SSH public keys as the stack pins them (`<type> <base64> [comment]`): decoded, so a truncated or mislabelled key is
// an error at preview, not a handshake failure at the first node.

/** Key types OpenSSH accepts for host authentication (ssh-dss is gone since 10.0, disabled since 7.0). */
const HOST_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
];
/** ECDSA point sizes (uncompressed): 1 + 2 × the curve's byte length. */
const ECDSA_POINT: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

export interface SshKey {
  type: string;
}

/** Reads the SSH wire strings of a key blob (RFC 4253 §6.6); undefined when a length runs past the end. */
function wireStrings(blob: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) return undefined;
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** Why `text` is not a usable SSH public key, or undefined when it is one. */
export function sshKeyProblem(text: string): string | undefined {
  const m = /^(\S+) ([A-Za-z0-9+/]+={0,2})( .*)?$/.exec(text);
  if (!m) return "is not an SSH public key ('<type> <base64>')";
  const [, type, b64] = m;
  if (!HOST_KEY_TYPES.includes(type)) {
    return `has type ${type}, which OpenSSH no longer accepts or this product does not pin (allowed types: ${HOST_KEY_TYPES.join(", ")})`;
  }
  const parts = wireStrings(Buffer.from(b64, "base64"));
  if (!parts || parts.length === 0 || parts[0].toString() !== type) {
    return `does not decode as a ${type} key (the base64 is truncated or belongs to another key type)`;
  }
  const ok =
    type === "ssh-ed25519"
      ? parts.length === 2 && parts[1].length === 32
      : type === "ssh-rsa"
        ? parts.length === 3 && parts[2].length >= 256
        : parts.length === 3 &&
          parts[2].length === ECDSA_POINT[parts[1].toString()] &&
          type.endsWith(parts[1].toString());
  return ok
    ? undefined
    : `does not decode as a ${type} key (the base64 is truncated or belongs to another key type)`;
}

/**
 * Minisign signatures checked with node:crypto alone (Ed25519, and BLAKE2b-512 for prehashed signatures),
 * so verifying needs no extra tool and the same code runs in the executable, under Node and under Deno.
 *
 * Formats (https://jedisct1.github.io/minisign/):
 *   public key: base64("Ed" | key id (8) | Ed25519 public key (32)), optionally after an `untrusted comment:` line
 *   signature:  untrusted comment line; base64(alg (2) | key id (8) | signature (64)); `trusted comment: …`
 *               line; base64(global signature (64)) over signature | trusted comment.
 *   alg "Ed" signs the file itself; "ED" (minisign's default) signs the BLAKE2b-512 hash of the file.
 */
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";

export interface MinisignPublicKey {
  /** Key id as minisign prints it: 16 upper-case hex digits. */
  keyId: string;
  keyIdBytes: Buffer;
  key: KeyObject;
  /** The base64 line, as given to `minisign -P`. */
  base64: string;
}

export interface MinisignSignature {
  algorithm: "Ed" | "ED";
  keyId: string;
  keyIdBytes: Buffer;
  signature: Buffer;
  trustedComment: string;
  globalSignature: Buffer;
}

export type SignatureCheck =
  | { ok: true; keyId: string; trustedComment: string }
  | { ok: false; reason: string };

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** Accepts the base64 line alone or a whole `.pub` file (an `untrusted comment:` line, then the key). */
export function parsePublicKey(text: string): MinisignPublicKey {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  const keyLine = lines.find((l) => !l.startsWith("untrusted comment:"));
  if (keyLine === undefined) throw new Error("no key found: expected a minisign public key line (RW…)");
  const raw = decodeBase64Strict(keyLine);
  if (raw === null || raw.length !== 42 || raw.toString("latin1", 0, 2) !== "Ed") {
    throw new Error(`"${shorten(keyLine)}" is not a minisign Ed25519 public key (expected 56 base64 characters starting RW)`);
  }
  const keyIdBytes = raw.subarray(2, 10);
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw.subarray(10)]), format: "der", type: "spki" });
  return { keyId: keyIdHex(keyIdBytes), keyIdBytes, key, base64: keyLine };
}

export function parseSignature(text: string): MinisignSignature {
  const lines = text.split(/\r?\n/);
  const [untrusted, sigLine, trusted, globalLine] = lines;
  if (!untrusted?.startsWith("untrusted comment:")) throw new Error("not a minisign signature: the first line must be `untrusted comment: …`");
  const raw = sigLine === undefined ? null : decodeBase64Strict(sigLine.trim());
  const algorithm = raw?.toString("latin1", 0, 2);
  if (raw === null || raw.length !== 74 || (algorithm !== "Ed" && algorithm !== "ED")) {
    throw new Error("not a minisign signature: the second line must be a base64 Ed25519 signature");
  }
  const prefix = "trusted comment: ";
  if (!trusted?.startsWith(prefix)) throw new Error("not a minisign signature: the third line must be `trusted comment: …`");
  const globalSignature = globalLine === undefined ? null : decodeBase64Strict(globalLine.trim());
  if (globalSignature === null || globalSignature.length !== 64) {
    throw new Error("not a minisign signature: the fourth line must be the base64 global signature");
  }
  const keyIdBytes = raw.subarray(2, 10);
  return {
    algorithm,
    keyId: keyIdHex(keyIdBytes),
    keyIdBytes,
    signature: raw.subarray(10),
    trustedComment: trusted.slice(prefix.length),
    globalSignature,
  };
}

/** What `minisign -V` checks: the key id, the signature of the file, and the signature of the trusted comment. */
export function verifyMinisign(message: Uint8Array, signatureText: string, publicKey: MinisignPublicKey): SignatureCheck {
  let sig: MinisignSignature;
  try {
    sig = parseSignature(signatureText);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  if (!sig.keyIdBytes.equals(publicKey.keyIdBytes)) {
    return { ok: false, reason: `signed by key ${sig.keyId}, but the key given is ${publicKey.keyId}` };
  }
  const signed = sig.algorithm === "ED" ? createHash("blake2b512").update(message).digest() : message;
  if (!verify(null, signed, publicKey.key, sig.signature)) {
    return { ok: false, reason: `the signature does not match the file (key ${publicKey.keyId})` };
  }
  const global = Buffer.concat([sig.signature, Buffer.from(sig.trustedComment, "utf8")]);
  if (!verify(null, global, publicKey.key, sig.globalSignature)) {
    return { ok: false, reason: "the trusted comment was altered (its signature does not match)" };
  }
  return { ok: true, keyId: publicKey.keyId, trustedComment: sig.trustedComment };
}

/** Minisign shows the 8-byte key id as a little-endian 64-bit number in hex. */
function keyIdHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).reverse().toString("hex").toUpperCase();
}

function decodeBase64Strict(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  return Buffer.from(text, "base64");
}

function shorten(text: string): string {
  return text.length > 24 ? `${text.slice(0, 24)}…` : text;
}

// Writes minisign-format keys and signatures with node:crypto, so tests can sign with a key they generate.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

export interface TestSigner {
  /** The `minisign.pub` file: an untrusted comment, then the base64 key line. */
  publicKeyFile: string;
  /** The base64 key line alone (what `minisign -P` takes). */
  publicKey: string;
  keyIdHex: string;
  /** A `.minisig` file for `message`; `prehashed` (the default, as minisign ≥ 0.8) signs its BLAKE2b-512 hash. */
  signature(message: Uint8Array, options?: { prehashed?: boolean; trustedComment?: string }): string;
}

export function createTestSigner(): TestSigner {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const rawPublic = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const keyId = randomBytes(8);
  const publicLine = Buffer.concat([Buffer.from("Ed"), keyId, rawPublic]).toString("base64");
  const keyIdHex = Buffer.from(keyId).reverse().toString("hex").toUpperCase();
  return {
    publicKeyFile: `untrusted comment: minisign public key ${keyIdHex}\n${publicLine}\n`,
    publicKey: publicLine,
    keyIdHex,
    signature: (message, options = {}) => signMinisign(privateKey, keyId, message, options.prehashed ?? true, options.trustedComment ?? "timestamp:0\tfile:checksums.txt"),
  };
}

function signMinisign(privateKey: KeyObject, keyId: Buffer, message: Uint8Array, prehashed: boolean, trustedComment: string): string {
  const signed = prehashed ? createHash("blake2b512").update(message).digest() : message;
  const signature = sign(null, signed, privateKey);
  const global = sign(null, Buffer.concat([signature, Buffer.from(trustedComment)]), privateKey);
  const sigLine = Buffer.concat([Buffer.from(prehashed ? "ED" : "Ed"), keyId, signature]).toString("base64");
  return `untrusted comment: signature from a test key\n${sigLine}\ntrusted comment: ${trustedComment}\n${global.toString("base64")}\n`;
}

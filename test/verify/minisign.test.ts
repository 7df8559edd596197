import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parsePublicKey, verifyMinisign } from "../../src/verify/minisign.ts";
import { createTestSigner } from "./minisign-writer.ts";

const message = Buffer.from("0".repeat(64) + "  codex-subagents-linux-x64\n");

describe("minisign signatures (node:crypto)", () => {
  const signer = createTestSigner();
  const key = parsePublicKey(signer.publicKeyFile);

  test("reads the key id the way minisign prints it", () => {
    expect(key.keyId).toBe(signer.keyIdHex);
    expect(parsePublicKey(signer.publicKey).keyId).toBe(signer.keyIdHex);
  });

  test("a prehashed (ED) signature of the file passes", () => {
    const result = verifyMinisign(message, signer.signature(message), key);
    expect(result).toEqual({ ok: true, keyId: signer.keyIdHex, trustedComment: "timestamp:0\tfile:checksums.txt" });
  });

  test("a legacy (Ed) signature of the file passes", () => {
    expect(verifyMinisign(message, signer.signature(message, { prehashed: false }), key).ok).toBe(true);
  });

  test("one changed byte of the file fails", () => {
    const changed = Buffer.from(message);
    changed[0] = "1".charCodeAt(0);
    const result = verifyMinisign(changed, signer.signature(message), key);
    expect(result).toEqual({ ok: false, reason: `the signature does not match the file (key ${signer.keyIdHex})` });
  });

  test("an edited trusted comment fails", () => {
    const sig = signer.signature(message).replace("timestamp:0", "timestamp:1");
    expect(verifyMinisign(message, sig, key)).toEqual({ ok: false, reason: "the trusted comment was altered (its signature does not match)" });
  });

  test("a signature by another key names both key ids", () => {
    const other = createTestSigner();
    const result = verifyMinisign(message, other.signature(message), key);
    expect(result).toEqual({ ok: false, reason: `signed by key ${other.keyIdHex}, but the key given is ${signer.keyIdHex}` });
  });

  test("garbage is refused, not half-read", () => {
    expect(verifyMinisign(message, "hello\n", key).ok).toBe(false);
    expect(() => parsePublicKey("RWnotakey")).toThrow(/not a minisign Ed25519 public key/);
    expect(() => parsePublicKey("")).toThrow(/no key found/);
  });
});

const minisign = spawnSync("minisign", ["-v"], { encoding: "utf8" }).status === 0;
describe.skipIf(!minisign)("agreement with the minisign tool", () => {
  // Made in beforeAll, not while the file is collected: a run that filters these tests out (-t) made it and
  // never ran the afterAll that removes it.
  let dir = "";
  let file = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "codex-subagents-minisign-"));
    file = join(dir, "checksums.txt");
    writeFileSync(file, message);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("minisign -V accepts a signature written by the test signer, and rejects it after a change", () => {
    const signer = createTestSigner();
    writeFileSync(join(dir, "test.pub"), signer.publicKeyFile);
    writeFileSync(`${file}.minisig`, signer.signature(message));
    expect(spawnSync("minisign", ["-Vm", file, "-p", join(dir, "test.pub")]).status).toBe(0);
    writeFileSync(file, Buffer.concat([message, Buffer.from("\n")]));
    expect(spawnSync("minisign", ["-Vm", file, "-p", join(dir, "test.pub")]).status).not.toBe(0);
    writeFileSync(file, message);
  });

  test("a signature made by minisign verifies here, and fails after a change", () => {
    const pub = join(dir, "tool.pub");
    const sec = join(dir, "tool.key");
    expect(spawnSync("minisign", ["-G", "-W", "-f", "-p", pub, "-s", sec], { encoding: "utf8" }).status).toBe(0);
    expect(spawnSync("minisign", ["-S", "-s", sec, "-m", file], { encoding: "utf8" }).status).toBe(0);
    const key = parsePublicKey(readFileSync(pub, "utf8"));
    const sig = readFileSync(`${file}.minisig`, "utf8");
    expect(verifyMinisign(message, sig, key).ok).toBe(true);
    expect(verifyMinisign(Buffer.concat([message, Buffer.from("x")]), sig, key).ok).toBe(false);
  });
});

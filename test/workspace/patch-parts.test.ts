// The pure helpers of the patch (src/workspace/patch-parts.ts): headers, per-file parts, secret-shaped names.
import { describe, expect, test } from "bun:test";
import { headerPath, isSecretShapedPath, splitPatch } from "../../src/workspace/patch-parts.ts";

describe("patch parts", () => {
  const part = (header: string, body: string) => `diff --git ${header}\n${body}`;
  test("paths are read from plain headers (spaces included) and C-quoted ones (octal bytes included)", () => {
    expect(headerPath(Buffer.from("a/dir/my file.txt b/dir/my file.txt"))?.toString()).toBe("dir/my file.txt");
    expect(headerPath(Buffer.from('"a/caf\\303\\251 \\"q\\".txt" "b/caf\\303\\251 \\"q\\".txt"'))?.toString()).toBe('café "q".txt');
    expect(headerPath(Buffer.from("a/x b/y"))).toBeUndefined();
  });

  test("a patch splits into per-file parts that know if they are binary or UTF-8", () => {
    const patch = Buffer.concat([
      Buffer.from(part("a/t.txt b/t.txt", "--- a/t.txt\n+++ b/t.txt\n@@ -1 +1 @@\n-a\n+b\n")),
      Buffer.from(part("a/l.txt b/l.txt", "@@ -1 +1 @@\n-a\n+caf")),
      Buffer.from([0xe9, 10]),
      Buffer.from(part("a/i.bin b/i.bin", "index 1..2\nGIT binary patch\nliteral 3\nKcmZQz\n\n")),
    ]);
    const parts = splitPatch(patch)!;
    expect(parts.map((p) => [p.path.toString(), p.binary, p.utf8])).toEqual([
      ["t.txt", false, true],
      ["l.txt", false, false],
      ["i.bin", true, true],
    ]);
    expect(Buffer.concat(parts.map((p) => p.bytes)).equals(patch)).toBe(true);
    expect(splitPatch(Buffer.alloc(0))).toEqual([]);
    expect(splitPatch(Buffer.from("garbage"))).toBeUndefined();
  });

  test("secret-shaped names: env files, keys, credential stores and anything in a credentials directory", () => {
    for (const path of [".env", "config/.env.production", "keys/id_rsa", "id_ed25519.pub", "cert/server.pem", "a/.netrc", ".ssh/config", "x/.aws/credentials"]) {
      expect(isSecretShapedPath(path), path).toBe(true);
    }
    for (const path of ["src/env.ts", "README.md", "environment/setup.md", "node_modules/x.js", "docs/keys.md"]) {
      expect(isSecretShapedPath(path), path).toBe(false);
    }
  });
});

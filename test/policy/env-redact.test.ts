import { describe, expect, test } from "bun:test";
import { buildChildEnv, secretValues } from "../../src/policy/env.ts";
import { createRedactor, redactDeep } from "../../src/policy/redact.ts";
import { checkSandbox } from "../../src/policy/sandbox.ts";

describe("child environment", () => {
  const parent = { PATH: "/bin", HOME: "/h", OPENAI_API_KEY: "sk-abc", CANARY: "leak", LC_ALL: "C", MY_TOKEN: "t0k3n-value", GIT_DIR: "/evil" };
  test("only the allow-list, LC_*, pass-env names and the depth", () => {
    expect(buildChildEnv(parent, ["MY_TOKEN"], 1, false)).toEqual({ PATH: "/bin", HOME: "/h", OPENAI_API_KEY: "sk-abc", LC_ALL: "C", MY_TOKEN: "t0k3n-value", CODEX_SUBAGENTS_DEPTH: "1" });
    expect(buildChildEnv(parent, [], 2, false)).not.toHaveProperty("CANARY");
  });
  test("Windows names match whatever their case", () => {
    expect(buildChildEnv({ Path: "C:\\w", SystemRoot: "C:\\Windows" }, [], 1, true)).toEqual({ Path: "C:\\w", SystemRoot: "C:\\Windows", CODEX_SUBAGENTS_DEPTH: "1" });
  });
  test("PATH keeps only its absolute entries: `bin`, `.` and empty entries would find a repository's own programs", () => {
    expect(buildChildEnv({ PATH: "bin::/usr/bin:.:/bin:" }, [], 1, false).PATH).toBe("/usr/bin:/bin");
    expect(buildChildEnv({ Path: "tools;C:\\w;.\\x;;D:\\y" }, [], 1, true).Path).toBe("C:\\w;D:\\y");
  });
  test("secret values: the API key and pass-env values", () => {
    expect(secretValues(parent, ["MY_TOKEN"])).toEqual(["sk-abc", "t0k3n-value"]);
  });
});

describe("redaction", () => {
  const redact = createRedactor(["super-secret-value", "abc"]);
  test.each([
    { what: "literal value", input: "x super-secret-value y", redacted: "x [REDACTED] y" },
    { what: "OpenAI key", input: "key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX end", redacted: "key [REDACTED] end" },
    { what: "AWS key id", input: "AKIAIOSFODNN7EXAMPLE", redacted: "[REDACTED]" },
    { what: "bearer token", input: "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", redacted: "Authorization: Bearer [REDACTED]" },
    { what: "github token", input: "ghp_0123456789abcdefghij0123456789abcdef", redacted: "[REDACTED]" },
    { what: "assignment", input: "password=hunter2hunter2", redacted: "password=[REDACTED]" },
    { what: "private key", input: "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\nb", redacted: "a\n[REDACTED]\nb" },
  ])("$what", ({ input, redacted }) => {
    expect(redact(input)).toBe(redacted);
  });
  test("short values are not treated as secrets", () => {
    expect(redact("abc abc")).toBe("abc abc");
  });
  test("deep redaction reaches nested strings only", () => {
    expect(redactDeep({ a: ["super-secret-value"], n: 1, b: { c: "ok" } }, redact)).toEqual({ a: ["[REDACTED]"], n: 1, b: { c: "ok" } });
  });
});

describe("sandbox ceiling", () => {
  test("at or below the ceiling passes, above is refused with the way out", () => {
    expect(checkSandbox("read-only", "workspace-write")).toBeNull();
    expect(checkSandbox("workspace-write", "workspace-write")).toBeNull();
    expect(checkSandbox("danger-full-access", "workspace-write")?.hint).toContain("--max-sandbox danger-full-access");
    expect(checkSandbox("workspace-write", "read-only")?.message).toContain("above this server's limit");
  });
});

describe("redaction inside escaped text", () => {
  const redact = createRedactor([]);
  test("a key right after a JSON escape is still found", () => {
    expect(redact(String.raw`"text":"line\nsk-proj-ABCDEFGHIJKLMNOPQRSTUVWX\tAKIAIOSFODNN7EXAMPLE"`)).toBe(String.raw`"text":"line\n[REDACTED]\t[REDACTED]"`);
  });
  test("words that merely contain the prefix are left alone", () => {
    expect(redact("risk-assessment-document-draft and task-abcdefghijklmnopqrs")).toBe("risk-assessment-document-draft and task-abcdefghijklmnopqrs");
  });
});

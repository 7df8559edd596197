// One refusal type and one exit-code table: every refusal class is a Refusal with its exit status; the CLI prints it as
// `codex-subagents: error: …` then `hint: …`, a tool as an isError text with the same lines.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { AgentsDirError } from "../src/agents/registry.ts";
import { main } from "../src/cli.ts";
import { DelegateError } from "../src/delegation/plan.ts";
import { cliErrorText, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, isRefusal, Refusal, refusalText, UsageError } from "../src/errors.ts";
import { PolicyError } from "../src/policy/roots.ts";
import { RunNotFound } from "../src/runs/show.ts";
import { errorResult } from "../src/tools/results.ts";
import { WorkspaceError } from "../src/workspace/types.ts";

function capture() {
  let out = "";
  let err = "";
  return { io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) }, out: () => out, err: () => err };
}

describe("the exit-code table", () => {
  test("0 ok, 1 failure, 2 not found, 64 usage, 130 interrupted", () => {
    expect([EXIT_OK, EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_INTERRUPTED]).toEqual([0, 1, 2, 64, 130]);
  });
});

describe("every refusal class is one Refusal", () => {
  test.each([
    ["UsageError", new UsageError("u"), EXIT_USAGE],
    ["AgentsDirError", new AgentsDirError("a"), EXIT_NOT_FOUND],
    ["RunNotFound", new RunNotFound("r"), EXIT_NOT_FOUND],
    ["PolicyError", new PolicyError("p"), EXIT_NOT_FOUND],
    ["DelegateError", new DelegateError("d"), EXIT_FAILURE],
    ["WorkspaceError", new WorkspaceError("w"), EXIT_FAILURE],
  ] as const)("%s exits %d", (_name, error, status) => {
    expect(error).toBeInstanceOf(Refusal);
    expect(isRefusal(error)).toBe(true);
    expect(error.exitStatus).toBe(status);
  });
  test("a plain Error is not a refusal (a broken invariant)", () => {
    expect(isRefusal(new Error("x"))).toBe(false);
  });
});

describe("one format for people and one for tools", () => {
  const refusal = new Refusal('no such thing "x"', { hint: "make it first" });
  test("CLI: the prefixed error line, then the hint line", () => {
    expect(cliErrorText(refusal)).toBe('codex-subagents: error: no such thing "x"\nhint: make it first\n');
    expect(cliErrorText(new UsageError("bad"))).toBe("codex-subagents: error: bad\n");
  });
  test("tool: an isError result with the message and the hint", () => {
    expect(errorResult(refusalText(refusal))).toEqual({ isError: true, content: [{ type: "text", text: 'no such thing "x"\nhint: make it first' }] });
  });
  test("validate on a missing directory: exit 2, exactly the two lines, nothing on stdout", async () => {
    const c = capture();
    expect(await main(["validate", "/nonexistent-dir-i9"], c.io, {}, "/")).toBe(EXIT_NOT_FOUND);
    expect(c.out()).toBe("");
    expect(c.err()).toBe('codex-subagents: error: no such directory "/nonexistent-dir-i9" (from /)\nhint: give the path of the directory that holds your agent files; codex-subagents list shows the one the server would use, and codex-subagents validate with no directory checks it\n');
  });
  test("a usage error: exit 64, the error line, then the next step on its hint line", async () => {
    const c = capture();
    expect(await main(["list", "--bogus"], c.io, {}, "/")).toBe(EXIT_USAGE);
    expect(c.err()).toBe('codex-subagents: error: unknown option "--bogus"\nhint: see codex-subagents --help\n');
  });
  test("a refusal that reaches main is printed as one, not as an unexpected error with a stack", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "errors-"));
    try {
      const c = capture();
      expect(await main(["runs", "show", "20261125T031500.123Z-review-00000000000000000000000000000000", "--runs-dir", dir], c.io, {}, "/")).toBe(EXIT_NOT_FOUND);
      expect(c.err()).toStartWith("codex-subagents: error: no run ");
      expect(c.err()).not.toContain("unexpected error");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

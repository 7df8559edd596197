import { describe, expect, test } from "bun:test";
import { parseServerOptions } from "../src/config.ts";
import { UsageError } from "../src/errors.ts";

describe("server options", () => {
  test("defaults", () => {
    const o = parseServerOptions([], { HOME: "/home/u" }, "/work");
    expect(o).toMatchObject({ roots: ["/work"], codex: "codex", timeoutS: 1800, maxConcurrency: 4, maxSandbox: "workspace-write", passEnv: [], maxDepth: 1, runsDir: "/home/u/.codex/subagents/runs", keepRuns: 100, logLevel: "warn" });
  });
  test("environment, and the flag wins", () => {
    const env = { CODEX_SUBAGENTS_ROOTS: "/a:/b", CODEX_SUBAGENTS_TIMEOUT: "60", CODEX_SUBAGENTS_PASS_ENV: "X, Y", CODEX_HOME: "/ch", DEBUG_MCP: "1" };
    expect(parseServerOptions([], env, "/w")).toMatchObject({ roots: ["/a", "/b"], timeoutS: 60, passEnv: ["X", "Y"], runsDir: "/ch/subagents/runs", logLevel: "debug" });
    expect(parseServerOptions(["--timeout", "30", "--root", "/c", "--root=/d"], env, "/w")).toMatchObject({ timeoutS: 30, roots: ["/c", "/d"] });
  });
  test("--spare-worktrees: default 1, the environment, the flag wins, 0 disables, at most 8", () => {
    expect(parseServerOptions([], {}, "/w").spareWorktrees).toBe(1);
    expect(parseServerOptions([], { CODEX_SUBAGENTS_SPARE_WORKTREES: "0" }, "/w").spareWorktrees).toBe(0);
    expect(parseServerOptions(["--spare-worktrees", "2"], { CODEX_SUBAGENTS_SPARE_WORKTREES: "0" }, "/w").spareWorktrees).toBe(2);
    expect(() => parseServerOptions(["--spare-worktrees", "9"], {}, "/w")).toThrow("--spare-worktrees must be a whole number from 0 to 8");
  });
  test.each([
    [["--timeout", "0"], "--timeout must be a whole number"],
    [["--timeout", "ten"], "--timeout must be a whole number"],
    [["--max-sandbox", "yolo"], "not a sandbox mode"],
    [["--pass-env", "A=B"], "not a variable name"],
    [["--log-level", "loud"], "not a log level"],
    [["--bogus"], 'unknown option "--bogus"'],
    [["--codex"], "--codex needs a value"],
    [["stray"], 'unexpected argument "stray"'],
    [["--codex", "a", "--codex", "b"], "given 2 times"],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseServerOptions(argv as string[], {}, "/w")).toThrow(UsageError);
    expect(() => parseServerOptions(argv as string[], {}, "/w")).toThrow(message);
  });
});

describe("roots from the environment", () => {
  test("a CODEX_SUBAGENTS_ROOTS that names no directory is a usage error, not a server that crashes on every call", () => {
    for (const value of [":", "::"]) {
      expect(() => parseServerOptions([], { CODEX_SUBAGENTS_ROOTS: value }, "/w")).toThrow(UsageError);
      expect(() => parseServerOptions([], { CODEX_SUBAGENTS_ROOTS: value }, "/w")).toThrow("CODEX_SUBAGENTS_ROOTS");
    }
  });
});

describe("where each value came from is recorded by the parse", () => {
  test("flag, variable, default", () => {
    const o = parseServerOptions(["--codex", "/bin/codex", "--root=/r"], { CODEX_SUBAGENTS_TIMEOUT: "60", CODEX_SUBAGENTS_MAX_DEPTH: "" }, "/w");
    expect(o.sources).toMatchObject({ codex: "--codex", roots: "--root", timeoutS: "CODEX_SUBAGENTS_TIMEOUT", maxDepth: "default", keepRuns: "default" });
  });
  test("the agents directory from the variable is told apart from the flag", () => {
    expect(parseServerOptions([], { CODEX_SUBAGENTS_DIR: "/a" }, "/w").sources.agentsDir).toBe("CODEX_SUBAGENTS_DIR");
    expect(parseServerOptions(["--agents-dir", "/b"], { CODEX_SUBAGENTS_DIR: "/a" }, "/w")).toMatchObject({ agentsDir: "/b", sources: { agentsDir: "--agents-dir" } });
  });
});

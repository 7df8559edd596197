import { describe, expect, test } from "bun:test";
import { parseServerOptions } from "../../src/config.ts";
import { UsageError } from "../../src/errors.ts";
import { Limiter } from "../../src/limiter.ts";

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

describe("limiter", () => {
  test("never more than max at once; the rest wait in order", async () => {
    const limiter = new Limiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 7 }, async (_, i) => {
      const release = await limiter.acquire();
      running += 1;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      release();
    }));
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(limiter.active).toBe(0);
  });
  test("a waiting call that is cancelled never takes a slot", async () => {
    const limiter = new Limiter(1);
    const first = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow("cancelled");
    first();
    expect(limiter.active).toBe(0);
    const again = await limiter.acquire();
    expect(limiter.active).toBe(1);
    again();
  });
});

// One result type (src/process/result.ts): exit code, signal and duration reported as data.
import { describe, expect, test } from "bun:test";
import { runProcess } from "../../src/process/index.ts";
import { fixture, minimalEnv, RUNTIME, useTokens } from "./helpers.ts";

const token = useTokens();

describe("result", () => {
  test("an exit code is reported, with both streams and a plausible duration", async () => {
    const t = token("exit");
    const before = performance.now();
    const result = await runProcess(RUNTIME, fixture("exit-code", t, "3"), { env: minimalEnv(), timeoutMs: 30_000, stdout: { maxBytes: 100 }, stderr: { maxBytes: 100 } });
    const wall = performance.now() - before;
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false, truncated: false, spawnError: null });
    expect(result.stdout.bytes.toString()).toBe("out\n");
    expect(result.stderr.bytes.toString()).toBe("err\n");
    expect(Number.isInteger(result.durationMs)).toBe(true);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.durationMs).toBeLessThanOrEqual(Math.ceil(wall) + 1);
  });

  for (const signal of ["SIGKILL", "SIGTERM", "SIGSEGV"] as const) {
    test(`death by ${signal} is reported as that signal, with no exit code`, async () => {
      const t = token(`signal-${signal}`);
      const result = await runProcess(RUNTIME, fixture("dies-by-signal", t, signal), { env: minimalEnv(), timeoutMs: 30_000 });
      expect(result).toMatchObject({ exitCode: null, signal, timedOut: false, cancelled: false, spawnError: null });
    });
  }
});

import { describe, expect, test } from "bun:test";
import { detectDepth, parseDepth } from "../../src/policy/depth.ts";

describe("nesting depth", () => {
  test("own environment first; a garbled value means deep", () => {
    expect(parseDepth(undefined)).toBeNull();
    expect(parseDepth("2")).toBe(2);
    expect(parseDepth("-1")).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseDepth("x")).toBe(Number.MAX_SAFE_INTEGER);
  });

  test("found in an ancestor's environment on Linux when codex did not forward it", async () => {
    const proc: Record<string, string> = {
      "/proc/100/environ": "PATH=/bin\0HOME=/h\0",
      "/proc/100/status": "Name:\tnode\nPPid:\t90\n",
      "/proc/90/environ": "PATH=/bin\0CODEX_SUBAGENTS_DEPTH=1\0",
    };
    const readProc = async (file: string) => {
      if (!(file in proc)) throw new Error("ENOENT");
      return proc[file]!;
    };
    expect(await detectDepth({}, { platform: "linux", ppid: 100, readProc })).toBe(1);
    expect(await detectDepth({ CODEX_SUBAGENTS_DEPTH: "0" }, { platform: "linux", ppid: 100, readProc })).toBe(0);
    expect(await detectDepth({}, { platform: "darwin", ppid: 100, readProc })).toBe(0);
  });

  test("no ancestor carries it: depth 0 (the real process tree of this test)", async () => {
    const env = { ...process.env };
    delete env.CODEX_SUBAGENTS_DEPTH;
    expect(await detectDepth(env)).toBe(0);
  });
});

// build.ts reads its command line with the same helper as the program (src/args.ts); a wrong one exits 64 before any
// work. `--only` without `--release` used to be ignored silently (a full host build ran); now it is refused.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseBuildArgs } from "../../build.ts";
import { UsageError } from "../../src/errors.ts";

const repoRoot = path.resolve(import.meta.dir, "..", "..");
const bun = path.join(repoRoot, "node_modules", ".bin", "bun");

describe("build.ts's command line", () => {
  test("the modes and their options", () => {
    expect(parseBuildArgs([])).toEqual({ mode: null, out: undefined, only: null, entry: undefined });
    expect(parseBuildArgs(["--release", "--only", "a,b", "--out=o"])).toEqual({ mode: "--release", out: "o", only: ["a", "b"], entry: undefined });
    expect(parseBuildArgs(["--check"]).mode).toBe("--check");
  });

  test.each([
    [["--only", "codex-subagents.mjs"], "--only works with --release only"],
    [["--check", "--only", "codex-subagents.mjs"], "--only works with --release only"],
    [["--release", "--check"], "choose one of --release, --check"],
    [["--bogus"], 'unknown argument "--bogus"'],
    [["stray"], 'unknown argument "stray"'],
    [["--out"], "--out needs a value"],
    [["--out", "--release"], "--out needs a value"],
    [["--out", "a", "--out", "b"], "--out was given 2 times"],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseBuildArgs(argv)).toThrow(UsageError);
    expect(() => parseBuildArgs(argv)).toThrow(message);
  });

  test("--only without --release: exit 64, one line on stderr, nothing built", () => {
    const out = mkdtempSync(path.join(tmpdir(), "build-args-"));
    try {
      const run = spawnSync(bun, ["run", "build.ts", "--only", "codex-subagents.mjs", "--out", out], { cwd: repoRoot, encoding: "utf8" });
      expect(run.status).toBe(64);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe("build.ts: error: --only works with --release only; e.g. bun run build.ts --release --only codex-subagents.mjs\n");
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

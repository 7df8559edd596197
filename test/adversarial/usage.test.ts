// Clear errors at start-up: a bad or dangerous server option is refused before any work, with exit 64 (or 2 for a
// directory that does not exist), nothing on stdout (it is the protocol channel), and on stderr the error line that
// names the value, then what to do instead on its hint line.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { serverCommand } from "../helpers/server-command.ts";
import { countBadInput, serverEnv, useScratch } from "./harness.ts";

const scratch = useScratch(import.meta.file);

function runServer(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const { command, args: full } = serverCommand(args);
  const result = spawnSync(command, full, {
    cwd: scratch.root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch.base, ...serverEnv(scratch), ...env },
    input: "",
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("bad server options are refused before any work", () => {
  const usage: Array<[string, string[], Record<string, string>, string]> = [
    ["a sandbox mode that does not exist", ["--max-sandbox", "root"], {}, '"root"'],
    ["a sandbox mode from the environment that does not exist", [], { CODEX_SUBAGENTS_MAX_SANDBOX: "yolo" }, '"yolo"'],
    ["--pass-env with a value instead of a name", ["--pass-env", "TOKEN=abc"], {}, '"TOKEN=abc"'],
    ["a negative timeout", ["--timeout", "-1"], {}, '"-1"'],
    ["a zero concurrency", ["--max-concurrency", "0"], {}, '"0"'],
    ["a depth that is not a number", ["--max-depth", "many"], {}, '"many"'],
    ["an unknown option", ["--dangerously-bypass-approvals-and-sandbox"], {}, '"--dangerously-bypass-approvals-and-sandbox"'],
    ["an option without its value", ["--codex"], {}, "--codex"],
    ["a log level that does not exist", ["--log-level", "verbose"], {}, '"verbose"'],
  ];
  for (const [attack, args, env, named] of usage) {
    test(`exit 64: ${attack}`, async () => {
      countBadInput();
      const result = runServer(args, env);
      expect(result.status).toBe(64);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(named);
      // The error line, and the next step on a hint line when there is one.
      expect(result.stderr).toMatch(/^codex-subagents: error: [^\n]+\n(hint: [^\n]+\n)?$/);
      expect(await readdir(scratch.tmp)).toEqual([]);
    });
  }

  const missing: Array<[string, string[]]> = [
    ["a --root that does not exist", ["--root", "/nonexistent/root"]],
    ["an --agents-dir that does not exist (no silent fallback to other agents)", ["--agents-dir", "/nonexistent/agents"]],
  ];
  for (const [attack, args] of missing) {
    test(`exit 2: ${attack}`, () => {
      countBadInput();
      const result = runServer(args);
      expect(result.status).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toStartWith("codex-subagents: ");
      expect(result.stderr).toContain(path.basename(args[1]!.split("/").pop()!));
    });
  }
});

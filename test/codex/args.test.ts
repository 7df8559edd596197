import { describe, expect, test } from "bun:test";
import { buildCodexArgs, findOversizedArg, tomlString } from "../../src/codex/args.ts";
import type { Agent } from "../../src/agents/schema.ts";

const agent: Agent = { name: "review", file: "review.md", persona: 'Be "careful"\\ now\nline2' };

describe("codex argv", () => {
  test("a first run: settings become real flags, task on stdin (-)", () => {
    const args = buildCodexArgs({
      agent: { ...agent, profile: "ci", sandbox_mode: "read-only", model: "gpt-5", reasoning_effort: "high", approval_policy: "never" },
      workingDir: "/w",
      lastMessageFile: "/t/last.txt",
      outputSchemaFile: "/t/schema.json",
    });
    expect(args).toEqual([
      "--profile", "ci", "--sandbox", "read-only", "--model", "gpt-5", "--cd", "/w",
      "-c", 'model_reasoning_effort="high"', "-c", 'approval_policy="never"',
      "-c", 'developer_instructions="Be \\"careful\\"\\\\ now\\nline2"',
      "--disable", "multi_agent", "--disable", "multi_agent_v2",
      "exec", "--json", "--skip-git-repo-check", "--output-last-message", "/t/last.txt", "--output-schema", "/t/schema.json", "-",
    ]);
  });

  test("resume puts global options before the subcommand and the id after it", () => {
    const args = buildCodexArgs({ agent: { ...agent, sandbox_mode: "workspace-write" }, workingDir: "/w", lastMessageFile: "/l", resumeThreadId: "0199a213-81c0-7800-8aa1-bbab2a035a53" });
    const exec = args.indexOf("exec");
    expect(args.slice(exec, exec + 3)).toEqual(["exec", "resume", "0199a213-81c0-7800-8aa1-bbab2a035a53"]);
    expect(args.indexOf("--sandbox")).toBeLessThan(exec);
    expect(args.indexOf("--cd")).toBeLessThan(exec);
    // Global options: they hold for a resumed thread too.
    expect(args.slice(exec - 4, exec)).toEqual(["--disable", "multi_agent", "--disable", "multi_agent_v2"]);
    expect(args.at(-1)).toBe("-");
  });

  test("the task never appears in argv", () => {
    const args = buildCodexArgs({ agent, workingDir: "/w", lastMessageFile: "/l" });
    expect(args.filter((a) => !a.startsWith("developer_instructions")).join(" ")).not.toContain("careful");
  });

  test("tomlString escapes what TOML forbids raw", () => {
    expect(tomlString("a\u007fb\u0001c")).toBe('"a\\u007fb\\u0001c"');
    expect(tomlString("\ud800x")).toBe('"\ufffdx"');
    expect(tomlString("tab\there")).toBe('"tab\\there"');
    expect(tomlString("emoji 😀 ok")).toBe('"emoji 😀 ok"');
  });

  test("an argument too long for the OS is reported before spawning", () => {
    const args = buildCodexArgs({ agent: { ...agent, persona: "\u0001".repeat(30 * 1024) }, workingDir: "/w", lastMessageFile: "/l" });
    expect(findOversizedArg(args)).toContain("developer_instructions");
    expect(findOversizedArg(buildCodexArgs({ agent, workingDir: "/w", lastMessageFile: "/l" }))).toBeNull();
  });
});

import { describe, expect, test } from "bun:test";
import { buildCodexArgs, buildCodexGlobalArgs, DISABLED_FEATURES, findOversizedArg, reachArgs, tomlString, type CodexReach } from "../../src/codex/args.ts";
import type { Agent } from "../../src/agents/schema.ts";

const agent: Agent = { name: "review", file: "review.md", persona: 'Be "careful"\\ now\nline2' };
const reach: CodexReach = { webSearch: "disabled", network: false, mcpServers: {}, untrustedProjects: [] };
const DISABLES = DISABLED_FEATURES.flatMap((f) => ["--disable", f]);
const REACH_ARGS = ["-c", 'web_search="disabled"', "-c", "sandbox_workspace_write.network_access=false", "-c", "sandbox_workspace_write.writable_roots=[]"];

describe("codex argv", () => {
  test("a first run: settings become real flags, task on stdin (-)", () => {
    const args = buildCodexArgs({
      agent: { ...agent, profile: "ci", sandbox_mode: "read-only", model: "gpt-5", reasoning_effort: "high", approval_policy: "never" },
      workingDir: "/w",
      lastMessageFile: "/t/last.txt",
      outputSchemaFile: "/t/schema.json",
      reach,
    });
    expect(args).toEqual([
      "--profile", "ci", "--sandbox", "read-only", "--model", "gpt-5", "--cd", "/w",
      "-c", 'model_reasoning_effort="high"', "-c", 'approval_policy="never"',
      "-c", 'developer_instructions="Be \\"careful\\"\\\\ now\\nline2"',
      ...REACH_ARGS,
      ...DISABLES,
      "exec", "--json", "--skip-git-repo-check", "--output-last-message", "/t/last.txt", "--ignore-rules", "--output-schema", "/t/schema.json", "-",
    ]);
  });

  test("resume puts global options before the subcommand and the id after it", () => {
    const args = buildCodexArgs({ agent: { ...agent, sandbox_mode: "workspace-write" }, workingDir: "/w", lastMessageFile: "/l", resumeThreadId: "0199a213-81c0-7800-8aa1-bbab2a035a53", reach });
    const exec = args.indexOf("exec");
    expect(args.slice(exec, exec + 3)).toEqual(["exec", "resume", "0199a213-81c0-7800-8aa1-bbab2a035a53"]);
    expect(args.indexOf("--sandbox")).toBeLessThan(exec);
    expect(args.indexOf("--cd")).toBeLessThan(exec);
    // Global options: they hold for a resumed thread too.
    expect(args.slice(exec - DISABLES.length, exec)).toEqual(DISABLES);
    expect(args.slice(0, exec)).toEqual(buildCodexGlobalArgs({ agent: { ...agent, sandbox_mode: "workspace-write" }, workingDir: "/w", lastMessageFile: "/l", reach }));
    expect(args.at(-1)).toBe("-");
  });

  test("the task never appears in argv", () => {
    const args = buildCodexArgs({ agent, workingDir: "/w", lastMessageFile: "/l", reach });
    expect(args.filter((a) => !a.startsWith("developer_instructions")).join(" ")).not.toContain("careful");
  });

  test("reach: every setting said explicitly; servers and projects as inline tables with quoted keys", () => {
    expect(reachArgs(reach)).toEqual(REACH_ARGS);
    expect(reachArgs({ webSearch: "live", network: true, mcpServers: { files: false, "a.b": false, notes: ["echo", "x\"y"] }, untrustedProjects: ["/p", "/p.q/r"] })).toEqual([
      "-c", 'web_search="live"', "-c", "sandbox_workspace_write.network_access=true", "-c", "sandbox_workspace_write.writable_roots=[]",
      "-c", 'mcp_servers={"files"={enabled=false},"a.b"={enabled=false},"notes"={enabled_tools=["echo","x\\"y"]}}',
      "-c", 'projects={"/p"={trust_level="untrusted"},"/p.q/r"={trust_level="untrusted"}}',
    ]);
  });

  test("a model named exec is a value, not the subcommand: the global options are built apart", () => {
    const inv = { agent: { ...agent, model: "exec" }, workingDir: "/w", lastMessageFile: "/l", reach };
    const global = buildCodexGlobalArgs(inv);
    expect(buildCodexArgs(inv).slice(0, global.length)).toEqual(global);
    expect(global).toContain("exec");
  });

  test("tomlString escapes what TOML forbids raw", () => {
    expect(tomlString("a\u007fb\u0001c")).toBe('"a\\u007fb\\u0001c"');
    expect(tomlString("\ud800x")).toBe('"\ufffdx"');
    expect(tomlString("tab\there")).toBe('"tab\\there"');
    expect(tomlString("emoji 😀 ok")).toBe('"emoji 😀 ok"');
  });

  test("an argument too long for the OS is reported before spawning", () => {
    const args = buildCodexArgs({ agent: { ...agent, persona: "\u0001".repeat(30 * 1024) }, workingDir: "/w", lastMessageFile: "/l", reach });
    expect(findOversizedArg(args)?.message).toContain("developer_instructions");
    expect(findOversizedArg(buildCodexArgs({ agent, workingDir: "/w", lastMessageFile: "/l", reach }))).toBeNull();
  });
});

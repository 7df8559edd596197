/** The documented mapping (docs/AGENT-FILES.md), row by row, through the pure parser. */
import { describe, expect, test } from "bun:test";
import { splitToolList } from "../../src/agents/interop.ts";
import { parseCodexRoleAgent, parseMarkdownAgent } from "../../src/agents/parse.ts";
import { summarizeDescription } from "../../src/agents/report.ts";
import { sandboxWithinCeiling } from "../../src/policy/sandbox.ts";

const codes = (r: { issues: { code: string }[] }) => r.issues.map((i) => i.code);
const claude = (front: string, body = "You help.", opts: { inClaudeDir?: boolean } = {}) =>
  parseMarkdownAgent("file-name", "file-name.md", `---\n${front}\n---\n${body}\n`, opts);

describe("format detection", () => {
  test("a Claude-only key makes a .md a Claude Code agent; our keys make it ours; neither: the directory decides", () => {
    expect(claude("name: x\ndescription: d").format).toBe("claude-code");
    expect(claude("tools: Read\ndescription: d").format).toBe("claude-code");
    expect(claude("sandbox_mode: read-only\ndescription: d").format).toBe("codex-subagents");
    expect(claude("description: d").format).toBe("codex-subagents");
    expect(claude("description: d", "x", { inClaudeDir: true }).format).toBe("claude-code");
    expect(parseMarkdownAgent("p", "p.md", "Just a persona.\n", { inClaudeDir: true }).format).toBe("claude-code");
  });

  test("keys of both formats: an error naming both sets", () => {
    const r = claude("name: x\ntools: Read\nsandbox_mode: read-only");
    expect(codes(r)).toEqual(["FORMAT_MIXED"]);
    expect(r.issues[0]!.message).toContain("name, tools");
    expect(r.issues[0]!.message).toContain("sandbox_mode");
    expect(r.agent).toBeUndefined();
  });

  test("YAML that strict parsing refuses: an error naming the line, labelled with the format its keys suggest", () => {
    const r = claude("name: x\ndescription: Use when: the user asks. Examples: <example>a</example>\ntools: Read");
    expect(r.format).toBe("claude-code");
    expect(codes(r)).toEqual(["YAML_ERROR"]);
    expect(r.issues[0]!.message).toContain("line 3 of the file");
  });
});

describe("Claude Code: tools → sandbox", () => {
  test.each([
    ["tools: Read, Grep, Glob", "read-only", []],
    ["tools: [Read, Grep, Glob, LS, WebFetch, WebSearch, NotebookRead, TodoWrite]", "read-only", ["CLAUDE_WEBFETCH"]],
    ["tools:\n  - Read\n  - Edit", "workspace-write", []],
    ["tools: Read, Write", "workspace-write", []],
    ["tools: MultiEdit", "workspace-write", []],
    ["tools: NotebookEdit", "workspace-write", []],
    ["tools: Read Bash", "workspace-write", []],
    ["tools: Bash(git log:*), Read", "workspace-write", ["CLAUDE_TOOL_PATTERN"]],
    ["effort: low", "workspace-write", ["CLAUDE_TOOLS_ABSENT"]],
    ['tools: "*"', "workspace-write", []],
    ["tools: Read, Write\npermissionMode: plan", "read-only", []],
    ["tools: Bash\npermissionMode: bypassPermissions", "danger-full-access", ["CLAUDE_BYPASS_PERMISSIONS"]],
    ["tools: Read\npermissionMode: bypassPermissions", "read-only", []],
    ["tools: Read, Write\npermissionMode: acceptEdits", "workspace-write", []],
    ["tools: Read\npermissionMode: sometimes", "read-only", ["CLAUDE_UNKNOWN_VALUE"]],
    ["disallowedTools: Write, Edit, MultiEdit, NotebookEdit, Bash", "read-only", ["CLAUDE_TOOLS_ABSENT", "CLAUDE_DISALLOWED_TOOLS"]],
    ["tools: Read, Bash\ndisallowedTools: Bash(rm:*)", "workspace-write", ["CLAUDE_DISALLOWED_TOOLS"]],
    ["tools: Read, Task, mcp__gh__issue", "read-only", ["CLAUDE_TOOL_NOT_CARRIED"]],
    ["tools: Read, Teleport", "read-only", ["CLAUDE_TOOL_UNKNOWN"]],
  ])("%s → %s", (front, sandbox, warnings) => {
    const r = claude(`name: a\ndescription: d\n${front}`);
    expect(r.agent?.sandbox_mode).toBe(sandbox as never);
    expect(codes(r)).toEqual(warnings as string[]);
    expect(r.issues.every((i) => i.level === "warning")).toBe(true);
  });

  test("tools split on commas and spaces, but not inside a rule's parentheses", () => {
    expect(splitToolList("Read, Grep,Glob  Bash(npm run test:*)")).toEqual(["Read", "Grep", "Glob", "Bash(npm run test:*)"]);
    expect(splitToolList(["Read, Grep", "Edit"])).toEqual(["Read", "Grep", "Edit"]);
    expect(splitToolList(42)).toBeNull();
  });
});

describe("Claude Code: the other keys", () => {
  test("name from the file wins over the file name, and must match the pattern", () => {
    expect(claude("name: reviewer\ndescription: d\ntools: Read").agent?.name).toBe("reviewer");
    const bad = claude("name: Code Reviewer\ndescription: d\ntools: Read");
    expect(codes(bad)).toEqual(["INVALID_NAME"]);
    expect(bad.issues[0]!.message).toContain("name key");
    expect(claude("description: d\ntools: Read", "x", { inClaudeDir: true }).name).toBe("file-name");
  });

  test("model: inherit, an alias or an id is one warning; effort and isolation map; the rest are warnings with codes", () => {
    for (const model of ["inherit", "sonnet", "opus", "haiku", "claude-opus-4-1"]) {
      const r = claude(`name: a\ndescription: d\ntools: Read\nmodel: ${model}`);
      expect(codes(r)).toEqual(["CLAUDE_MODEL_IGNORED"]);
      expect(r.agent?.model).toBeUndefined();
    }
    const r = claude("name: a\ndescription: d\ntools: Read\neffort: max\nisolation: worktree");
    expect(r.agent).toMatchObject({ reasoning_effort: "xhigh", isolation: "worktree", format: "claude-code" });
    const lost = claude("name: a\ndescription: d\ntools: Read\nmaxTurns: 3\nskills: [a]\nmcpServers: [b]\nhooks: {}\nmemory: user\nbackground: true\ncolor: red\ninitialPrompt: go\nshiny: 1");
    expect(codes(lost)).toEqual(["CLAUDE_MCP_SERVER_UNUSED", "CLAUDE_HOOKS", "CLAUDE_SKILLS", "CLAUDE_MEMORY", "CLAUDE_MAX_TURNS", "CLAUDE_BACKGROUND", "CLAUDE_COLOR", "CLAUDE_INITIAL_PROMPT", "UNKNOWN_KEY"]);
    expect(lost.agent).toBeDefined();
  });

  test("a long multi-line description with <example> blocks loads as written; listings show a cut", () => {
    const long = `Use this agent to review code after a change.\n\n${"<example>\nuser: review\nassistant: ok\n</example>\n".repeat(20)}`;
    const r = claude(`name: a\ntools: Read\ndescription: |\n${long.split("\n").map((l) => `  ${l}`).join("\n")}`);
    expect(r.issues).toEqual([]);
    expect(r.agent?.description).toContain("<example>");
    expect(summarizeDescription(r.agent?.description)).toBe("Use this agent to review code after a change.");
    expect(summarizeDescription("x ".repeat(400))!.length).toBeLessThanOrEqual(301);
    expect(summarizeDescription("A one-line description of ours.")).toBe("A one-line description of ours.");
    expect(summarizeDescription('Plain scalar with literal escapes\\n\\n<example>x</example>')).toBe("Plain scalar with literal escapes");
  });

  test("missing description is a warning; a body-less file an error", () => {
    expect(codes(claude("name: a\ntools: Read"))).toEqual(["MISSING_DESCRIPTION"]);
    expect(codes(claude("name: a\ndescription: d\ntools: Read", ""))).toEqual(["EMPTY_PERSONA"]);
  });
});

describe("Codex role files", () => {
  const role = (text: string) => parseCodexRoleAgent("file-name", "file-name.toml", text);

  test("role keys map one to one; developer_instructions is the persona; name wins", () => {
    const r = role('name = "rev"\ndescription = "Reviews"\ndeveloper_instructions = """\nYou review.\n"""\nmodel = "gpt-5.3-codex"\nmodel_reasoning_effort = "high"\nsandbox_mode = "workspace-write"\napproval_policy = "never"\n');
    expect(r.issues).toEqual([]);
    expect(r.agent).toMatchObject({ name: "rev", persona: "You review.", model: "gpt-5.3-codex", reasoning_effort: "high", sandbox_mode: "workspace-write", approval_policy: "never", format: "codex-role" });
  });

  test("any other Codex config key is not passed, with a warning naming it", () => {
    const r = role('description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "read-only"\nmodel_provider = "evil"\n[shell_environment_policy]\ninherit = "all"\n');
    expect(r.issues.map((i) => [i.code, i.field])).toEqual([["CODEX_KEY_NOT_PASSED", "model_provider"], ["CODEX_KEY_NOT_PASSED", "shell_environment_policy"]]);
    expect(r.agent).not.toHaveProperty("mcp_servers");
    expect(r.name).toBe("file-name");
  });

  test("a role that defines an MCP server (command, url) is refused: an error, the agent cannot be used", () => {
    for (const table of ['[mcp_servers.x]\ncommand = "sh"', '[mcp_servers.x]\nurl = "https://example.invalid/mcp"\nenabled = true']) {
      const r = role(`description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "read-only"\n${table}\n`);
      expect(r.issues.map((i) => [i.level, i.code, i.field])).toEqual([["error", "CODEX_MCP_SERVER_DEFINED", "mcp_servers.x"]]);
      expect(r.agent).toBeUndefined();
    }
  });

  test("no sandbox_mode: read-only, said explicitly; bad values are errors; no instructions is an error", () => {
    const r = role('description = "d"\ndeveloper_instructions = "x"');
    expect(r.agent?.sandbox_mode).toBe("read-only");
    expect(codes(r)).toEqual(["CODEX_SANDBOX_DEFAULT"]);
    expect(codes(role('description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "yolo"'))).toEqual(["INVALID_VALUE"]);
    expect(codes(role('description = "d"\nsandbox_mode = "read-only"'))).toEqual(["EMPTY_PERSONA"]);
    expect(codes(role('description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "read-only"\nnickname_candidates = ["A"]'))).toEqual(["CODEX_NICKNAMES"]);
  });

  test("a date, which no role key takes, is an error naming the key and its line", () => {
    const r = role('name = "x"\n\nwhen = 2024-01-01\n');
    expect(codes(r)).toEqual(["TOML_ERROR"]);
    expect(r.issues[0]!.message).toContain("line 3: when holds a date or time");
  });
});

describe("the --max-sandbox ceiling", () => {
  test("own-format agents are refused above it; mapped ones are lowered with a note naming why", () => {
    expect(sandboxWithinCeiling("workspace-write", "read-only", null)).toHaveProperty("refusal");
    const capped = sandboxWithinCeiling("workspace-write", "read-only", { agent: "w", format: "claude-code", from: "tools Edit" });
    expect(capped).toMatchObject({ sandbox: "read-only" });
    expect((capped as { note: string }).note).toContain("tools Edit");
    expect(sandboxWithinCeiling("read-only", "read-only", { agent: "w", format: "claude-code" })).toEqual({ sandbox: "read-only" });
  });
});

describe("grants from other formats (mcp_servers, web_search, network)", () => {
  const role = (text: string) => parseCodexRoleAgent("r", "r.toml", `description = "d"\ndeveloper_instructions = "x"\n${text}`);
  const grantsOf = (r: { agent?: { mcp_servers?: unknown; web_search?: unknown; network?: unknown } }) => ({ mcp_servers: r.agent?.mcp_servers, web_search: r.agent?.web_search, network: r.agent?.network });

  test.each([
    ["tools: Read, mcp__notes__echo\nmcpServers: [notes]", { notes: ["echo"] }, []],
    ["tools: Read, mcp__notes__echo, mcp__notes__shout, mcp__files", { notes: ["echo", "shout"], files: "all" }, []],
    ["tools: Read, mcp__notes__*", { notes: "all" }, []],
    ["tools: Read\nmcpServers: [notes]", undefined, ["CLAUDE_MCP_SERVER_UNUSED"]],
    ["tools: '*'\nmcpServers: [notes, files]", { notes: "all", files: "all" }, []],
    ["effort: low\nmcpServers: [notes]", { notes: "all" }, ["CLAUDE_TOOLS_ABSENT"]],
    ["tools: Read, mcp__notes__echo, mcp__notes__shout\ndisallowedTools: mcp__notes__shout", { notes: ["echo"] }, ["CLAUDE_DISALLOWED_TOOLS"]],
    ["tools: Read, mcp__notes\ndisallowedTools: mcp__notes__shout", undefined, ["CLAUDE_DISALLOWED_TOOLS", "CLAUDE_MCP_DISALLOWED_TOOL"]],
    ["tools: Read, mcp__-bad__x", undefined, ["CLAUDE_MCP_TOOL_INVALID"]],
  ])("Claude %j → mcp_servers %j", (front, mcp, warnings) => {
    const r = claude(`name: a\ndescription: d\n${front}`);
    expect(r.agent?.mcp_servers).toEqual(mcp as never);
    expect(codes(r)).toEqual(warnings as string[]);
  });

  test("Claude mcpServers: an inline definition is an error with a code; so is an entry that is not a name", () => {
    const inline = claude("name: a\ndescription: d\ntools: Read\nmcpServers:\n  - notes\n  - evil:\n      command: sh\n      args: [-c, id]");
    expect(inline.issues.map((i) => [i.level, i.code, i.field])).toEqual([["error", "CLAUDE_MCP_SERVER_DEFINED", "mcpServers"], ["warning", "CLAUDE_MCP_SERVER_UNUSED", "mcpServers"]]);
    expect(inline.issues[0]!.message).toContain('"evil"');
    expect(inline.agent).toBeUndefined();
    expect(codes(claude("name: a\ndescription: d\ntools: Read\nmcpServers:\n  evil:\n    command: sh"))).toEqual(["CLAUDE_MCP_SERVER_DEFINED"]);
    expect(codes(claude("name: a\ndescription: d\ntools: Read\nmcpServers: [42]"))).toEqual(["INVALID_VALUE"]);
  });

  test("Claude WebSearch (and every tool) maps to web_search cached; without it, none", () => {
    expect(claude("name: a\ndescription: d\ntools: Read, WebSearch").agent?.web_search).toBe("cached");
    expect(claude("name: a\ndescription: d").agent?.web_search).toBe("cached");
    expect(claude("name: a\ndescription: d\ntools: Read").agent?.web_search).toBeUndefined();
    expect(claude("name: a\ndescription: d\ntools: Read, WebSearch\ndisallowedTools: WebSearch").agent?.web_search).toBeUndefined();
  });

  test("Codex role: enabled = true grants a server whole, enabled_tools those tools, enabled = false nothing", () => {
    const r = role('sandbox_mode = "workspace-write"\nweb_search = "live"\n[mcp_servers.notes]\nenabled_tools = ["echo"]\n[mcp_servers.files]\nenabled = true\n[mcp_servers.off]\nenabled = false\n[sandbox_workspace_write]\nnetwork_access = true\n');
    expect(r.issues).toEqual([]);
    expect(grantsOf(r)).toEqual({ mcp_servers: { notes: ["echo"], files: "all" }, web_search: "live", network: true });
  });

  test("Codex role: what cannot be granted is said, never passed", () => {
    const r = role('[mcp_servers.notes]\ntool_timeout_sec = 5\n[mcp_servers.files]\nenabled_tools = []\n[sandbox_workspace_write]\nnetwork_access = true\nwritable_roots = ["/"]\n');
    expect(r.issues.map((i) => `${i.code}:${i.field}`)).toEqual([
      "CODEX_SANDBOX_DEFAULT:sandbox_mode", "CODEX_KEY_NOT_PASSED:mcp_servers.notes.tool_timeout_sec", "CODEX_MCP_NOT_GRANTED:mcp_servers.notes",
      "CODEX_MCP_NOT_GRANTED:mcp_servers.files", "CODEX_KEY_NOT_PASSED:sandbox_workspace_write.writable_roots", "CODEX_NETWORK_NOT_CARRIED:sandbox_workspace_write.network_access",
    ]);
    expect(grantsOf(r)).toEqual({ mcp_servers: undefined, web_search: undefined, network: undefined });
    expect(codes(role('web_search = "sometimes"'))).toContain("INVALID_VALUE");
  });
});

/** The documented mapping (docs/AGENT-FILES.md), row by row, through the pure parser: a Claude Code tools list. */
import { describe, expect, test } from "bun:test";
import { splitToolList } from "../../src/agents/claude-tools.ts";
import { claude, codes } from "./helpers.ts";

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

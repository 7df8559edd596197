/** The documented mapping (docs/AGENT-FILES.md), row by row, through the pure parser: a Claude Code agent's grants. */
import { describe, expect, test } from "bun:test";
import { claude, codes } from "./helpers.ts";

describe("grants from other formats (mcp_servers, web_search, network)", () => {
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
});

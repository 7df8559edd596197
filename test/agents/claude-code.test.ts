/** The documented mapping (docs/AGENT-FILES.md), row by row, through the pure parser: a Claude Code agent's keys. */
import { describe, expect, test } from "bun:test";
import { summarizeDescription } from "../../src/agents/report.ts";
import { claude, codes } from "./helpers.ts";

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

/** The documented mapping (docs/AGENT-FILES.md), row by row, through the pure parser: telling the formats apart. */
import { describe, expect, test } from "bun:test";
import { parseMarkdownAgent } from "../../src/agents/parse.ts";
import { sandboxWithinCeiling } from "../../src/policy/sandbox.ts";
import { claude, codes } from "./helpers.ts";

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

describe("the --max-sandbox ceiling", () => {
  test("own-format agents are refused above it; mapped ones are lowered with a note naming why", () => {
    expect(sandboxWithinCeiling("workspace-write", "read-only", null)).toHaveProperty("refusal");
    const capped = sandboxWithinCeiling("workspace-write", "read-only", { agent: "w", format: "claude-code", from: "tools Edit" });
    expect(capped).toMatchObject({ sandbox: "read-only" });
    expect((capped as { note: string }).note).toContain("tools Edit");
    expect(sandboxWithinCeiling("read-only", "read-only", { agent: "w", format: "claude-code" })).toEqual({ sandbox: "read-only" });
  });
});

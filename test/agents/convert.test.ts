/** The pure renderer behind `convert`: its output is a clean agent of this server's own format with the same meaning. */
import { describe, expect, test } from "bun:test";
import { renderConverted } from "../../src/agents/convert.ts";
import { parseCodexRoleAgent, parseMarkdownAgent } from "../../src/agents/parse.ts";
import type { Agent, AgentFileResult } from "../../src/agents/schema.ts";

/** Converts a parsed agent and parses the output again, which must be a clean agent: no issues at all. */
function roundTrip(result: AgentFileResult) {
  expect(result.agent).toBeDefined();
  const text = renderConverted(result as AgentFileResult & { agent: Agent }, result.file);
  const again = parseMarkdownAgent(result.name, `${result.name}.md`, text);
  expect(again.issues).toEqual([]);
  return { text, again };
}

describe("renderConverted", () => {
  test("a Claude Code agent: same persona and mapped settings, no issues, the lost keys as comments", () => {
    const source = parseMarkdownAgent("w", "w.md", '---\nname: writer\ndescription: "Writes.\\n<example>x</example>"\ntools: Read, Edit\neffort: max\nisolation: worktree\ncolor: red\nmodel: opus\n---\nYou write: "quotes" and \\\\ backslashes, ünïcödé.\n');
    const { text, again } = roundTrip(source);
    expect(again.format).toBe("codex-subagents");
    expect(again.agent).toMatchObject({ name: "writer", description: "Writes.", sandbox_mode: "workspace-write", reasoning_effort: "xhigh", isolation: "worktree", persona: source.agent!.persona });
    expect(again.agent?.model).toBeUndefined();
    expect(text).toContain("#   CLAUDE_COLOR [color]:");
    expect(text).toContain("#   CLAUDE_MODEL_IGNORED [model]:");
  });

  test("a role file: model and approval policy carried, the description joined to one line", () => {
    const source = parseCodexRoleAgent("r", "r.toml", 'name = "r"\ndescription = """\nTwo\nlines"""\ndeveloper_instructions = "Go."\nmodel = "1.5"\napproval_policy = "never"\nsandbox_mode = "read-only"\n');
    const { text, again } = roundTrip(source);
    expect(again.agent).toMatchObject({ description: "Two lines", model: "1.5", approval_policy: "never", sandbox_mode: "read-only" });
    expect(text).toContain("# description: put on one line.");
    expect(text).toContain("# Not carried over: nothing.");
  });

  test("a description of nothing but examples is left out, and the comment says to write one", () => {
    const source = parseMarkdownAgent("e", "e.md", "---\nname: e\ndescription: <example>only</example>\ntools: Read\n---\nYou.\n");
    const { text, again } = roundTrip(source);
    expect(again.agent?.description).toBeUndefined();
    expect(text).toContain("write a one-line description");
  });
});

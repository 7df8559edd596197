/**
 * What codex is told about each MCP server it declares for a run: the per-server overrides built from `codex mcp list`
 * and the grants, without codex. The proof with the real codex is test/adversarial/capabilities.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { parseMcpGet, type McpServerEntry } from "../../src/codex/mcp-servers.ts";
import { mcpReach, settleReach } from "../../src/delegation/reach.ts";
import { requestedGrants } from "../../src/policy/capabilities.ts";

const entry = (name: string, enabled = true): McpServerEntry => ({ name, enabled, transport: { type: "stdio", command: "/bin/true" } });

describe("what codex is told about each server it declares", () => {
  test("every server not granted is switched off; a tool list becomes enabled_tools; a granted whole server is left as it is", () => {
    const r = mcpReach([entry("notes"), entry("files"), entry("a.b"), entry("sp ace")], { notes: ["echo"], files: "all" }, { notes: { enabledTools: null, disabledTools: [] } }, "x");
    expect(r.settings).toEqual({ notes: ["echo"], "a.b": false, "sp ace": false });
    expect(r.granted).toEqual({ notes: ["echo"], files: "all" });
    expect(r.notes).toEqual([]);
  });

  test("a grant never widens the user's own limits, and an undeclared or switched-off server is a note", () => {
    const r = mcpReach([entry("notes"), entry("off", false), entry("tight")], { notes: ["echo", "shout"], off: "all", tight: ["x"], gone: "all" }, {
      notes: { enabledTools: ["echo", "other"], disabledTools: [] },
      tight: { enabledTools: null, disabledTools: ["x"] },
    }, "x");
    expect(r.settings).toEqual({ notes: ["echo"], off: false, tight: false });
    expect(r.granted).toEqual({ notes: ["echo"] });
    expect(r.notes).toEqual([
      'your codex config does not offer "shout" of the MCP server "notes" (its enabled_tools / disabled_tools), so agent "x" ran without it',
      'agent "x" is granted the MCP server "off", but your codex config keeps it switched off (enabled = false); it ran without',
      'your codex config does not offer "x" of the MCP server "tight" (its enabled_tools / disabled_tools), so agent "x" ran without it',
      'agent "x" is granted the MCP server "gone" (all its tools), but your codex config declares no server of that name for this run (config.toml, its profile, the project\'s .codex layers); it ran without. codex mcp list shows what is declared',
    ]);
  });

  test("a name like constructor or __proto__ is just a name", () => {
    const r = mcpReach([entry("constructor"), entry("toString")], {}, {}, "x");
    expect(r.settings).toEqual({ constructor: false, toString: false } as Record<string, false>);
    expect(r.granted).toEqual({});
  });

  test("codex mcp get --json: its tool limits, or why not", () => {
    expect(parseMcpGet(JSON.stringify({ name: "n", enabled_tools: ["a"], disabled_tools: null }))).toEqual({ enabledTools: ["a"], disabledTools: [] });
    expect(parseMcpGet("nope")).toHaveProperty("problem");
  });

  test("a codex that cannot list its servers refuses the run, saying how to see why", async () => {
    const refused = await settleReach({
      codexPath: "/c", grants: requestedGrants({}), sourceDir: "/", env: {}, writers: [], tmpDirs: [],
      invocation: { agent: { name: "a", file: "a.md", persona: "p", sandbox_mode: "read-only" }, workingDir: "/", lastMessageFile: "/l" },
      probes: { list: async () => ({ problem: "codex exited with 1 when asked to list its MCP servers: bad config" }), get: async () => ({ problem: "unused" }) },
    }).then(() => null, (e: Error & { hint?: string }) => e);
    expect(refused?.message).toContain("could not learn which MCP servers codex would start for this run, so none of them could be switched off; nothing ran: codex exited with 1");
    expect(refused?.hint).toContain("codex mcp list --json");
  });
});

/**
 * Capabilities without codex: the server's ceilings (options, refuse or cap) and what else shows a sub-agent's
 * capabilities. The agent keys are in test/agents/grants.test.ts, what codex is told about each server in
 * test/delegation/reach.test.ts, the planted-layer rule in test/codex/project-layers.test.ts; the proof with the real
 * codex is test/adversarial/capabilities.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { EMBEDDED_AGENTS } from "../../src/agents/embedded.ts";
import { loadRegistry } from "../../src/agents/registry.ts";
import { listReport } from "../../src/agents/report.ts";
import { parseServerOptions } from "../../src/config.ts";
import { UsageError } from "../../src/errors.ts";
import { codexLayerPaths } from "../../src/delegation/outcome.ts";
import { DEFAULT_CEILINGS, grantsWithinCeilings, networkForSandbox, plannedCapabilities, requestedGrants } from "../../src/policy/capabilities.ts";

describe("the ceilings", () => {
  test("options: --allow-mcp repeatable or a comma list, * for all; --max-web-search; --allow-network a switch", () => {
    const defaults = parseServerOptions([], {}, "/w");
    expect({ allowMcp: defaults.allowMcp, maxWebSearch: defaults.maxWebSearch, allowNetwork: defaults.allowNetwork }).toEqual(DEFAULT_CEILINGS as never);
    expect(parseServerOptions(["--allow-mcp", "notes", "--allow-mcp=files", "--allow-network", "--max-web-search", "live"], {}, "/w")).toMatchObject({ allowMcp: ["notes", "files"], allowNetwork: true, maxWebSearch: "live" });
    expect(parseServerOptions([], { CODEX_SUBAGENTS_ALLOW_MCP: "notes, files", CODEX_SUBAGENTS_ALLOW_NETWORK: "1", CODEX_SUBAGENTS_MAX_WEB_SEARCH: "disabled" }, "/w")).toMatchObject({ allowMcp: ["notes", "files"], allowNetwork: true, maxWebSearch: "disabled" });
    expect(parseServerOptions([], { CODEX_SUBAGENTS_ALLOW_MCP: "*", CODEX_SUBAGENTS_ALLOW_NETWORK: "false" }, "/w")).toMatchObject({ allowMcp: ["*"], allowNetwork: false });
    for (const [argv, env, message] of [
      [["--allow-network=1"], {}, "--allow-network takes no value"],
      [["--allow-mcp", "bad name"], {}, '--allow-mcp "bad name" is not an MCP server name'],
      [["--max-web-search", "always"], {}, '--max-web-search "always" is not a web search mode'],
      [[], { CODEX_SUBAGENTS_ALLOW_NETWORK: "maybe" }, 'CODEX_SUBAGENTS_ALLOW_NETWORK "maybe" is not a yes or no'],
      [["--allow-network", "--allow-network"], {}, "--allow-network was given 2 times"],
    ] as const) {
      expect(() => parseServerOptions([...argv], env, "/w")).toThrow(UsageError);
      expect(() => parseServerOptions([...argv], env, "/w")).toThrow(message);
    }
  });

  const asks = requestedGrants({ mcp_servers: { notes: ["echo"], files: "all" }, web_search: "live", network: true });
  test("this server's own format is refused above any ceiling, naming every flag that would allow it", () => {
    const r = grantsWithinCeilings(asks, { allowMcp: ["notes"], maxWebSearch: "cached", allowNetwork: false }, null);
    expect("refusal" in r && r.refusal).toEqual({
      message: 'the MCP server "files" (all its tools), web_search "live" (the limit is "cached"), network: true are above what this server allows',
      hint: "remove them from the agent, or restart the server with --allow-mcp files --max-web-search live --allow-network",
    });
    expect(grantsWithinCeilings(asks, { allowMcp: ["*"], maxWebSearch: "live", allowNetwork: true }, null)).toEqual({ grants: asks, notes: [] });
  });

  test("a mapped agent is capped instead, one note per grant it loses", () => {
    const r = grantsWithinCeilings(asks, DEFAULT_CEILINGS, { agent: "c", format: "claude-code" });
    expect(r).toMatchObject({ grants: { mcp_servers: {}, web_search: "cached", network: false } });
    expect("notes" in r && r.notes.length).toBe(4);
  });

  test("network follows the sandbox the run got; danger-full-access shows it, whatever was granted", () => {
    expect(networkForSandbox(true, "read-only", "a")).toMatchObject({ network: false, note: expect.stringContaining("read-only") });
    expect(networkForSandbox(true, "workspace-write", "a")).toEqual({ network: true });
    expect(plannedCapabilities("danger-full-access", requestedGrants({})).network).toBe(true);
    expect(plannedCapabilities("read-only", requestedGrants({}))).toEqual({ sandbox: "read-only", network: false, web_search: "disabled", mcp_servers: {} });
  });
});

describe("what else is visible", () => {
  test("a worktree patch's .codex files are named (any depth), nothing else is", () => {
    const patch = ["a.txt", ".codex/config.toml", "sub/.codex/rules/x.rules", "docs/.codexrc", "x/.codex"].map((f) => `diff --git a/${f} b/${f}\nnew file mode 100644\n`).join("");
    expect(codexLayerPaths(patch)).toEqual([".codex/config.toml", "sub/.codex/rules/x.rules"]);
    expect(codexLayerPaths("")).toEqual([]);
  });

  test("the starter agents grant nothing", async () => {
    const registry = await loadRegistry({ dir: null, source: "embedded", foundBy: "test" }, EMBEDDED_AGENTS);
    const report = listReport(registry.location, registry.files);
    expect(report.agents.length).toBeGreaterThan(0);
    for (const agent of report.agents) expect({ ...agent.capabilities, sandbox: "any" }).toEqual({ sandbox: "any", network: false, web_search: "disabled", mcp_servers: {} });
  });
});

/**
 * Pure: a Claude Code agent's MCP servers and tools (`mcpServers`, the `mcp__…` entries of `tools`) and `WebSearch`,
 * as grants of this server's own kind (`mcp_servers`, `web_search`), capped later by the server's ceilings.
 */
import { MCP_SERVER_NAME_PATTERN, MCP_TOOL_NAME_PATTERN, type McpGrant } from "../policy/capabilities.ts";
import { type ClaudeToolLists, toolName } from "./claude-tools.ts";
import { quote, warn } from "./interop.ts";
import type { AgentIssue, AgentSettings } from "./schema.ts";

/** An `mcp__<server>` or `mcp__<server>__<tool>` entry of a Claude tools list → the server and tool ("*": all). */
export function parseClaudeMcpTool(entry: string): { server: string; tool: string } | null {
  const rest = entry.slice("mcp__".length);
  const split = rest.indexOf("__");
  const server = split === -1 ? rest : rest.slice(0, split);
  const tool = split === -1 ? "*" : rest.slice(split + 2);
  if (!MCP_SERVER_NAME_PATTERN.test(server) || (tool !== "*" && !MCP_TOOL_NAME_PATTERN.test(tool))) return null;
  return { server, tool };
}

/**
 * Claude `mcpServers`: a list whose entries either name a server already configured (a string) or define one inline
 * (`{ name: { command, … } }`). Names become grants; a definition is an error.
 * Security: a definition in an agent file is a program the file would have us start outside every sandbox; it is
 * never started, and the agent cannot be used until it is removed (its author expected that server to be there).
 */
function claudeMcpServerNames(value: unknown, issues: AgentIssue[]): string[] {
  if (value === undefined) return [];
  const entries: unknown[] = Array.isArray(value) ? value : [value];
  const names: string[] = [];
  for (const entry of entries) {
    if (typeof entry === "string" && MCP_SERVER_NAME_PATTERN.test(entry)) names.push(entry);
    else if (entry !== null && typeof entry === "object" && !Array.isArray(entry)) {
      issues.push({
        level: "error", code: "CLAUDE_MCP_SERVER_DEFINED", field: "mcpServers",
        message: `mcpServers defines ${Object.keys(entry).map((k) => `"${k}"`).join(", ") || "a server"} inline; a server an agent file defines is never started (it would run outside every sandbox). Add it to your codex config.toml (codex mcp add NAME -- COMMAND) and list just its name here`,
      });
    } else {
      issues.push({ level: "error", code: "INVALID_VALUE", field: "mcpServers", message: `mcpServers entry ${quote(entry)} is not valid; give the names of servers in your codex config (letters, digits, _ . -)` });
    }
  }
  return names;
}

/**
 * Claude `mcpServers`, the MCP entries of `tools` and `WebSearch` → `mcp_servers` and `web_search` grants.
 * With a tools list, only the MCP tools it names are granted (`mcp__notes__echo` one tool, `mcp__notes` all of them),
 * as in Claude Code; without one (or with `*`) every server named in mcpServers is granted whole. Claude Code would
 * also hand such an agent every MCP server of the session; here it gets only those it names. `WebSearch` (also implied
 * by "every tool") becomes web_search "cached": search results from the index, no live page fetches, which is what
 * the default --max-web-search allows.
 */
export function claudeGrants(raw: Record<string, unknown>, lists: ClaudeToolLists, issues: AgentIssue[]): Pick<AgentSettings, "mcp_servers" | "web_search"> {
  const named = claudeMcpServerNames(raw.mcpServers, issues);
  const { tools } = lists;
  if (tools === null) return {};
  const disallowed = (lists.disallowed ?? []).map(toolName);
  const everyTool = tools === undefined || tools.includes("*");
  const granted = new Map<string, "all" | Set<string>>();
  if (everyTool) for (const name of named) granted.set(name, "all");
  else {
    for (const entry of tools.map(toolName).filter((t) => t.startsWith("mcp__"))) {
      const parsed = parseClaudeMcpTool(entry);
      if (!parsed) {
        issues.push(warn("CLAUDE_MCP_TOOL_INVALID", "tools", `${entry} does not name an MCP server (and tool) this server can grant (names: letters, digits, _ . -); it is not granted`));
        continue;
      }
      const held = granted.get(parsed.server);
      if (parsed.tool === "*") granted.set(parsed.server, "all");
      else if (held !== "all") granted.set(parsed.server, new Set([...(held ?? []), parsed.tool]));
    }
    for (const name of named.filter((n) => !granted.has(n))) {
      issues.push(warn("CLAUDE_MCP_SERVER_UNUSED", "mcpServers", `"${name}" is in mcpServers, but tools names none of its tools (mcp__${name}__TOOL, or mcp__${name} for all), so it is not granted`));
    }
  }
  for (const entry of disallowed.filter((t) => t.startsWith("mcp__"))) {
    const parsed = parseClaudeMcpTool(entry);
    const held = parsed ? granted.get(parsed.server) : undefined;
    if (!parsed || held === undefined) continue;
    if (parsed.tool === "*") granted.delete(parsed.server);
    else if (held === "all") {
      // Codex can only be told which tools to offer; "all but one" of a server whose tools we do not know is not
      // expressible, so the server is not granted rather than granted whole.
      granted.delete(parsed.server);
      issues.push(warn("CLAUDE_MCP_DISALLOWED_TOOL", "disallowedTools", `${entry} would leave "${parsed.server}" granted all but one tool, which cannot be said to codex without knowing its tools; the server is not granted: list the tools it may use in tools (mcp__${parsed.server}__TOOL)`));
    } else {
      held.delete(parsed.tool);
      if (held.size === 0) granted.delete(parsed.server);
    }
  }
  const out: Pick<AgentSettings, "mcp_servers" | "web_search"> = {};
  if (granted.size > 0) out.mcp_servers = Object.fromEntries([...granted].map(([name, grant]): [string, McpGrant] => [name, grant === "all" ? "all" : [...grant]]));
  if ((everyTool || tools.map(toolName).includes("WebSearch")) && !disallowed.includes("WebSearch")) out.web_search = "cached";
  return out;
}

/**
 * Pure: a Codex role file's grants (`[mcp_servers.NAME]`, `web_search`, `[sandbox_workspace_write] network_access`)
 * as grants of this server's own kind, capped later by the server's ceilings. A role may grant a server of the user's
 * codex config; it may never define one.
 */
import { MCP_SERVER_NAME_PATTERN, MCP_TOOL_NAME_PATTERN, WEB_SEARCH_MODES, type McpGrant } from "../policy/capabilities.ts";
import type { SandboxMode } from "../policy/sandbox.ts";
import { quote, warn } from "./interop.ts";
import { settingSchemas, type AgentIssue, type AgentSettings } from "./schema.ts";

/** The role keys read as grants (roleGrants). */
export const ROLE_GRANT_KEYS = ["mcp_servers", "web_search", "sandbox_workspace_write"] as const;
/** Keys of an `[mcp_servers.NAME]` table that define a server (a program to start, or an address to reach). */
const MCP_DEFINITION_KEYS = [
  "command", "args", "env", "env_vars", "cwd", "url", "bearer_token", "bearer_token_env_var", "http_headers", "env_http_headers", "transport", "type",
];

const isTable = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * A role's `[mcp_servers.NAME]` tables: `enabled = true` grants the server whole, `enabled_tools = [...]` only those
 * tools (both name a server of the user's codex config). A table that defines a server (`command`, `url`, …) is an
 * error: the role would have codex start a program of its own choosing outside every sandbox.
 */
function roleMcpGrants(value: unknown, issues: AgentIssue[]): Record<string, McpGrant> | undefined {
  if (!isTable(value)) {
    issues.push({ level: "error", code: "INVALID_VALUE", field: "mcp_servers", message: "mcp_servers must be tables [mcp_servers.NAME] with enabled = true or enabled_tools = [...]" });
    return undefined;
  }
  const grants: Record<string, McpGrant> = {};
  for (const [name, entry] of Object.entries(value)) {
    const field = `mcp_servers.${name}`;
    if (!isTable(entry)) {
      issues.push({ level: "error", code: "INVALID_VALUE", field, message: `${field} must be a table with enabled = true or enabled_tools = [...]` });
      continue;
    }
    const defining = Object.keys(entry).filter((k) => MCP_DEFINITION_KEYS.includes(k));
    if (defining.length > 0) {
      issues.push({
        level: "error", code: "CODEX_MCP_SERVER_DEFINED", field,
        message: `${field} defines a server (${defining.join(", ")}); a server a role file defines is never started (it would run outside every sandbox). Add it to your codex config.toml and keep only enabled = true or enabled_tools = [...] here`,
      });
      continue;
    }
    if (!MCP_SERVER_NAME_PATTERN.test(name)) {
      issues.push({ level: "error", code: "INVALID_VALUE", field, message: `server name "${name}" cannot be granted; use letters, digits, _ . -` });
      continue;
    }
    const { enabled, enabled_tools: tools } = entry;
    for (const key of Object.keys(entry).filter((k) => k !== "enabled" && k !== "enabled_tools")) {
      issues.push(warn("CODEX_KEY_NOT_PASSED", `${field}.${key}`, `"${key}" of ${field} is not passed to codex: a role may grant a server (enabled, enabled_tools), not change its settings`));
    }
    if (enabled !== undefined && typeof enabled !== "boolean") {
      issues.push({ level: "error", code: "INVALID_VALUE", field: `${field}.enabled`, message: `${field}.enabled must be true or false` });
      continue;
    }
    if (tools !== undefined && !(Array.isArray(tools) && tools.every((t) => typeof t === "string" && MCP_TOOL_NAME_PATTERN.test(t)))) {
      issues.push({ level: "error", code: "INVALID_VALUE", field: `${field}.enabled_tools`, message: `${field}.enabled_tools must be a list of tool names` });
      continue;
    }
    if (enabled === false) continue;
    if (Array.isArray(tools)) {
      if (tools.length > 0) grants[name] = [...new Set(tools as string[])];
      else issues.push(warn("CODEX_MCP_NOT_GRANTED", field, `${field} has enabled_tools = [], so the server is not granted`));
    } else if (enabled === true) grants[name] = "all";
    else issues.push(warn("CODEX_MCP_NOT_GRANTED", field, `${field} says neither enabled = true nor enabled_tools = [...], so the server is not granted`));
  }
  return Object.keys(grants).length > 0 ? grants : undefined;
}

/** A role's grants: `[mcp_servers.NAME]`, `web_search`, and `[sandbox_workspace_write] network_access`. */
export function roleGrants(raw: Record<string, unknown>, sandbox: SandboxMode, issues: AgentIssue[]): Pick<AgentSettings, "mcp_servers" | "web_search" | "network"> {
  const out: Pick<AgentSettings, "mcp_servers" | "web_search" | "network"> = {};
  if (raw.mcp_servers !== undefined) {
    const grants = roleMcpGrants(raw.mcp_servers, issues);
    if (grants) out.mcp_servers = grants;
  }
  if (raw.web_search !== undefined) {
    const parsed = settingSchemas.web_search.safeParse(raw.web_search);
    if (parsed.success) out.web_search = parsed.data;
    else issues.push({ level: "error", code: "INVALID_VALUE", field: "web_search", message: `web_search ${quote(raw.web_search)} is not valid; use one of: ${WEB_SEARCH_MODES.join(", ")}` });
  }
  const sww = raw.sandbox_workspace_write;
  if (sww !== undefined) {
    if (!isTable(sww)) {
      issues.push({ level: "error", code: "INVALID_VALUE", field: "sandbox_workspace_write", message: "sandbox_workspace_write must be a table" });
      return out;
    }
    for (const key of Object.keys(sww).filter((k) => k !== "network_access")) {
      issues.push(warn("CODEX_KEY_NOT_PASSED", `sandbox_workspace_write.${key}`, `"${key}" of sandbox_workspace_write is not passed to codex: a sub-agent writes only where it works (and never in writable_roots of any config)`));
    }
    const network = sww.network_access;
    if (network !== undefined && typeof network !== "boolean") {
      issues.push({ level: "error", code: "INVALID_VALUE", field: "sandbox_workspace_write.network_access", message: "sandbox_workspace_write.network_access must be true or false" });
    } else if (network === true && sandbox !== "workspace-write") {
      issues.push(warn("CODEX_NETWORK_NOT_CARRIED", "sandbox_workspace_write.network_access", `network_access = true applies to sandbox_mode = "workspace-write"; this role runs ${sandbox}, so it is not granted`));
    } else if (network === true) out.network = true;
  }
  return out;
}

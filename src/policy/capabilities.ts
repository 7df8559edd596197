/**
 * What a sub-agent may reach beyond its sandbox, and the server's ceilings on it (SECURITY.md "Capabilities a sub-agent
 * inherits"). Pure.
 *
 * Security: an agent file is the whole of what its sub-agent may do. Codex would otherwise hand every sub-agent what the
 * user's own codex configuration holds: every MCP server (each run outside every sandbox, often with the user's
 * tokens), web search, network access for commands and extra writable directories. So a sub-agent gets only what its
 * agent grants (`mcp_servers`, `web_search`, `network`), the server's ceilings (`--allow-mcp`, `--max-web-search`,
 * `--allow-network`) cap every grant, and codex is told all of it explicitly on every run (codex/args.ts `reachArgs`).
 */
import type { RefusalParts } from "../errors.ts";
import type { SandboxMode } from "./sandbox.ts";

export const WEB_SEARCH_MODES = ["disabled", "cached", "live"] as const;
export type WebSearchMode = (typeof WEB_SEARCH_MODES)[number];

/** Web search for an agent that names none. */
export const DEFAULT_WEB_SEARCH: WebSearchMode = "disabled";

/**
 * A server name an agent may grant: what codex itself starts (letters, digits, `_`, `-`; codex 0.171 also `.`), at
 * most 64 characters. Names in the user's config outside this are still switched off; they just cannot be granted.
 */
export const MCP_SERVER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A tool name as MCP servers write them (the MCP spec's recommended characters), at most 128. */
export const MCP_TOOL_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_./-]{0,127}$/;
/** `--allow-mcp '*'`: every server the user's codex configuration declares. */
export const ALL_MCP_SERVERS = "*";

/** One granted server: all of its tools, or only these. */
export type McpGrant = "all" | readonly string[];
/** Granted servers by name. */
export type McpGrants = Readonly<Record<string, McpGrant>>;

/** What a sub-agent has, as the result, the run record and list_agents show it. */
export interface Capabilities {
  sandbox: SandboxMode;
  /** Outbound network for its commands (a workspace-write sandbox with network_access, or no sandbox at all). */
  network: boolean;
  web_search: WebSearchMode;
  mcp_servers: Record<string, "all" | string[]>;
}

/** The server's ceilings on grants (config.ts: --allow-mcp, --max-web-search, --allow-network). */
export interface CapabilityCeilings {
  /** Server names any agent may be granted; `*` allows every one. Empty: none. */
  allowMcp: readonly string[];
  maxWebSearch: WebSearchMode;
  allowNetwork: boolean;
}

/** The ceilings when no option is given: no MCP server, cached web search at most, no network. */
export const DEFAULT_CEILINGS: CapabilityCeilings = { allowMcp: [], maxWebSearch: "cached", allowNetwork: false };

/** What an agent asks for, defaults filled in. */
export interface Grants {
  mcp_servers: McpGrants;
  web_search: WebSearchMode;
  network: boolean;
}

export function webSearchRank(mode: WebSearchMode): number {
  return WEB_SEARCH_MODES.indexOf(mode);
}

/** The grants an agent's settings ask for (nothing when it names none). */
export function requestedGrants(settings: { mcp_servers?: McpGrants; web_search?: WebSearchMode; network?: boolean }): Grants {
  return { mcp_servers: settings.mcp_servers ?? {}, web_search: settings.web_search ?? DEFAULT_WEB_SEARCH, network: settings.network ?? false };
}

/** `["echo"]` and `"all"` as people read them. */
export function describeGrant(name: string, grant: McpGrant): string {
  return grant === "all" ? `"${name}" (all its tools)` : `"${name}" (${grant.map((t) => `"${t}"`).join(", ")})`;
}

/** Whether --allow-mcp lets an agent have the MCP server `name` (by its name, or all of them with "*"). */
export function mcpAllowed(name: string, ceilings: CapabilityCeilings): boolean {
  return ceilings.allowMcp.includes(ALL_MCP_SERVERS) || ceilings.allowMcp.includes(name);
}

/** Each grant above a ceiling: what it asks, and the flag that would allow it. */
function grantsAboveCeilings(grants: Grants, ceilings: CapabilityCeilings): Array<{ what: string; flag: string; drop: (g: Grants) => Grants }> {
  const above: Array<{ what: string; flag: string; drop: (g: Grants) => Grants }> = [];
  for (const [name, grant] of Object.entries(grants.mcp_servers)) {
    if (mcpAllowed(name, ceilings)) continue;
    above.push({
      what: `the MCP server ${describeGrant(name, grant)}`,
      flag: `--allow-mcp ${name}`,
      drop: (g) => ({ ...g, mcp_servers: Object.fromEntries(Object.entries(g.mcp_servers).filter(([n]) => n !== name)) }),
    });
  }
  if (webSearchRank(grants.web_search) > webSearchRank(ceilings.maxWebSearch)) {
    above.push({ what: `web_search "${grants.web_search}" (the limit is "${ceilings.maxWebSearch}")`, flag: `--max-web-search ${grants.web_search}`, drop: (g) => ({ ...g, web_search: ceilings.maxWebSearch }) });
  }
  if (grants.network && !ceilings.allowNetwork) {
    above.push({ what: "network: true", flag: "--allow-network", drop: (g) => ({ ...g, network: false }) });
  }
  return above;
}

/**
 * The grants a delegation runs with. An agent in this server's own format, and an ad-hoc agent, is refused when it
 * asks for more than a ceiling allows (its author wrote the grant, and a sub-agent that silently lacks a tool fails in
 * confusing ways), naming the flag that would allow it. An agent mapped from another format (Claude Code, Codex role
 * file) is capped instead, with a note, as its sandbox is (policy/sandbox.ts). Nothing here can widen a grant.
 */
export function grantsWithinCeilings(
  grants: Grants,
  ceilings: CapabilityCeilings,
  mapped: { agent: string; format: string } | null,
): { grants: Grants; notes: string[] } | { refusal: RefusalParts } {
  const above = grantsAboveCeilings(grants, ceilings);
  if (above.length === 0) return { grants, notes: [] };
  if (!mapped) {
    return {
      refusal: {
        message: `${above.map((a) => a.what).join(", ")} ${above.length === 1 ? "is" : "are"} above what this server allows`,
        hint: `remove ${above.length === 1 ? "it" : "them"} from the agent, or restart the server with ${above.map((a) => a.flag).join(" ")}`,
      },
    };
  }
  const capped = above.reduce((g, a) => a.drop(g), grants);
  return { grants: capped, notes: above.map((a) => `agent "${mapped.agent}" (${mapped.format}) asks for ${a.what}; this server does not allow it (${a.flag} would), so it ran without`) };
}

/**
 * The network grant follows the sandbox the run got: only a workspace-write sandbox has network_access to give, so a
 * grant is dropped, with a note, when the sandbox was lowered to read-only for this run (by --max-sandbox for a mapped
 * agent, or by the caller's own sandbox).
 */
export function networkForSandbox(network: boolean, sandbox: SandboxMode, agent: string): { network: boolean; note?: string } {
  if (sandbox === "read-only" && network) return { network: false, note: `agent "${agent}" asks for network, but this run's sandbox is read-only, which never has it; it ran without` };
  return { network: network && sandbox === "workspace-write" };
}

/**
 * The capabilities a run gets once its sandbox and grants are settled, before codex is asked which servers exist.
 * danger-full-access has no sandbox, so its commands have the network whatever was granted: that is what is shown.
 */
export function plannedCapabilities(sandbox: SandboxMode, grants: Grants): Capabilities {
  return {
    sandbox,
    network: sandbox === "danger-full-access" || grants.network,
    web_search: grants.web_search,
    mcp_servers: Object.fromEntries(Object.entries(grants.mcp_servers).map(([name, grant]) => [name, grant === "all" ? "all" : [...grant]])),
  };
}

/** One line for people: `read-only, no network, web search cached, MCP notes (echo)`. */
export function describeCapabilities(c: Capabilities): string {
  const servers = Object.entries(c.mcp_servers);
  const mcp = servers.length === 0 ? "no MCP servers" : `MCP ${servers.map(([name, grant]) => (grant === "all" ? name : `${name} (${grant.join(", ")})`)).join(", ")}`;
  return `${c.sandbox}, ${c.network ? "network" : "no network"}, web search ${c.web_search}, ${mcp}`;
}

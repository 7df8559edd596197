/**
 * What codex is told a sub-agent may reach, settled right before each `codex exec` (a first run and a resume alike):
 * whether the project's `.codex` layers may be used (codex/project-layers.ts), which MCP servers codex would load for
 * exactly this run (it is asked: codex/mcp-servers.ts), and from those, the overrides that switch off every server the
 * agent was not granted and limit a granted one to its tools. The capabilities it returns are what the sub-agent has.
 */
import { buildCodexGlobalArgs, type CodexInvocation, type CodexReach } from "../codex/args.ts";
import { getMcpServerTools, listMcpServers, type McpServerEntry, type McpServerTools, type ProbeProblem } from "../codex/mcp-servers.ts";
import { plantedLayers, plantedLayersNote } from "../codex/project-layers.ts";
import { Refusal } from "../errors.ts";
import { describeGrant, plannedCapabilities, type Capabilities, type Grants, type McpGrants } from "../policy/capabilities.ts";

export interface SettledReach {
  reach: CodexReach;
  /** Exactly what the sub-agent has: the grants, less the servers codex does not declare or keeps off. */
  capabilities: Capabilities;
  notes: string[];
}

/** The codex probes this needs; tests pass stand-ins. */
export interface ReachProbes {
  list: typeof listMcpServers;
  get: typeof getMcpServerTools;
}

/**
 * Pure: the servers codex declares for this run, the grants, and the tool limits of the user's config on each server
 * granted a tool list → the per-server overrides, the servers the sub-agent really gets, and notes.
 *
 * A granted tool list never widens what the user's own config offers of that server: it is cut to the config's
 * `enabled_tools` (when set) and loses its `disabled_tools`; codex's `-c` would otherwise replace the user's list.
 */
export function mcpReach(
  servers: readonly McpServerEntry[],
  grants: McpGrants,
  tools: Readonly<Record<string, McpServerTools>>,
  agent: string,
): { settings: Record<string, false | string[]>; granted: Capabilities["mcp_servers"]; notes: string[] } {
  const settings: Record<string, false | string[]> = {};
  const granted: Capabilities["mcp_servers"] = {};
  const notes: string[] = [];
  for (const server of servers) {
    const grant = Object.hasOwn(grants, server.name) ? grants[server.name] : undefined;
    if (grant === undefined) {
      settings[server.name] = false;
      continue;
    }
    if (!server.enabled) {
      settings[server.name] = false;
      notes.push(`agent "${agent}" is granted the MCP server "${server.name}", but your codex config keeps it switched off (enabled = false); it ran without`);
      continue;
    }
    if (grant === "all") {
      granted[server.name] = "all";
      continue;
    }
    const limits = tools[server.name];
    const offered = grant.filter((tool) => (limits?.enabledTools ?? grant).includes(tool) && !(limits?.disabledTools ?? []).includes(tool));
    if (offered.length < grant.length) {
      const left = grant.filter((tool) => !offered.includes(tool));
      notes.push(`your codex config does not offer ${left.map((t) => `"${t}"`).join(", ")} of the MCP server "${server.name}" (its enabled_tools / disabled_tools), so agent "${agent}" ran without ${left.length === 1 ? "it" : "them"}`);
    }
    if (offered.length === 0) {
      settings[server.name] = false;
      continue;
    }
    settings[server.name] = offered;
    granted[server.name] = offered;
  }
  for (const [name, grant] of Object.entries(grants)) {
    if (servers.some((s) => s.name === name)) continue;
    notes.push(`agent "${agent}" is granted the MCP server ${describeGrant(name, grant)}, but your codex config declares no server of that name for this run (config.toml, its profile, the project's .codex layers); it ran without. codex mcp list shows what is declared`);
  }
  return { settings, granted, notes };
}

/** The refusal when codex cannot say which servers it would load: a server we cannot name, we cannot switch off. */
function cannotList(probe: ProbeProblem): Refusal {
  return new Refusal(`could not learn which MCP servers codex would start for this run, so none of them could be switched off; nothing ran: ${probe.problem}`, {
    hint: probe.hint ?? "run `codex mcp list --json` in that directory to see the error; fix your codex config (or --codex) and retry",
  });
}

export async function settleReach(req: {
  codexPath: string;
  /** The invocation as it will run, but for its reach. */
  invocation: Omit<CodexInvocation, "reach">;
  grants: Grants;
  /** The directory the workspace was made from (the call's real cwd). */
  sourceDir: string;
  env: Record<string, string>;
  /** Real cwds of every in-place writer so far (runs/writer-ledger.ts). */
  writers: readonly string[];
  /** Real paths of /tmp and $TMPDIR. */
  tmpDirs: readonly string[];
  signal?: AbortSignal;
  probes?: ReachProbes;
}): Promise<SettledReach> {
  const probes = req.probes ?? { list: listMcpServers, get: getMcpServerTools };
  const { invocation, grants } = req;
  const workingDir = invocation.workingDir;
  const planted = await plantedLayers({ workingDir, sourceDir: req.sourceDir }, req.writers, req.tmpDirs);
  const reach: CodexReach = { webSearch: grants.web_search, network: grants.network, mcpServers: {}, untrustedProjects: planted.untrusted };
  const globalArgs = buildCodexGlobalArgs({ ...invocation, reach });
  const ask = { codexPath: req.codexPath, globalArgs, cwd: workingDir, env: req.env, signal: req.signal };
  const listed = await probes.list(ask);
  if ("problem" in listed) throw cannotList(listed);
  const limited = listed.servers.filter((s) => s.enabled && Object.hasOwn(grants.mcp_servers, s.name) && grants.mcp_servers[s.name] !== "all");
  const tools: Record<string, McpServerTools> = {};
  await Promise.all(limited.map(async (server) => {
    const got = await probes.get({ ...ask, name: server.name });
    if ("problem" in got) throw cannotList(got);
    tools[server.name] = got;
  }));
  const agent = invocation.agent.name;
  const mcp = mcpReach(listed.servers, grants.mcp_servers, tools, agent);
  const plantedNote = plantedLayersNote(planted);
  return {
    reach: { ...reach, mcpServers: mcp.settings },
    capabilities: { ...plannedCapabilities(invocation.agent.sandbox_mode ?? "read-only", grants), mcp_servers: mcp.granted },
    notes: [...(plantedNote ? [plantedNote] : []), ...mcp.notes],
  };
}

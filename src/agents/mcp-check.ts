/**
 * `validate` (and doctor) warn about an MCP server an agent is granted that the user's codex config does not declare:
 * the sub-agent would run without it (delegation/reach.ts says so in the run's notes). Codex itself is asked
 * (`codex [--profile P] mcp list --json`, in the directory validate runs in), once per profile the agents use, and only
 * when some agent grants a server. Without a codex to ask, each granting file gets one warning saying the names were
 * not checked.
 */
import { listMcpServers } from "../codex/mcp-servers.ts";
import { findCodex, type CodexSource } from "../codex/find.ts";
import { buildChildEnv } from "../policy/env.ts";
import { didYouMean } from "../suggest.ts";
import type { AgentFileResult } from "./schema.ts";

/** The server names codex declares with this profile (undefined: none), or why it could not be asked. */
export type DeclaredServers = (profile: string | undefined) => Promise<{ names: string[] } | { problem: string; hint?: string }>;

export async function addMcpServerWarnings(results: readonly AgentFileResult[], declared: DeclaredServers): Promise<void> {
  const asked = new Map<string | undefined, ReturnType<DeclaredServers>>();
  for (const result of results) {
    const granted = Object.keys(result.settings.mcp_servers ?? {});
    if (granted.length === 0) continue;
    const profile = result.settings.profile;
    if (!asked.has(profile)) asked.set(profile, declared(profile));
    const listed = await asked.get(profile)!;
    if ("problem" in listed) {
      result.issues.push({
        level: "warning", code: "MCP_SERVERS_UNCHECKED", field: "mcp_servers",
        message: `could not ask codex which MCP servers your config declares (${listed.problem}${listed.hint ? `; ${listed.hint}` : ""}), so ${granted.map((n) => `"${n}"`).join(", ")} ${granted.length === 1 ? "is" : "are"} not checked`,
      });
      continue;
    }
    for (const name of granted.filter((n) => !listed.names.includes(n))) {
      result.issues.push({
        level: "warning", code: "MCP_SERVER_UNDECLARED", field: "mcp_servers",
        message: `"${name}" is not an MCP server your codex config declares${profile ? ` with profile "${profile}"` : ""} here (codex mcp list shows them; codex mcp add NAME -- COMMAND adds one), so the sub-agent would run without it${didYouMean(name, listed.names)}`,
      });
    }
  }
}

/**
 * Asks the codex at `codexPath` (absolute, or a name found on PATH like the server does; null: none found) in `cwd`,
 * with the environment a sub-agent's codex gets.
 */
export function codexDeclaredServers(opts: { codex: string | null; source?: CodexSource; env: Readonly<Record<string, string | undefined>>; cwd: string }): DeclaredServers {
  let codexPath: Promise<string | { problem: string }> | undefined;
  const locate = () => {
    codexPath ??= (async () => {
      if (opts.codex === null) return { problem: "no codex was found" };
      const found = await findCodex({ command: opts.codex, source: opts.source ?? "PATH", env: opts.env, cwd: opts.cwd });
      return found.runnable ?? { problem: found.problem?.detail ?? `codex "${opts.codex}" was not found` };
    })();
    return codexPath;
  };
  return async (profile) => {
    const located = await locate();
    if (typeof located !== "string") return located;
    const listed = await listMcpServers({ codexPath: located, globalArgs: profile ? ["--profile", profile] : [], cwd: opts.cwd, env: buildChildEnv(opts.env, [], 1) });
    return "problem" in listed ? listed : { names: listed.servers.map((s) => s.name) };
  };
}

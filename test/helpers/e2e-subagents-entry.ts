// The `[mcp_servers.subagents]` entry the tests that make a real codex the MCP client give it: the shape of
// docs/INTEGRATION.md's complete entry, with this checkout's server (test/helpers/server-command.ts) as the command.
import { codexBin } from "./paths.ts";
import { serverCommand } from "./server-command.ts";
import { mcpServerToml } from "./toml.ts";

export interface SubagentsEntryOptions {
  /** The server's only --root (the top-level codex works there too). */
  root: string;
  /** CODEX_SUBAGENTS_RUNS_DIR in the entry's env table. */
  runsDir: string;
  /** The entry's env_vars: what codex passes on to the server from its own environment. */
  envVars: string[];
  /** The entry's tool_timeout_sec; default 120, the guide's value. */
  toolTimeoutSec?: number;
  /** More server options after the defaults (e.g. `--allow-mcp subagents`, so a sub-agent may be granted this server). */
  extraArgs?: string[];
}

/**
 * `serve --root ROOT --codex CODEX --max-depth 1` with startup_timeout_sec 20, tool_timeout_sec,
 * default_tools_approval_mode "approve", env_vars and an env table holding the runs directory, as config.toml text.
 */
export function subagentsServerEntry(opts: SubagentsEntryOptions): string {
  const { command, args } = serverCommand(["--root", opts.root, "--codex", codexBin, "--max-depth", "1", ...(opts.extraArgs ?? [])]);
  return mcpServerToml("subagents", {
    command,
    args,
    settings: { startup_timeout_sec: 20, tool_timeout_sec: opts.toolTimeoutSec ?? 120, default_tools_approval_mode: "approve", env_vars: opts.envVars },
    env: { CODEX_SUBAGENTS_RUNS_DIR: opts.runsDir },
  });
}

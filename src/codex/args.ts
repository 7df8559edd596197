/**
 * Pure: agent + request → argv for codex: `exec` (or `exec resume <thread_id>`), `--json`, the agent's settings,
 * `--output-last-message` and `-`, the task then coming on stdin. No shell ever sees these; each value is one argv element.
 */
import type { Agent } from "../agents/schema.ts";
import type { RefusalParts } from "../errors.ts";
import type { WebSearchMode } from "../policy/capabilities.ts";

/**
 * Codex features every sub-agent runs without, as `--disable NAME` global options, each for the reason beside it.
 * Every name is known to codex 0.169 and 0.171 (`codex features list`); a codex that does not know one refuses to
 * start ("Unknown feature flag"), which `doctor` checks (doctor/codex-help.ts). Features not listed here either add
 * nothing beyond the sandbox (shell, view_image, goals), or are held by an explicit setting instead (web search by
 * `-c web_search=…`, which beats the deprecated web_search_request/web_search_cached toggles; approvals, which
 * `codex exec` always runs with policy "never", so guardian review and permission requests have nothing to approve).
 *
 * Security: each of these adds tools, programs or network reach that no agent file grants. None is needed by a grant
 * (MCP servers are granted through `mcp_servers`, web search through `web_search`), so the rule is simply: always off.
 * Checked against the mock model's request log (test/adversarial/capabilities.test.ts, limits.test.ts).
 */
export const DISABLED_FEATURES = [
  // Codex's own sub-agents (spawn_agent & co., and multi_agent_v2's `collaboration` set, off by default but a user's
  // config.toml may turn it on) would start agents inside this codex, outside --max-depth, --max-concurrency, the
  // roots, the sandbox ceiling and the run records. Nesting goes through this server's delegate tool or not at all
  // (a sub-agent reaches it only when its agent grants this server's own MCP entry and --allow-mcp names it).
  "multi_agent",
  "multi_agent_v2",
  // Plugins bring their own MCP servers, skills and apps (none of which an agent granted), and every run with plugins
  // on starts a git fetch of a plugins repository: network from outside the sandbox.
  "plugins",
  // The remote plugin catalog and plugin sharing: plugins fetched from the network.
  "remote_plugin",
  "plugin_sharing",
  // ChatGPT apps (connectors): an MCP server of codex's own that reaches the user's connected accounts.
  "apps",
  // MCP apps (interactive UI from MCP servers); off by default, kept off whatever the user's config says.
  "enable_mcp_apps",
  // Suggests and installs discoverable tools the agent was not granted.
  "tool_suggest",
  // Installs and starts the MCP servers a skill says it depends on: servers no grant named.
  "skill_mcp_dependency_install",
  // Lifecycle hooks: programs codex runs outside the sandbox around each step, from the user's config and from a
  // project's `.codex/` layers (which a sub-agent may have written).
  "hooks",
  // A browser, an external browser, its full DevTools access, the desktop app's browser pane and computer use: each
  // acts outside the sandbox, on the user's screen and sessions.
  "browser_use",
  "browser_use_external",
  "browser_use_full_cdp_access",
  "in_app_browser",
  "computer_use",
  // A hosted image-generation tool the agent file did not grant.
  "image_generation",
  // A web search tool of its own, beside web_search: the agent's web_search key must be the only way to search.
  "standalone_web_search",
  // A managed network proxy with its own allow-list for sandboxed commands: network beside network_access.
  "network_proxy",
  // Memories carry what one run saw into the context of later ones (an agent with fewer grants would read what one
  // with more learned); the Chronicle sidecar records screen context. Both off by default, kept off.
  "memories",
  "chronicle",
] as const;

/** Linux refuses a single argument over 128 KiB (E2BIG); stay clear of it. */
export const MAX_ARG_BYTES = 120 * 1024;

/**
 * What a sub-agent may reach beyond its sandbox, said to codex explicitly on every run, whatever the user's config
 * says: web search, network for commands, no writable_roots, every MCP server it was not granted off.
 */
export interface CodexReach {
  webSearch: WebSearchMode;
  /** network_access of a workspace-write sandbox (read-only has none; danger-full-access has no sandbox). */
  network: boolean;
  /**
   * Per MCP server codex declares for this run: `false` switches it off (never started), a list limits a granted one to
   * those tools; a server granted whole is not named. Only names codex declared: codex refuses a config that switches
   * off a server no layer declares ("invalid transport").
   */
  mcpServers: Readonly<Record<string, false | readonly string[]>>;
  /** Directories codex must treat as untrusted projects for this run (codex/project-layers.ts). */
  untrustedProjects: readonly string[];
}

export interface CodexInvocation {
  agent: Agent;
  reach: CodexReach;
  /** Where codex works (--cd). */
  workingDir: string;
  /** Continue this thread (codex exec resume). */
  resumeThreadId?: string;
  /** File codex writes its last message to. */
  lastMessageFile: string;
  /** JSON Schema file for the final answer, if any. */
  outputSchemaFile?: string;
}

/**
 * Encode text as a TOML basic string for `-c key=value` (codex parses the value as TOML).
 * JSON.stringify is not enough: TOML forbids a raw DEL and lone surrogates that JSON lets through.
 */
export function tomlString(text: string): string {
  let out = '"';
  for (const ch of text.toWellFormed()) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

/**
 * Codex's global options for a run: everything before `exec`. `codex mcp list` is asked with exactly these, so it
 * sees the configuration the run will (codex/mcp-servers.ts).
 *
 * Profile, sandbox and directory are global options because `exec resume` accepts no --cd, -s or -p of its own
 * (`codex exec resume --help` lists none), so one argv shape serves a first run and a resume.
 */
export function buildCodexGlobalArgs(inv: CodexInvocation): string[] {
  const { agent, reach } = inv;
  const args: string[] = [];
  if (agent.profile) args.push("--profile", agent.profile);
  if (agent.sandbox_mode) args.push("--sandbox", agent.sandbox_mode);
  if (agent.model) args.push("--model", agent.model);
  args.push("--cd", inv.workingDir);
  if (agent.reasoning_effort) args.push("-c", `model_reasoning_effort=${tomlString(agent.reasoning_effort)}`);
  if (agent.approval_policy) args.push("-c", `approval_policy=${tomlString(agent.approval_policy)}`);
  args.push("-c", `developer_instructions=${tomlString(agent.persona)}`);
  args.push(...reachArgs(reach));
  for (const feature of DISABLED_FEATURES) args.push("--disable", feature);
  return args;
}

/**
 * The `-c` overrides that hold a sub-agent to its grants. `-c` merges into the user's config (an empty table clears
 * nothing), so each setting is named; tables are written inline with quoted keys, so a server name or a path with a
 * dot in it is one key (codex splits a dotted `-c` key at every dot).
 */
export function reachArgs(reach: CodexReach): string[] {
  const args = [
    "-c", `web_search=${tomlString(reach.webSearch)}`,
    "-c", `sandbox_workspace_write.network_access=${reach.network}`,
    // Security: writable_roots from the user's config would let a workspace-write sub-agent write outside its cwd.
    "-c", "sandbox_workspace_write.writable_roots=[]",
  ];
  const servers = Object.entries(reach.mcpServers);
  if (servers.length > 0) {
    const entries = servers.map(([name, setting]) => `${tomlString(name)}=${setting === false ? "{enabled=false}" : `{enabled_tools=[${setting.map(tomlString).join(",")}]}`}`);
    args.push("-c", `mcp_servers={${entries.join(",")}}`);
  }
  if (reach.untrustedProjects.length > 0) {
    args.push("-c", `projects={${reach.untrustedProjects.map((dir) => `${tomlString(dir)}={trust_level="untrusted"}`).join(",")}}`);
  }
  return args;
}

/**
 * The whole argv: the global options, then `exec` (or `exec resume <thread_id>`) and its own options. The prompt is
 * `-`: the task arrives on stdin, so a task like "--help" or "resume" stays text.
 */
export function buildCodexArgs(inv: CodexInvocation): string[] {
  const args = buildCodexGlobalArgs(inv);
  args.push("exec");
  if (inv.resumeThreadId) args.push("resume", inv.resumeThreadId);
  // The server already confined the directory to a configured root; codex's own trust prompt cannot be answered
  // by a non-interactive child, and a mirror or non-git root would otherwise fail.
  args.push("--json", "--skip-git-repo-check", "--output-last-message", inv.lastMessageFile);
  // Security: `.rules` files (the user's, and any project layer's, which a sub-agent may have written) can allow a
  // command to run outside the sandbox (`prefix_rule(..., decision="allow")`); a sub-agent's sandbox is not for them
  // to lift.
  args.push("--ignore-rules");
  if (inv.outputSchemaFile) args.push("--output-schema", inv.outputSchemaFile);
  args.push("-");
  return args;
}

/** An argument too long for the OS would fail at spawn with E2BIG; say what to shorten instead. */
export function findOversizedArg(args: readonly string[]): RefusalParts | null {
  for (const arg of args) {
    const bytes = Buffer.byteLength(arg, "utf8");
    if (bytes > MAX_ARG_BYTES) {
      const key = arg.split("=")[0];
      return { message: `codex argument ${key} is ${bytes} bytes once encoded, over the ${MAX_ARG_BYTES}-byte limit of one argument`, hint: "shorten the persona" };
    }
  }
  return null;
}

/** Thread ids are UUIDs; anything else is refused before it reaches codex's argv. */
export const THREAD_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

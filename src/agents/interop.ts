/**
 * Pure: the mapping from Claude Code agent files and Codex role files to this server's settings (docs/AGENT-FILES.md,
 * "Claude Code agents and Codex role files"). Every key either becomes a setting codex really receives, or is a
 * warning with a stable code that says what is lost. Nothing is ignored silently.
 */
import { MCP_SERVER_NAME_PATTERN, MCP_TOOL_NAME_PATTERN, type McpGrant } from "../policy/capabilities.ts";
import type { SandboxMode } from "../policy/sandbox.ts";
import { unknownKeyIssue } from "./strict.ts";
import { settingSchemas, type AgentFormat, type AgentIssue, type AgentSettings, type ReasoningEffort } from "./schema.ts";

/** Keys only a Claude Code agent file has; one of them in a frontmatter makes the file a Claude Code agent. */
export const CLAUDE_ONLY_KEYS = [
  "name", "tools", "disallowedTools", "permissionMode", "effort", "maxTurns", "skills", "mcpServers", "hooks",
  "memory", "background", "color", "initialPrompt",
] as const;
/** Keys both formats have (they say nothing about the format). */
export const SHARED_KEYS = ["description", "model", "isolation"] as const;
/** Keys only our own format has. */
export const OWN_ONLY_KEYS = ["profile", "reasoning_effort", "sandbox_mode", "approval_policy", "timeout_s", "mcp_servers", "web_search", "network"] as const;

/** Tools that only read (or keep Claude's own to-do list): an agent with only these runs read-only. */
export const CLAUDE_READING_TOOLS = [
  "Read", "Grep", "Glob", "LS", "WebFetch", "WebSearch", "NotebookRead", "TodoWrite", "TodoRead", "ExitPlanMode",
  "BashOutput", "KillShell", "KillBash", "ListMcpResourcesTool", "ReadMcpResourceTool",
] as const;
/** Tools that write files or run commands: any of these means workspace-write. */
export const CLAUDE_WRITING_TOOLS = ["Edit", "Write", "MultiEdit", "NotebookEdit", "Bash"] as const;
/** Claude tools with no codex counterpart: they neither widen nor narrow the sandbox. */
export const CLAUDE_UNCARRIED_TOOLS = ["Task", "Agent", "Skill", "SlashCommand"] as const;

const CLAUDE_EFFORT: Record<string, ReasoningEffort> = { low: "low", medium: "medium", high: "high", xhigh: "xhigh", max: "xhigh" };
/** Permission modes that change nothing under `codex exec`, where nobody is asked anyway. */
const CLAUDE_QUIET_PERMISSION_MODES = ["default", "acceptEdits", "dontAsk"];

/** Keys of a Claude file that have no counterpart, and what is lost with each (code, then the sentence). */
const CLAUDE_LOST: Record<string, [string, string]> = {
  hooks: ["CLAUDE_HOOKS", "hooks do not run: codex has no per-agent hooks"],
  skills: ["CLAUDE_SKILLS", "skills are not preloaded into the sub-agent's context"],
  memory: ["CLAUDE_MEMORY", "there is no persistent memory directory: each run starts fresh (resume continues a thread)"],
  maxTurns: ["CLAUDE_MAX_TURNS", "codex has no turn limit; the time limit (timeout_s, --timeout) bounds the run instead"],
  background: ["CLAUDE_BACKGROUND", "the agent does not run in the background by itself; delegate waits for it"],
  color: ["CLAUDE_COLOR", "the display colour has no meaning here"],
  initialPrompt: ["CLAUDE_INITIAL_PROMPT", "the initial prompt is not sent; the delegate task is the only user message"],
};

/** Claude keys that limit what the agent may do: a misspelling of one is an error (strict.ts unknownKeyIssue). */
const CLAUDE_LIMITING_KEYS = ["tools", "disallowedTools", "permissionMode", "mcpServers"];
/** Role-file keys that limit what the agent may do, likewise. */
const ROLE_LIMITING_KEYS = ["sandbox_mode", "approval_policy", "mcp_servers"];

/** Codex role keys that map one to one onto our settings. */
const CODEX_ROLE_KEYS: Record<string, keyof AgentSettings> = {
  model: "model",
  model_reasoning_effort: "reasoning_effort",
  sandbox_mode: "sandbox_mode",
  approval_policy: "approval_policy",
};

export interface MappedAgent {
  /** The name the file claims (`name`), when it has one. */
  name?: string;
  settings: AgentSettings;
  persona?: string;
  issues: AgentIssue[];
  /** Why the sandbox is what it is, for the note when --max-sandbox lowers it. */
  sandboxFrom?: string;
}

/**
 * Which format a `.md` frontmatter is written in: by its keys first (any Claude-only key, or our own keys), else by
 * the directory (`.claude/agents` means Claude Code). Keys of both formats in one file are refused, not guessed.
 */
export function detectMarkdownFormat(keys: readonly string[], inClaudeDir: boolean): { format: AgentFormat } | { error: AgentIssue } {
  const claude = keys.filter((k) => (CLAUDE_ONLY_KEYS as readonly string[]).includes(k));
  const own = keys.filter((k) => (OWN_ONLY_KEYS as readonly string[]).includes(k));
  if (claude.length > 0 && own.length > 0) {
    return {
      error: {
        level: "error", code: "FORMAT_MIXED",
        message: `the frontmatter mixes Claude Code keys (${claude.join(", ")}) with this server's own keys (${own.join(", ")}), so its meaning is ambiguous; keep one set (codex-subagents convert writes a file in this server's format)`,
      },
    };
  }
  if (claude.length > 0) return { format: "claude-code" };
  if (own.length > 0) return { format: "codex-subagents" };
  return { format: inClaudeDir ? "claude-code" : "codex-subagents" };
}

/** The keys of a frontmatter YAML refused, read line by line: enough to label the file's format in the error. */
export function guessKeys(frontmatter: string): string[] {
  return [...frontmatter.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:/gm)].map((m) => m[1]!);
}

/** `Read, Grep` or `[Read, Grep]` or `Bash(git diff:*) Read` → entries; commas and spaces inside (...) are kept. */
export function splitToolList(value: unknown): string[] | null {
  if (Array.isArray(value)) {
    if (!value.every((v) => typeof v === "string")) return null;
    return value.flatMap((v) => splitToolString(v));
  }
  if (typeof value === "string") return splitToolString(value);
  return null;
}

function splitToolString(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let depth = 0;
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth = Math.max(0, depth - 1);
    if (depth === 0 && (ch === "," || /\s/.test(ch))) {
      if (current) out.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (current) out.push(current);
  return out;
}

const toolName = (entry: string) => entry.replace(/\(.*$/s, "");
const isIn = (list: readonly string[], name: string) => list.includes(name);

function warn(code: string, field: string, message: string): AgentIssue {
  return { level: "warning", code, field, message };
}

function quote(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).slice(0, 80);
}

/** Claude `tools` / `disallowedTools` / `permissionMode` → sandbox, plus what cannot be carried over. */
function claudeSandbox(raw: Record<string, unknown>, issues: AgentIssue[]): { sandbox: SandboxMode; from: string } {
  const tools = raw.tools === undefined ? undefined : splitToolList(raw.tools);
  if (raw.tools !== undefined && tools === null) {
    issues.push({ level: "error", code: "INVALID_VALUE", field: "tools", message: `tools ${quote(raw.tools)} is not valid; give a comma-separated string ("Read, Grep") or a list of tool names` });
  }
  const disallowed = raw.disallowedTools === undefined ? [] : splitToolList(raw.disallowedTools);
  if (disallowed === null) {
    issues.push({ level: "error", code: "INVALID_VALUE", field: "disallowedTools", message: `disallowedTools ${quote(raw.disallowedTools)} is not valid; give a comma-separated string or a list of tool names` });
  }
  const removed = new Set((disallowed ?? []).filter((t) => !t.includes("(")));
  const given = tools ?? undefined;
  const allTools = given === undefined || given.includes("*");

  if (given) {
    const unknown = given.filter((t) => {
      const name = toolName(t);
      return name !== "*" && !name.startsWith("mcp__") && !isIn(CLAUDE_READING_TOOLS, name) && !isIn(CLAUDE_WRITING_TOOLS, name) && !isIn(CLAUDE_UNCARRIED_TOOLS, name);
    });
    if (unknown.length) issues.push(warn("CLAUDE_TOOL_UNKNOWN", "tools", `unknown tool(s) ${unknown.join(", ")}: not counted as writing tools, so they do not widen the sandbox; check the spelling`));
    const uncarried = given.filter((t) => isIn(CLAUDE_UNCARRIED_TOOLS, toolName(t)));
    if (uncarried.length) issues.push(warn("CLAUDE_TOOL_NOT_CARRIED", "tools", `tool(s) ${uncarried.join(", ")} have no codex counterpart: the sub-agent has codex's own tools and the MCP tools it is granted`));
    if (given.some((t) => toolName(t) === "WebFetch")) {
      issues.push(warn("CLAUDE_WEBFETCH", "tools", "WebFetch (read one web page) has no codex counterpart short of web_search: live, which reaches the whole live web; it is not granted (convert the file and set web_search: live if the agent needs it)"));
    }
    const patterned = given.filter((t) => t.includes("("));
    if (patterned.length) issues.push(warn("CLAUDE_TOOL_PATTERN", "tools", `the rule(s) in ${patterned.join(", ")} cannot be enforced: codex has no per-command allow-list, only the sandbox`));
  } else {
    issues.push(warn("CLAUDE_TOOLS_ABSENT", "tools", "no tools list, which in Claude Code means every tool: the agent runs workspace-write (capped by --max-sandbox), with web_search cached and only the MCP servers named in mcpServers; list its tools to make it read-only"));
  }
  if (raw.disallowedTools !== undefined && disallowed !== null) {
    issues.push(warn("CLAUDE_DISALLOWED_TOOLS", "disallowedTools", "codex cannot forbid single tools; disallowedTools only helps choose the sandbox (without any writing tool the agent runs read-only)"));
  }

  const writers = (allTools ? [...CLAUDE_WRITING_TOOLS] : given!.filter((t) => isIn(CLAUDE_WRITING_TOOLS, toolName(t))).map(toolName))
    .filter((t) => !removed.has(t));
  const uniqueWriters = [...new Set(writers)];
  const mode = raw.permissionMode;
  if (mode !== undefined && typeof mode !== "string") {
    issues.push({ level: "error", code: "INVALID_VALUE", field: "permissionMode", message: `permissionMode ${quote(mode)} is not valid; use default, acceptEdits, plan or bypassPermissions` });
  }
  if (mode === "plan") return { sandbox: "read-only", from: "permissionMode: plan" };
  if (typeof mode === "string" && mode !== "bypassPermissions" && !CLAUDE_QUIET_PERMISSION_MODES.includes(mode)) {
    issues.push(warn("CLAUDE_UNKNOWN_VALUE", "permissionMode", `permissionMode ${quote(mode)} is not known; the sandbox follows the tools (known: default, acceptEdits, dontAsk, plan, bypassPermissions)`));
  }
  const toolsText = allTools ? (given ? "tools: *" : "no tools list (all tools)") : `tools ${uniqueWriters.join(", ")}`;
  if (uniqueWriters.length === 0) return { sandbox: "read-only", from: given ? "only reading tools" : "every writing tool disallowed" };
  if (mode === "bypassPermissions") {
    issues.push(warn("CLAUDE_BYPASS_PERMISSIONS", "permissionMode", "bypassPermissions asks for danger-full-access (no sandbox at all); the server's --max-sandbox (default workspace-write) lowers it, with a note on each result"));
    return { sandbox: "danger-full-access", from: `permissionMode: bypassPermissions with ${toolsText}` };
  }
  return { sandbox: "workspace-write", from: toolsText };
}

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
  const entries: unknown[] = Array.isArray(value) ? value : typeof value === "string" ? [value] : [value];
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
function claudeGrants(raw: Record<string, unknown>, issues: AgentIssue[]): Pick<AgentSettings, "mcp_servers" | "web_search"> {
  const named = claudeMcpServerNames(raw.mcpServers, issues);
  const tools = raw.tools === undefined ? undefined : splitToolList(raw.tools);
  if (tools === null) return {};
  const disallowed = (raw.disallowedTools === undefined ? [] : splitToolList(raw.disallowedTools) ?? []).map(toolName);
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

/** A Claude Code agent's frontmatter → our settings. The body (persona) is handled by the caller. */
export function mapClaudeAgent(raw: Record<string, unknown>): MappedAgent {
  const out = mapNameAndDescription(raw);
  const { settings, issues } = out;

  const { sandbox, from } = claudeSandbox(raw, issues);
  settings.sandbox_mode = sandbox;
  out.sandboxFrom = from;
  Object.assign(settings, claudeGrants(raw, issues));

  if (raw.model !== undefined) {
    issues.push(warn("CLAUDE_MODEL_IGNORED", "model", `model ${quote(raw.model)} is a Claude model, not a Codex one: the agent runs on the Codex default model (or your profile); convert the file and set model to choose one`));
  }
  if (raw.effort !== undefined) {
    const effort = typeof raw.effort === "string" ? CLAUDE_EFFORT[raw.effort] : undefined;
    if (effort) settings.reasoning_effort = effort;
    else issues.push(warn("CLAUDE_UNKNOWN_VALUE", "effort", `effort ${quote(raw.effort)} is not known; the Codex default reasoning effort applies (known: low, medium, high, xhigh, max)`));
  }
  if (raw.isolation !== undefined) {
    if (raw.isolation === "worktree") settings.isolation = "worktree";
    else issues.push(warn("CLAUDE_UNKNOWN_VALUE", "isolation", `isolation ${quote(raw.isolation)} is not known; the agent works in the call's cwd (known: worktree)`));
  }
  for (const [key, [code, lost]] of Object.entries(CLAUDE_LOST)) {
    if (raw[key] !== undefined) issues.push(warn(code, key, `${key} is not carried over (${lost})`));
  }
  const known: string[] = [...CLAUDE_ONLY_KEYS, ...SHARED_KEYS];
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue;
    const issue = unknownKeyIssue(key, known, CLAUDE_LIMITING_KEYS, { code: "UNKNOWN_KEY", ignored: `unknown key "${key}" is ignored`, known: `Claude Code keys: ${known.join(", ")}` });
    if (issue) issues.push(issue);
  }
  return out;
}

/** The keys both formats share: `name` (optional, else the file name) and `description`. */
function mapNameAndDescription(raw: Record<string, unknown>): MappedAgent {
  const out: MappedAgent = { settings: {}, issues: [] };
  if (raw.name !== undefined) {
    if (typeof raw.name === "string") out.name = raw.name.trim();
    else out.issues.push({ level: "error", code: "INVALID_VALUE", field: "name", message: `name ${quote(raw.name)} must be a string` });
  }
  mapDescription(raw.description, out.settings, out.issues);
  return out;
}

/** Claude and Codex descriptions may be long and span lines (with <example> blocks); they are kept as written. */
function mapDescription(value: unknown, settings: AgentSettings, issues: AgentIssue[]): void {
  if (value === undefined) {
    issues.push(warn("MISSING_DESCRIPTION", "description", "no description: list_agents and the delegate tool show none, so a model cannot tell when to use this agent; add one"));
  } else if (typeof value === "string" && value.trim() !== "") {
    settings.description = value.trim();
  } else {
    issues.push({ level: "error", code: "INVALID_VALUE", field: "description", message: `description ${quote(value)} must be non-empty text` });
  }
}

/**
 * A Codex role file's table → our settings and persona. Only the role keys reach codex; any other Codex config key
 * is refused passage with a warning naming it.
 * Security: a role file must not be a way to set a shell environment policy, a model provider or any other
 * configuration behind the reviewer's back; only the four role keys below are passed, each as its own flag, and its
 * grants (roleGrants) become grants of this server's own kind, capped by the server's ceilings.
 */
export function mapCodexRole(raw: Record<string, unknown>): MappedAgent {
  const out = mapNameAndDescription(raw);
  const { settings, issues } = out;
  if (typeof raw.developer_instructions === "string") out.persona = raw.developer_instructions;
  else if (raw.developer_instructions !== undefined) issues.push({ level: "error", code: "INVALID_VALUE", field: "developer_instructions", message: "developer_instructions must be a string (the role's instructions)" });
  else issues.push({ level: "error", code: "EMPTY_PERSONA", field: "developer_instructions", message: "a role file needs developer_instructions: the instructions the sub-agent follows" });

  if (raw.nickname_candidates !== undefined) {
    if (!Array.isArray(raw.nickname_candidates) || !raw.nickname_candidates.every((n) => typeof n === "string")) {
      issues.push({ level: "error", code: "INVALID_VALUE", field: "nickname_candidates", message: "nickname_candidates must be a list of strings" });
    } else {
      issues.push(warn("CODEX_NICKNAMES", "nickname_candidates", "nickname_candidates are display names in Codex's own UI; they are not used here"));
    }
  }
  for (const [key, target] of Object.entries(CODEX_ROLE_KEYS)) {
    const value = raw[key];
    if (value === undefined) continue;
    if (key === "model_reasoning_effort" && value === "none") {
      issues.push(warn("CODEX_VALUE_NOT_CARRIED", key, 'model_reasoning_effort "none" is not passed (this server knows minimal, low, medium, high, xhigh); the Codex default applies'));
      continue;
    }
    const parsed = settingSchemas[target].safeParse(value);
    if (parsed.success) (settings as Record<string, unknown>)[target] = parsed.data;
    else {
      const options = (settingSchemas[target] as { options?: readonly string[] }).options;
      issues.push({ level: "error", code: "INVALID_VALUE", field: key, message: `${key} ${quote(value)} is not valid${options ? `; use one of: ${options.join(", ")}` : ""}` });
    }
  }
  if (raw.sandbox_mode === undefined) {
    settings.sandbox_mode = "read-only";
    issues.push(warn("CODEX_SANDBOX_DEFAULT", "sandbox_mode", "no sandbox_mode: the role runs read-only here (in Codex a role without one inherits its parent's sandbox); set sandbox_mode to change it"));
    out.sandboxFrom = "no sandbox_mode (read-only by default)";
  } else if (settings.sandbox_mode !== undefined) {
    out.sandboxFrom = `sandbox_mode = "${settings.sandbox_mode}"`;
  }
  Object.assign(settings, roleGrants(raw, settings.sandbox_mode ?? "read-only", issues));
  const handled = ["name", "description", "developer_instructions", "nickname_candidates", ...Object.keys(CODEX_ROLE_KEYS), ...ROLE_GRANT_KEYS];
  for (const key of Object.keys(raw)) {
    if (handled.includes(key)) continue;
    const issue = unknownKeyIssue(key, handled, ROLE_LIMITING_KEYS, {
      code: "CODEX_KEY_NOT_PASSED", ignored: `"${key}" is not passed to codex`,
      known: `a role file may set only ${[...Object.keys(CODEX_ROLE_KEYS), ...ROLE_GRANT_KEYS].join(", ")} (it must not be a way to change shell policy, providers or other configuration unseen)`,
    });
    if (issue) issues.push(issue);
  }
  return out;
}

/** The role keys read as grants (roleGrants). */
const ROLE_GRANT_KEYS = ["mcp_servers", "web_search", "sandbox_workspace_write"] as const;
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
function roleGrants(raw: Record<string, unknown>, sandbox: SandboxMode, issues: AgentIssue[]): Pick<AgentSettings, "mcp_servers" | "web_search" | "network"> {
  const out: Pick<AgentSettings, "mcp_servers" | "web_search" | "network"> = {};
  if (raw.mcp_servers !== undefined) {
    const grants = roleMcpGrants(raw.mcp_servers, issues);
    if (grants) out.mcp_servers = grants;
  }
  if (raw.web_search !== undefined) {
    const parsed = settingSchemas.web_search.safeParse(raw.web_search);
    if (parsed.success) out.web_search = parsed.data;
    else issues.push({ level: "error", code: "INVALID_VALUE", field: "web_search", message: `web_search ${quote(raw.web_search)} is not valid; use one of: disabled, cached, live` });
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

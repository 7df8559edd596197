/**
 * Pure: the mapping from Claude Code agent files and Codex role files to this server's settings (docs/AGENT-FILES.md,
 * "Claude Code agents and Codex role files"). Every key either becomes a setting codex really receives, or is a
 * warning with a stable code that says what is lost. Nothing is ignored silently.
 *
 * This file tells the formats apart and maps what they share; each format has its own files:
 *   claude-code.ts    a Claude Code agent's frontmatter, key by key
 *   claude-tools.ts   its tools list, and the sandbox that comes of it
 *   claude-grants.ts  its MCP servers and tools, and WebSearch, as grants
 *   codex-role.ts     a Codex role file's table, key by key
 *   role-grants.ts    its `[mcp_servers.NAME]`, `web_search` and network access, as grants
 */
import type { AgentFormat, AgentIssue, AgentSettings } from "./schema.ts";

/** Keys only a Claude Code agent file has; one of them in a frontmatter makes the file a Claude Code agent. */
export const CLAUDE_ONLY_KEYS = [
  "name", "tools", "disallowedTools", "permissionMode", "effort", "maxTurns", "skills", "mcpServers", "hooks",
  "memory", "background", "color", "initialPrompt",
] as const;
/** Keys both formats have (they say nothing about the format). */
export const SHARED_KEYS = ["description", "model", "isolation"] as const;
/** Keys only our own format has. */
export const OWN_ONLY_KEYS = ["profile", "reasoning_effort", "sandbox_mode", "approval_policy", "timeout_s", "mcp_servers", "web_search", "network"] as const;

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

/** A warning with a stable code: the file asks for something that is not carried over as written. */
export function warn(code: string, field: string, message: string): AgentIssue {
  return { level: "warning", code, field, message };
}

/** A value as the file wrote it, cut to 80 characters, for a message. */
export function quote(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).slice(0, 80);
}

/** The keys both formats share: `name` (optional, else the file name) and `description`. */
export function mapNameAndDescription(raw: Record<string, unknown>): MappedAgent {
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

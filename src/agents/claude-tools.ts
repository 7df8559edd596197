/**
 * Pure: a Claude Code agent's tools list (`tools`, `disallowedTools`) and `permissionMode`, read as entries, and the
 * sandbox they come to. Codex cannot allow or forbid single tools, so the list only chooses the sandbox: any writing
 * tool means workspace-write; what cannot be carried over is a warning.
 */
import type { SandboxMode } from "../policy/sandbox.ts";
import { quote, warn } from "./interop.ts";
import type { AgentIssue } from "./schema.ts";

/** Tools that only read (or keep Claude's own to-do list): an agent with only these runs read-only. */
export const CLAUDE_READING_TOOLS = [
  "Read", "Grep", "Glob", "LS", "WebFetch", "WebSearch", "NotebookRead", "TodoWrite", "TodoRead", "ExitPlanMode",
  "BashOutput", "KillShell", "KillBash", "ListMcpResourcesTool", "ReadMcpResourceTool",
] as const;
/** Tools that write files or run commands: any of these means workspace-write. */
export const CLAUDE_WRITING_TOOLS = ["Edit", "Write", "MultiEdit", "NotebookEdit", "Bash"] as const;
/** Claude tools with no codex counterpart: they neither widen nor narrow the sandbox. */
export const CLAUDE_UNCARRIED_TOOLS = ["Task", "Agent", "Skill", "SlashCommand"] as const;
/** Permission modes that change nothing under `codex exec`, where nobody is asked anyway. */
const CLAUDE_QUIET_PERMISSION_MODES = ["default", "acceptEdits", "dontAsk"];

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

/** A Claude file's two tools lists as entries, split once for the sandbox and the grants. null: not a list. */
export interface ClaudeToolLists {
  /** undefined: no tools list (every tool). */
  tools: string[] | null | undefined;
  /** [] when absent. */
  disallowed: string[] | null;
}

export function claudeToolLists(raw: Record<string, unknown>): ClaudeToolLists {
  return {
    tools: raw.tools === undefined ? undefined : splitToolList(raw.tools),
    disallowed: raw.disallowedTools === undefined ? [] : splitToolList(raw.disallowedTools),
  };
}

/** A tools entry without its rule: `Bash(git log:*)` → `Bash`. */
export const toolName = (entry: string) => entry.replace(/\(.*$/s, "");
const isIn = (list: readonly string[], name: string) => list.includes(name);

/** Claude `tools` / `disallowedTools` / `permissionMode` → sandbox, plus what cannot be carried over. */
export function claudeSandbox(raw: Record<string, unknown>, lists: ClaudeToolLists, issues: AgentIssue[]): { sandbox: SandboxMode; from: string } {
  const { tools, disallowed } = lists;
  if (raw.tools !== undefined && tools === null) {
    issues.push({ level: "error", code: "INVALID_VALUE", field: "tools", message: `tools ${quote(raw.tools)} is not valid; give a comma-separated string ("Read, Grep") or a list of tool names` });
  }
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

import { z } from "zod";
import { MCP_SERVER_NAME_PATTERN, MCP_TOOL_NAME_PATTERN, WEB_SEARCH_MODES, type McpGrant } from "../policy/capabilities.ts";
import { SANDBOX_MODES } from "../policy/sandbox.ts";

export const AGENT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const REASONING_EFFORTS = ["minimal", "low", "medium", "high", "xhigh"] as const;
export const APPROVAL_POLICIES = ["never", "on-request", "on-failure", "untrusted"] as const;
export const ISOLATION_MODES = ["none", "worktree", "mirror"] as const;
/** The formats an agent file may be written in (docs/AGENT-FILES.md says how each is recognised). */
export const AGENT_FORMATS = ["codex-subagents", "claude-code", "codex-role"] as const;
export type AgentFormat = (typeof AGENT_FORMATS)[number];

export const MAX_PERSONA_BYTES = 64 * 1024;
export const MAX_FRONTMATTER_BYTES = 16 * 1024;
/** A file larger than this cannot be a valid agent (persona + frontmatter + slack); it is not read further. */
export const MAX_AGENT_FILE_BYTES = MAX_PERSONA_BYTES + MAX_FRONTMATTER_BYTES + 1024;
export const MAX_TIMEOUT_S = 7 * 24 * 3600;

const mcpServerName = z.string().regex(MCP_SERVER_NAME_PATTERN);
const mcpToolName = z.string().regex(MCP_TOOL_NAME_PATTERN);

/**
 * `mcp_servers`: a list of server names (all of each one's tools) or a map of server name to tool names (or `all`),
 * normalised to the map (policy/capabilities.ts McpGrants). Repeated names or tools count once.
 */
export const mcpGrantsSchema = z.union([
  z.array(mcpServerName).max(64),
  z.record(mcpServerName, z.union([z.literal("all"), z.array(mcpToolName).min(1).max(256)])),
], { error: 'must be a list of MCP server names from your codex config (["notes"]) or a map of server name to its tool names ({ notes: ["echo"] }, or all); names use letters, digits, _ . -' })
  .refine((value) => Array.isArray(value) || Object.keys(value).length <= 64, "names at most 64 servers")
  .transform((value): Record<string, McpGrant> => Array.isArray(value)
    ? Object.fromEntries([...new Set(value)].map((name) => [name, "all" as const]))
    : Object.fromEntries(Object.entries(value).map(([name, tools]) => [name, tools === "all" ? "all" : [...new Set(tools)]])));

/**
 * One schema per setting, shared by agent files and ad-hoc `delegate` inputs.
 * Security: profile and model names reach codex as argv values (never through a shell); the patterns keep them
 * to plain names so a profile cannot name a path outside $CODEX_HOME.
 */
export const settingSchemas = {
  description: z.string().max(500).refine((s) => !/[\r\n]/.test(s.trim()), "must be one line"),
  profile: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be a plain profile name (letters, digits, _ . -)").refine((s) => !s.includes(".."), "must not contain \"..\""),
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/, "must be a plain model name"),
  reasoning_effort: z.enum(REASONING_EFFORTS),
  sandbox_mode: z.enum(SANDBOX_MODES),
  approval_policy: z.enum(APPROVAL_POLICIES),
  isolation: z.enum(ISOLATION_MODES),
  timeout_s: z.number().int().positive().max(MAX_TIMEOUT_S),
  /** Ignored dependency directories made available in a worktree (src/workspace/deps.ts). */
  worktree_deps: z.union([
    z.literal("auto"),
    z.array(z.union([
      z.string().min(1).max(4096),
      z.strictObject({ path: z.string().min(1).max(4096), mode: z.enum(["link", "copy"]).optional() }),
    ])).max(32),
  ], { error: 'must be "auto" or a list of directory names such as ["node_modules", { "path": ".venv", "mode": "copy" }]' }),
  /** The only MCP servers of the user's codex config the sub-agent gets (capped by --allow-mcp). */
  mcp_servers: mcpGrantsSchema,
  /** Codex's web_search tool, always set explicitly (capped by --max-web-search). */
  web_search: z.enum(WEB_SEARCH_MODES),
  /** Outbound network for a workspace-write sub-agent's commands (needs --allow-network). */
  network: z.boolean(),
} as const;

export type SettingKey = keyof typeof settingSchemas;
export const SETTING_KEYS = Object.keys(settingSchemas) as SettingKey[];

export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];
export type IsolationMode = (typeof ISOLATION_MODES)[number];

/** An agent's settings, each optional: the shape of `settingSchemas`. */
export const agentSettingsSchema = z.object(settingSchemas).partial();
export type AgentSettings = z.infer<typeof agentSettingsSchema>;

export interface Agent extends AgentSettings {
  name: string;
  persona: string;
  /** The file it came from; "(embedded)/<name>.md" for starters (EMBEDDED_PREFIX), "(ad-hoc)" for a delegate-defined agent. */
  file: string;
  /** Set only for a mapped format (claude-code, codex-role); absent means this server's own format. */
  format?: AgentFormat;
  /** For a mapped format: what its sandbox was mapped from, named in the note when --max-sandbox lowers it. */
  sandbox_from?: string;
}

export const agentIssueSchema = z.object({
  level: z.enum(["error", "warning"]),
  /** Stable, grep-able code, e.g. INVALID_VALUE. */
  code: z.string(),
  field: z.string().optional(),
  message: z.string(),
});
export type AgentIssue = z.infer<typeof agentIssueSchema>;
export type IssueLevel = AgentIssue["level"];

/** A file's outcome: the agent when it has no errors, and every issue found. */
export interface AgentFileResult {
  file: string;
  name: string;
  format: AgentFormat;
  agent?: Agent;
  /** Settings that parsed, even when the file has errors (so `list` can still show them). */
  settings: AgentSettings;
  issues: AgentIssue[];
}

export function hasErrors(issues: readonly AgentIssue[]): boolean {
  return issues.some((i) => i.level === "error");
}

/** How a starter agent embedded in the executable names its file (registry.ts loadEmbedded). */
export const EMBEDDED_PREFIX = "(embedded)/";

/**
 * Codex 0.169 and 0.171 refuse `approval_policy = "untrusted"` at start-up ("no longer supported; remove this
 * setting"), so an agent with it could never run. It is an error, not mapped to another value: "untrusted" asked before
 * every command that is not known safe, and each value that still works asks less, so a silent mapping would loosen
 * what the author wrote. The author chooses the replacement.
 */
function untrustedApprovalIssue(): AgentIssue {
  return {
    level: "error", code: "UNSUPPORTED_APPROVAL_POLICY", field: "approval_policy",
    message: 'approval_policy "untrusted" is refused by codex (0.169 and later: "no longer supported"), so this agent could never run; use "on-request" (the model must ask before anything outside its sandbox, and under codex exec nobody answers, so it stays inside) or "never" (it is never asked; the sandbox still holds)',
  };
}

/**
 * A value its schema accepts but codex refuses at start-up, checked after the schema by every format that sets it (our
 * files, ad-hoc calls, Codex role files): an agent that could never run is an error where it is written.
 */
export function refusedByCodex(key: SettingKey, value: unknown): AgentIssue | null {
  return key === "approval_policy" && value === "untrusted" ? untrustedApprovalIssue() : null;
}

/** The values to offer for an enum setting ("untrusted" is accepted by the schema only to be refused on its own). */
export function settingOptions(key: SettingKey): string[] | null {
  const options = (settingSchemas[key] as { options?: readonly unknown[] }).options;
  // An enum's options are its values; a union's (worktree_deps) are schemas, and its own message says what to write.
  if (!Array.isArray(options) || !options.every((option) => typeof option === "string")) return null;
  return (options as string[]).filter((o) => !(key === "approval_policy" && o === "untrusted"));
}

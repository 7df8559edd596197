/** Pure: loaded agent files → the shapes `list_agents`, `validate_agents` and the CLI report. */
import { z } from "zod";
import type { AgentsLocation } from "./registry.ts";
import { AGENT_FORMATS, agentIssueSchema, APPROVAL_POLICIES, EMBEDDED_PREFIX, hasErrors, ISOLATION_MODES, REASONING_EFFORTS, type AgentFileResult } from "./schema.ts";
import { describeCapabilities, plannedCapabilities, requestedGrants } from "../policy/capabilities.ts";
import { DEFAULT_SANDBOX, SANDBOX_MODES } from "../policy/sandbox.ts";
import { capabilitiesSchema } from "../shapes/delegate-result.ts";
import { escapeControl } from "../escape.ts";

/** Longest description a listing shows as written; longer ones (Claude Code's, with <example> blocks) are cut. */
export const LISTED_DESCRIPTION_CHARS = 500;
export const CUT_DESCRIPTION_CHARS = 300;
/** Shown for a description that is nothing but <example> blocks. */
export const ONLY_EXAMPLES = "(only examples; see the description in the agent file)";

/**
 * The description as listings and the delegate tool show it: as written when it is one line of at most 500
 * characters without <example> blocks (always so for this server's own format); otherwise the text before the first
 * <example>, on one line, cut at a word boundary near 300 characters.
 */
export function summarizeDescription(description: string | undefined): string | null {
  if (description === undefined) return null;
  if (!/[\r\n]/.test(description) && !/<example>/i.test(description) && description.length <= LISTED_DESCRIPTION_CHARS) return description;
  const head = description.split(/<example>/i)[0]!.replaceAll("\\n", " ").replace(/\s+/g, " ").trim();
  if (head.length <= CUT_DESCRIPTION_CHARS) return head === "" ? ONLY_EXAMPLES : head;
  const cut = head.slice(0, CUT_DESCRIPTION_CHARS);
  const space = cut.lastIndexOf(" ");
  return `${(space > CUT_DESCRIPTION_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export const listEntrySchema = z.object({
  name: z.string(),
  format: z.enum(AGENT_FORMATS),
  description: z.string().nullable(),
  profile: z.string().nullable(),
  model: z.string().nullable(),
  reasoning_effort: z.enum(REASONING_EFFORTS).nullable(),
  sandbox_mode: z.enum(SANDBOX_MODES).nullable(),
  approval_policy: z.enum(APPROVAL_POLICIES).nullable(),
  isolation: z.enum(ISOLATION_MODES).nullable(),
  /**
   * What the agent grants its sub-agent (its sandbox, network, web search, MCP servers), as the delegate result's
   * capabilities will say when the server's ceilings allow it and the user's codex config declares the servers.
   */
  capabilities: capabilitiesSchema,
  file: z.string(),
  ok: z.boolean(),
});

export const listReportSchema = z.object({
  dir: z.string().nullable(),
  source: z.enum(["directory", "embedded"]),
  /** How the directory was found: "--agents-dir", "./.claude/agents", … */
  found_by: z.string(),
  agents: z.array(listEntrySchema),
});
export type ListReport = z.infer<typeof listReportSchema>;


export const validateReportSchema = z.object({
  ok: z.boolean(),
  dir: z.string().nullable(),
  summary: z.object({ files: z.number(), ok: z.number(), with_errors: z.number(), with_warnings: z.number() }),
  files: z.array(z.object({ file: z.string(), agent: z.string(), format: z.enum(AGENT_FORMATS), ok: z.boolean(), issues: z.array(agentIssueSchema) })),
});
export type ValidateReport = z.infer<typeof validateReportSchema>;

export function listReport(location: AgentsLocation, files: readonly AgentFileResult[]): ListReport {
  return {
    dir: location.dir,
    source: location.source,
    found_by: location.foundBy,
    agents: files.map((f) => ({
      name: f.name,
      format: f.format,
      description: summarizeDescription(f.settings.description),
      profile: f.settings.profile ?? null,
      model: f.settings.model ?? null,
      reasoning_effort: f.settings.reasoning_effort ?? null,
      // Explicit: an agent that names no sandbox runs read-only, so that is what is listed, never an empty value.
      sandbox_mode: f.settings.sandbox_mode ?? DEFAULT_SANDBOX,
      approval_policy: f.settings.approval_policy ?? null,
      isolation: f.settings.isolation ?? null,
      capabilities: plannedCapabilities(f.settings.sandbox_mode ?? DEFAULT_SANDBOX, requestedGrants(f.settings)),
      file: f.file,
      ok: !hasErrors(f.issues) && f.agent !== undefined,
    })),
  };
}

export function validateReport(dir: string | null, files: readonly AgentFileResult[]): ValidateReport {
  const entries = files.map((f) => ({ file: f.file, agent: f.name, format: f.format, ok: !hasErrors(f.issues), issues: f.issues.map((i) => ({ ...i })) }));
  const withErrors = entries.filter((e) => !e.ok).length;
  return {
    ok: withErrors === 0,
    dir,
    summary: {
      files: entries.length,
      ok: entries.length - withErrors,
      with_errors: withErrors,
      with_warnings: entries.filter((e) => e.issues.some((i) => i.level === "warning")).length,
    },
    files: entries,
  };
}

/** `review.md`, or `review.md (claude-code)` for a file in another format than this server's own. */
function fileLabel(file: string, format: string): string {
  return format === "codex-subagents" ? file : `${file} (${format})`;
}

/** Human text for `validate`: one line per issue, grep-able, then a summary. */
export function formatValidateReport(report: ValidateReport): string {
  const lines: string[] = [];
  for (const file of report.files) {
    const label = fileLabel(file.file, file.format);
    if (file.issues.length === 0) lines.push(`ok      ${label}`);
    for (const issue of file.issues) {
      lines.push(`${issue.level === "error" ? "error  " : "warning"} ${label}: ${issue.code}${issue.field ? ` [${issue.field}]` : ""}: ${issue.message}`);
    }
  }
  const s = report.summary;
  lines.push(`${s.files} file(s): ${s.ok} ok, ${s.with_errors} with errors, ${s.with_warnings} with warnings${report.dir ? ` (in ${report.dir})` : ""}`);
  return lines.map(escapeControl).join("\n") + "\n";
}

export function formatListReport(report: ListReport, foundBy: string): string {
  const counts = new Map<string, number>();
  for (const a of report.agents) counts.set(a.format, (counts.get(a.format) ?? 0) + 1);
  const formats = [...counts].map(([format, n]) => `${n} ${format}`).join(", ");
  const starters = report.dir !== null && report.agents.some((a) => a.file.startsWith(EMBEDDED_PREFIX));
  const lines = [`agents from ${report.dir ?? "the embedded starter set"} (${foundBy})${starters ? ", then the embedded starters it has no file for" : ""}${formats ? `: ${formats}` : ""}`];
  const width = Math.max(4, ...report.agents.map((a) => a.name.length));
  for (const a of report.agents) {
    const flags = [a.format === "codex-subagents" ? null : a.format, a.isolation && a.isolation !== "none" ? a.isolation : null, a.model, a.profile ? `profile ${a.profile}` : null].filter(Boolean).join(", ");
    const from = starters && a.file.startsWith(EMBEDDED_PREFIX) ? "  (embedded starter)" : "";
    lines.push(`${a.ok ? " " : "!"} ${a.name.padEnd(width)}  ${a.description ?? ""}${flags ? ` [${flags}]` : ""}${from}${a.ok ? "" : "  (has errors: run validate)"}`);
    lines.push(`  ${" ".repeat(width)}  grants: ${describeCapabilities(a.capabilities)}`);
  }
  if (report.agents.length === 0) lines.push("  (no agent files)");
  return lines.map(escapeControl).join("\n") + "\n";
}

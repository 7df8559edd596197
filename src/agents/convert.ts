/**
 * Pure: a loaded agent in another format → the text of an agent file in this server's own format, with the mapped
 * settings and a YAML comment block listing what was not carried over. A file already in our format is not rendered:
 * `convert` copies it unchanged, which is what makes converting the output again change no byte.
 */
import { ONLY_EXAMPLES, summarizeDescription } from "./report.ts";
import type { McpGrants } from "../policy/capabilities.ts";
import { SETTING_KEYS, type Agent, type AgentFileResult } from "./schema.ts";

/** `mcp_servers` in the shortest form that says the same: a list when every server is granted whole. */
function grantsAsWritten(grants: McpGrants): unknown {
  const entries = Object.entries(grants);
  return entries.every(([, grant]) => grant === "all") ? entries.map(([name]) => name) : grants;
}

/** Settings whose values are enums: written plain. Free text (description, model, profile) is written quoted. */
const PLAIN_KEYS = new Set(["reasoning_effort", "sandbox_mode", "approval_policy", "isolation", "timeout_s", "web_search", "network"]);

const oneLine = (text: string) => text.replace(/[\r\n]+/g, " ");

export function renderConverted(result: AgentFileResult & { agent: Agent }, sourceLabel: string): string {
  const agent = result.agent;
  const lost = result.issues.filter((i) => i.level === "warning");
  const lines = ["---", `# Converted by codex-subagents convert from ${oneLine(sourceLabel)} (${result.format}).`];
  if (agent.sandbox_from) lines.push(`# sandbox_mode mapped from ${oneLine(agent.sandbox_from)}; a server's --max-sandbox refuses it when looser.`);
  const summary = summarizeDescription(agent.description);
  const description = summary === ONLY_EXAMPLES ? null : summary;
  if (agent.description !== undefined && description === null) {
    lines.push("# description: it held only <example> blocks, which are not kept; write a one-line description.");
  } else if (agent.description !== undefined && description !== agent.description) {
    const examples = /<example>/i.test(agent.description) ? "; its <example> blocks are not kept" : "";
    const cut = description?.length === agent.description.length ? "put on one line" : `cut from ${agent.description.length} to ${description?.length ?? 0} characters, on one line`;
    lines.push(`# description: ${cut}${examples}.`);
  }
  if (lost.length === 0) lines.push("# Not carried over: nothing.");
  else {
    lines.push("# Not carried over:");
    for (const issue of lost) lines.push(`#   ${issue.code}${issue.field ? ` [${issue.field}]` : ""}: ${oneLine(issue.message)}`);
  }
  const settings: Record<string, unknown> = { ...agent, description: description ?? undefined };
  for (const key of SETTING_KEYS) {
    const value = settings[key];
    if (value === undefined) continue;
    lines.push(`${key}: ${PLAIN_KEYS.has(key) ? String(value) : JSON.stringify(key === "mcp_servers" ? grantsAsWritten(value as McpGrants) : value)}`);
  }
  lines.push("---");
  return `${lines.join("\n")}\n${agent.persona}\n`;
}

/**
 * Pure: a Claude Code agent's frontmatter → this server's settings, key by key. The tools list decides the sandbox
 * (claude-tools.ts) and the grants (claude-grants.ts); every other key maps, or is a warning saying what is lost.
 */
import { claudeGrants } from "./claude-grants.ts";
import { claudeSandbox, claudeToolLists } from "./claude-tools.ts";
import { CLAUDE_ONLY_KEYS, mapNameAndDescription, quote, SHARED_KEYS, warn, type MappedAgent } from "./interop.ts";
import type { ReasoningEffort } from "./schema.ts";
import { unknownKeyIssue } from "./strict.ts";

const CLAUDE_EFFORT: Record<string, ReasoningEffort> = { low: "low", medium: "medium", high: "high", xhigh: "xhigh", max: "xhigh" };

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

/** A Claude Code agent's frontmatter → our settings. The body (persona) is handled by the caller. */
export function mapClaudeAgent(raw: Record<string, unknown>): MappedAgent {
  const out = mapNameAndDescription(raw);
  const { settings, issues } = out;

  const lists = claudeToolLists(raw);
  const { sandbox, from } = claudeSandbox(raw, lists, issues);
  settings.sandbox_mode = sandbox;
  out.sandboxFrom = from;
  Object.assign(settings, claudeGrants(raw, lists, issues));

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

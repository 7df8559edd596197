/**
 * Pure: agent + request → argv for codex: `exec` (or `exec resume <thread_id>`), `--json`, the agent's settings,
 * `--output-last-message` and `-`, the task then coming on stdin. No shell ever sees these; each value is one argv element.
 */
import type { Agent } from "../agents/schema.ts";

/**
 * Codex features every sub-agent runs without, as `--disable NAME` global options.
 *
 * Security: codex's own multi-agent tools (`multi_agent`: spawn_agent, wait_agent, send_input, close_agent,
 * resume_agent in the namespace `multi_agent_v1`; `multi_agent_v2`: the `collaboration` namespace, off by default but
 * a user's config.toml may turn it on) let a sub-agent start further agents inside its own codex, outside this
 * server's --max-depth, --max-concurrency, roots, sandbox ceiling and run records. Nesting goes through this server
 * (its `delegate` tool, offered to a sub-agent when the user's codex config lists it) or not at all, so the rule is
 * simply: always off, at every depth. Checked against the mock model's request log (test/adversarial/limits.test.ts)
 * and by `doctor` (a codex that does not know one of these names refuses to start, "Unknown feature flag").
 */
export const DISABLED_FEATURES = ["multi_agent", "multi_agent_v2"] as const;

/** Linux refuses a single argument over 128 KiB (E2BIG); stay clear of it. */
export const MAX_ARG_BYTES = 120 * 1024;

export interface CodexInvocation {
  agent: Agent;
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
 * One argv shape serves a first run and a resume: profile, sandbox and directory are codex's global options, placed
 * before the subcommand, because `exec resume` accepts no --cd, -s or -p of its own (`codex exec resume --help` lists none).
 * The prompt is `-`: the task arrives on stdin, so a task like "--help" or "resume" stays text.
 */
export function buildCodexArgs(inv: CodexInvocation): string[] {
  const { agent } = inv;
  const args: string[] = [];
  if (agent.profile) args.push("--profile", agent.profile);
  if (agent.sandbox_mode) args.push("--sandbox", agent.sandbox_mode);
  if (agent.model) args.push("--model", agent.model);
  args.push("--cd", inv.workingDir);
  if (agent.reasoning_effort) args.push("-c", `model_reasoning_effort=${tomlString(agent.reasoning_effort)}`);
  if (agent.approval_policy) args.push("-c", `approval_policy=${tomlString(agent.approval_policy)}`);
  args.push("-c", `developer_instructions=${tomlString(agent.persona)}`);
  for (const feature of DISABLED_FEATURES) args.push("--disable", feature);
  args.push("exec");
  if (inv.resumeThreadId) args.push("resume", inv.resumeThreadId);
  // The server already confined the directory to a configured root; codex's own trust prompt cannot be answered
  // by a non-interactive child, and a mirror or non-git root would otherwise fail.
  args.push("--json", "--skip-git-repo-check", "--output-last-message", inv.lastMessageFile);
  if (inv.outputSchemaFile) args.push("--output-schema", inv.outputSchemaFile);
  args.push("-");
  return args;
}

/** An argument too long for the OS would fail at spawn with E2BIG; say what to shorten instead. */
export function findOversizedArg(args: readonly string[]): string | null {
  for (const arg of args) {
    const bytes = Buffer.byteLength(arg, "utf8");
    if (bytes > MAX_ARG_BYTES) {
      const key = arg.split("=")[0];
      return `codex argument ${key} is ${bytes} bytes once encoded, over the ${MAX_ARG_BYTES}-byte limit of one argument; shorten the persona`;
    }
  }
  return null;
}

/** Thread ids are UUIDs; anything else is refused before it reaches codex's argv. */
export const THREAD_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

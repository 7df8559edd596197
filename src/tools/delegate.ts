import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Agent } from "../agents/schema.ts";
import { summarizeDescription } from "../agents/report.ts";
import { ISOLATION_MODES, settingSchemas } from "../agents/schema.ts";
import { THREAD_ID_PATTERN } from "../codex/args.ts";
import { callerSandboxFromMeta } from "../policy/caller-sandbox.ts";
import type { DelegateContext, DelegateInput, DelegateResult } from "../delegate.ts";
import { RUN_STATUSES, type RunManager } from "../runs/manager.ts";
import { errorResult, isRefusal } from "./results.ts";

const MAX_TASK_BYTES = 1024 * 1024;

export const delegateInputSchema = z.strictObject({
  agent: z.string().min(1).max(64).describe("A registry agent's name, or a new name for an ad-hoc agent (then persona is required)"),
  task: z.string().min(1).refine((t) => Buffer.byteLength(t, "utf8") <= MAX_TASK_BYTES, "task must be at most 1 MiB")
    .describe("What the sub-agent must do, self-contained: it sees none of your conversation"),
  cwd: z.string().optional().describe("Absolute directory to work in; must be inside one of the server's roots. Default: the first root"),
  isolation: z.enum(ISOLATION_MODES).optional().describe('"none": work in cwd. "worktree": a fresh git worktree at HEAD, changes returned as a patch. "mirror": a filtered temporary copy'),
  mirror_repo: z.boolean().optional().describe('Same as isolation: "mirror" (kept for older configurations)'),
  timeout_s: z.number().int().positive().optional().describe("Lower the time limit for this call, in seconds"),
  resume: z.string().regex(THREAD_ID_PATTERN, "resume must be a thread_id from an earlier result").optional().describe("A thread_id from an earlier result: continue that conversation"),
  output_schema: z.record(z.string(), z.unknown()).optional().describe("JSON Schema the final answer must match; it comes back parsed in structured"),
  // Issue 13. A list of strings only: a union (the agent file's "auto" | list of names or {path, mode}) is not in the
  // function-calling subset every client's model API takes (tools/portable-schema.ts). Copies are set in agent files.
  worktree_deps: z.array(z.string().min(1).max(4096)).max(32).optional().describe('isolation "worktree" only: ignored dependency directories of cwd (e.g. ["node_modules"]) linked read-only into the worktree so tests can run, or ["auto"] to find them. Replaces the agent\'s setting'),
  persona: z.string().max(64 * 1024).optional().describe("Ad-hoc agents only: the instructions"),
  profile: z.string().optional().describe("Ad-hoc agents only: a Codex profile name"),
  model: z.string().optional().describe("Ad-hoc agents only: the model"),
  reasoning_effort: settingSchemas.reasoning_effort.optional().describe("Ad-hoc agents only"),
  sandbox_mode: settingSchemas.sandbox_mode.optional().describe("Ad-hoc agents only; never above the server's --max-sandbox"),
  approval_policy: settingSchemas.approval_policy.optional().describe("Ad-hoc agents only"),
  background: z.boolean().optional().describe("true: return at once with run_id and status (queued or running); collect the result with get_run. Default false: wait for the result"),
});

const usageSchema = z.object({
  input_tokens: z.number(),
  cached_input_tokens: z.number(),
  output_tokens: z.number(),
  reasoning_output_tokens: z.number(),
});

export const delegateOutputSchema = z.object({
  ok: z.boolean(),
  agent: z.string(),
  exit_code: z.number().nullable(),
  final_message: z.string(),
  structured: z.unknown().optional(),
  thread_id: z.string().nullable(),
  usage: usageSchema.nullable(),
  duration_ms: z.number(),
  working_dir: z.string(),
  isolation: z.enum(ISOLATION_MODES),
  patch: z.string().optional(),
  stderr_tail: z.string(),
  timed_out: z.boolean(),
  cancelled: z.boolean(),
  run_dir: z.string().nullable(),
  notes: z.array(z.string()),
});

/**
 * What delegate, get_run and cancel_run return: the finished result above plus run_id, status, elapsed_ms and the last
 * steps; a run still queued or running has only agent, working_dir, isolation and notes of the fields above.
 */
export const runResultSchema = delegateOutputSchema.partial({
  ok: true, exit_code: true, final_message: true, thread_id: true, usage: true, duration_ms: true,
  stderr_tail: true, timed_out: true, cancelled: true, run_dir: true,
}).extend({
  run_id: z.string(),
  status: z.enum(RUN_STATUSES),
  elapsed_ms: z.number(),
  steps: z.array(z.string()),
});

export function describeDelegate(agents: readonly Agent[]): string {
  const lines = agents.map((a) => `- ${a.name}: ${summarizeDescription(a.description) ?? "(no description)"} [sandbox ${a.sandbox_mode ?? "read-only"}${a.isolation && a.isolation !== "none" ? `, ${a.isolation}` : ""}]`);
  return [
    "Delegate a self-contained task to a Codex sub-agent (a separate `codex exec` run with the agent's own instructions, model, sandbox and approval policy) and get back its final answer, its token usage and, for worktree isolation, its changes as a patch.",
    "Use it for work that benefits from a fresh context or a specialist: reviews, debugging, tests, docs, audits. Write the task so it stands alone: the sub-agent sees none of this conversation.",
    "It can take minutes. Pass thread_id from a result as `resume` to continue that conversation.",
    "For long or parallel work pass `background: true`: it returns a run_id at once; start several, keep working, then collect each with get_run (wait_s blocks up to the server's --max-wait). cancel_run ends one.",
    agents.length ? `Agents:\n${lines.join("\n")}` : "No agents are loaded; pass `persona` to define an ad-hoc agent.",
    "Unknown agent names need `persona` (an ad-hoc agent). Registry agents cannot be changed per call.",
  ].join("\n");
}

/** Why a result has ok: false, in the order delegate() decides it (notes[0] is often only the isolation note). */
function failureReason(result: DelegateResult): string {
  if (result.timed_out) return "codex was stopped at the time limit";
  if (result.cancelled) return "the call was cancelled";
  if (result.exit_code !== 0) return result.exit_code === null ? "codex did not start or was killed" : `codex exited with ${result.exit_code}`;
  return "codex gave no final message";
}

export interface DelegateToolDeps {
  context: DelegateContext;
  /** Ends in-flight calls when the server shuts down. */
  shutdownSignal: AbortSignal;
  /** The table of runs every call goes through (run ids, the concurrency queue, background runs). */
  runs: RunManager;
}

/** Progress notifications at least every this often while a call runs. */
export const HEARTBEAT_MS = 5000;

/** Registers the tool; its description names the agents once they are known (see createServer). */
export function registerDelegateTool(server: McpServer, deps: DelegateToolDeps): RegisteredTool {
  return server.registerTool("delegate", {
    title: "Delegate to a Codex sub-agent",
    description: describeDelegate([]),
    inputSchema: delegateInputSchema,
    outputSchema: runResultSchema,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  }, async (input, extra) => {
    const progressToken = extra._meta?.progressToken;
    let progress = 0;
    let finished = false;
    const startedAt = Date.now();
    let lastMessage = "starting";
    const notify = (message: string) => {
      if (finished || progressToken === undefined) return;
      progress += 1;
      lastMessage = message;
      extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress, message } }).catch(() => {});
    };
    const heartbeat = setInterval(() => notify(`${lastMessage.replace(/ \(\d+s\)$/, "")} (${Math.round((Date.now() - startedAt) / 1000)}s)`), HEARTBEAT_MS);
    try {
      const { background, ...request } = input as DelegateInput & { background?: boolean };
      const run = await deps.runs.start(request, { callerSandbox: callerSandboxFromMeta(extra._meta), ...(background ? {} : { signal: extra.signal, onStep: notify }) });
      if (background) {
        finished = true;
        const view = deps.runs.view(run);
        return { content: [{ type: "text" as const, text: JSON.stringify(view, null, 2) }], structuredContent: view as unknown as Record<string, unknown> };
      }
      await run.done;
      if (run.refusal !== undefined) return errorResult(run.refusal);
      const result = deps.runs.view(run) as DelegateResult & { run_id: string };
      finished = true;
      const text = JSON.stringify(result, null, 2);
      // SPEC §4: the first text block is exactly the structured result; a failure adds a one-line summary after it.
      const content = [{ type: "text" as const, text }];
      if (!result.ok) content.push({ type: "text", text: `delegation did not succeed: ${failureReason(result)}; see notes and stderr_tail` });
      return { content, structuredContent: result as unknown as Record<string, unknown>, isError: !result.ok };
    } catch (error) {
      finished = true;
      if (isRefusal(error)) return errorResult(error.message);
      deps.context.log.error(`delegate failed unexpectedly: ${(error as Error).stack ?? error}`);
      return errorResult(`internal error: ${(error as Error).message}; the server is still running — retry, and report this if it repeats`);
    } finally {
      finished = true;
      clearInterval(heartbeat);
    }
  });
}

/** What a delegation is asked to do: the `delegate` tool's input, and the request `run` and the run table pass on. */
import { z } from "zod";
import { ISOLATION_MODES, settingSchemas } from "../agents/schema.ts";
import { THREAD_ID_PATTERN } from "../codex/args.ts";
import { MAX_TASK_BYTES } from "../limits.ts";

/** One delegation request; `delegate()` takes exactly this. */
export const delegateRequestSchema = z.strictObject({
  agent: z.string().min(1).max(64).describe("A registry agent's name, or a new name for an ad-hoc agent (then persona is required)"),
  task: z.string().min(1).refine((t) => Buffer.byteLength(t, "utf8") <= MAX_TASK_BYTES, "task must be at most 1 MiB")
    .describe("What the sub-agent must do, self-contained: it sees none of your conversation"),
  cwd: z.string().optional().describe("Absolute directory to work in; must be inside one of the server's roots. Default: the server's working directory when it lies inside a root (Codex starts it in the project you opened), else the first root"),
  isolation: z.enum(ISOLATION_MODES).optional().describe('"none": work in cwd. "worktree": a fresh git worktree at HEAD, changes returned as a patch. "mirror": a filtered temporary copy'),
  mirror_repo: z.boolean().optional().describe('Same as isolation: "mirror" (kept for older configurations)'),
  timeout_s: z.number().int().positive().optional().describe("Lower the time limit for this call, in seconds"),
  resume: z.string().regex(THREAD_ID_PATTERN, "resume must be a thread_id from an earlier result").optional().describe("A thread_id from an earlier result: continue that conversation"),
  output_schema: z.record(z.string(), z.unknown()).optional().describe("JSON Schema the final answer must match; it comes back parsed in structured"),
  // A list of strings only: a union (the agent file's "auto" | list of names or {path, mode}) is not in the
  // function-calling subset every client's model API takes (tools/portable-schema.ts). Copies are set in agent files.
  worktree_deps: z.array(z.string().min(1).max(4096)).max(32).optional().describe('isolation "worktree" only: ignored dependency directories of cwd (e.g. ["node_modules"]) linked read-only into the worktree so tests can run, or ["auto"] to find them. Replaces the agent\'s setting'),
  persona: z.string().max(64 * 1024).optional().describe("Ad-hoc agents only: the instructions"),
  profile: z.string().optional().describe("Ad-hoc agents only: a Codex profile name"),
  model: z.string().optional().describe("Ad-hoc agents only: the model"),
  reasoning_effort: settingSchemas.reasoning_effort.optional().describe("Ad-hoc agents only"),
  sandbox_mode: settingSchemas.sandbox_mode.optional().describe("Ad-hoc agents only; never above the server's --max-sandbox"),
  approval_policy: settingSchemas.approval_policy.optional().describe("Ad-hoc agents only"),
  // A list of names only (all of each server's tools): the agent file's map form (name → tools) is not in the
  // function-calling subset (tools/portable-schema.ts). Tool lists are set in agent files.
  mcp_servers: z.array(z.string().min(1).max(64)).max(64).optional().describe("Ad-hoc agents only: MCP servers of the user's codex config the sub-agent gets, all of their tools; never beyond the server's --allow-mcp. Default none"),
  web_search: settingSchemas.web_search.optional().describe('Ad-hoc agents only: "disabled" (default), "cached" or "live"; never beyond the server\'s --max-web-search'),
  network: z.boolean().optional().describe("Ad-hoc agents only: outbound network for a workspace-write sub-agent's commands; needs the server's --allow-network. Default false"),
});
export type DelegateInput = z.infer<typeof delegateRequestSchema>;

/** The `delegate` tool's input: a request, plus whether to wait for it. */
export const delegateInputSchema = delegateRequestSchema.extend({
  background: z.boolean().optional().describe("true: return at once with run_id and status (queued or running); collect the result with get_run. Default false: wait for the result"),
});

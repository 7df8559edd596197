/** What one finished delegation returns (and what its run record's result.json holds). */
import { z } from "zod";
import { ISOLATION_MODES } from "../agents/schema.ts";
import { WEB_SEARCH_MODES } from "../policy/capabilities.ts";
import { SANDBOX_MODES } from "../policy/sandbox.ts";
import { usageSchema } from "./usage.ts";

/**
 * What a sub-agent could reach: its sandbox, network for its commands, web search, and the MCP servers codex started for
 * it (each with "all" of its tools, or the tools offered). Exactly what codex was told for the run.
 */
export const capabilitiesSchema = z.object({
  sandbox: z.enum(SANDBOX_MODES),
  network: z.boolean(),
  web_search: z.enum(WEB_SEARCH_MODES),
  mcp_servers: z.record(z.string(), z.union([z.literal("all"), z.array(z.string())])),
});

export const delegateResultSchema = z.object({
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
  /** Absent only when codex never started (a refusal after the call was accepted, a cancel in the queue). */
  capabilities: capabilitiesSchema.optional(),
  patch: z.string().optional(),
  stderr_tail: z.string(),
  timed_out: z.boolean(),
  cancelled: z.boolean(),
  run_dir: z.string().nullable(),
  /** Things the caller should know: a dirty tree the sub-agent did not see, a failure reason, what to do next. */
  notes: z.array(z.string()),
});
export type DelegateResult = z.infer<typeof delegateResultSchema>;

/** What one finished delegation returns (and what its run record's result.json holds). */
import { z } from "zod";
import { ISOLATION_MODES } from "../agents/schema.ts";
import { usageSchema } from "./usage.ts";

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
  patch: z.string().optional(),
  stderr_tail: z.string(),
  timed_out: z.boolean(),
  cancelled: z.boolean(),
  run_dir: z.string().nullable(),
  /** Things the caller should know: a dirty tree the sub-agent did not see, a failure reason, what to do next. */
  notes: z.array(z.string()),
});
export type DelegateResult = z.infer<typeof delegateResultSchema>;

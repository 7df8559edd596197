/**
 * What delegate, get_run and cancel_run return: a finished delegation's result plus run_id, status, elapsed_ms and the
 * last steps; a run still queued or running has only agent, working_dir, isolation and notes of the result's fields.
 */
import { z } from "zod";
import { delegateResultSchema } from "./delegate-result.ts";

export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type FinalStatus = Exclude<RunStatus, "queued" | "running">;

export const runResultSchema = delegateResultSchema.partial({
  ok: true, exit_code: true, final_message: true, thread_id: true, usage: true, duration_ms: true,
  stderr_tail: true, timed_out: true, cancelled: true, run_dir: true,
}).extend({
  run_id: z.string(),
  status: z.enum(RUN_STATUSES),
  /** Since the run was accepted (queue time included). */
  elapsed_ms: z.number(),
  /** The last few steps, one redacted line each, oldest first. */
  steps: z.array(z.string()),
});
export type RunView = z.infer<typeof runResultSchema>;

/**
 * Pure: a finished run and what was collected from it → the result the caller sees. The one choke point where the
 * result passes the redactor.
 */
import type { IsolationMode } from "../agents/schema.ts";
import type { RunOutcome } from "../codex/run.ts";
import type { Capabilities } from "../policy/capabilities.ts";
import { redactDeep, type Redactor } from "../policy/redact.ts";
import type { DelegateResult } from "../shapes/delegate-result.ts";
import type { Outcome } from "./outcome.ts";

export const STDERR_TAIL_BYTES = 8 * 1024;

/** The last `limit` bytes of text, never starting with half a character. */
export function tailBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= limit) return text;
  return bytes.subarray(bytes.length - limit).toString("utf8").replace(/^\uFFFD+/, "");
}

export const PATCH_REDACTED_NOTE = "a secret-looking value in the patch was replaced by [REDACTED]; that hunk will not apply as is";

export function buildResult(facts: {
  agent: string;
  isolation: IsolationMode;
  workingDir: string;
  run: RunOutcome;
  outcome: Outcome;
  /** What the sub-agent could reach (delegation/reach.ts). */
  capabilities: Capabilities;
  /** Every note, in the order the caller reads them. */
  notes: readonly string[];
  durationMs: number;
  runDir: string | null;
  redact: Redactor;
}): DelegateResult {
  const { run, outcome, redact } = facts;
  const result: DelegateResult = {
    ok: run.exitCode === 0 && !run.timedOut && !run.cancelled && outcome.finalMessage !== "" && !outcome.planted,
    agent: facts.agent,
    exit_code: run.exitCode,
    final_message: outcome.finalMessage,
    ...(outcome.structured !== undefined ? { structured: outcome.structured } : {}),
    thread_id: run.events.threadId,
    usage: run.events.usage,
    duration_ms: Math.round(facts.durationMs),
    working_dir: facts.workingDir,
    isolation: facts.isolation,
    capabilities: facts.capabilities,
    ...(outcome.patch !== undefined ? { patch: outcome.patch } : {}),
    // Security: redact before cutting to the tail, or a secret cut in half at the tail's edge is no longer
    // recognised and its remaining part is shown.
    stderr_tail: tailBytes(redact(run.stderrTail), STDERR_TAIL_BYTES),
    timed_out: run.timedOut,
    cancelled: run.cancelled,
    run_dir: facts.runDir,
    notes: [...facts.notes],
  };
  // Security: one choke point; everything the caller sees passes the redactor.
  const redacted = redactDeep(result, redact);
  const patchChanged = outcome.patch !== undefined && redacted.patch !== outcome.patch;
  return patchChanged ? { ...redacted, notes: [...redacted.notes, PATCH_REDACTED_NOTE] } : redacted;
}

/** A run that ended before codex produced anything (refused after it was accepted, cancelled in the queue). */
export function resultWithoutRun(facts: {
  agent: string;
  isolation: IsolationMode;
  workingDir: string;
  reason: string;
  /** The reason's next step: a note of its own, after the reason, as `hint: …`. */
  hint?: string | undefined;
  cancelled: boolean;
  durationMs: number;
  runDir: string | null;
}): DelegateResult {
  return {
    ok: false,
    agent: facts.agent,
    exit_code: null,
    final_message: "",
    thread_id: null,
    usage: null,
    duration_ms: Math.round(facts.durationMs),
    working_dir: facts.workingDir,
    isolation: facts.isolation,
    stderr_tail: "",
    timed_out: false,
    cancelled: facts.cancelled,
    run_dir: facts.runDir,
    notes: [facts.reason, ...(facts.hint ? [`hint: ${facts.hint}`] : [])],
  };
}

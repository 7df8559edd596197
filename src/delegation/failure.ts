/**
 * Why a delegation did not succeed, in words. Built here only, from the run's flags (timed out, cancelled, spawn error,
 * exit code, no final message, a planted last-message file): the result's notes (the patch's among them), the
 * delegate tool's summary line and `run`'s stderr all take their words from here, so one failure is never told three
 * ways.
 */
import type { RunOutcome } from "../codex/run.ts";

/** The flags a finished delegation is judged by, as its result (or a run's view of it) carries them. */
export interface FailureFlags {
  timed_out?: boolean;
  cancelled?: boolean;
  /** null: codex did not start, or a signal ended it. */
  exit_code?: number | null;
}

/** Who is told: an MCP client made a "call"; `run` in a terminal or CI job started a "run". */
export type FailureSubject = "call" | "run";

const STOPPED_AT_LIMIT = "codex was stopped at the time limit";

function cancelled(subject: FailureSubject): string {
  return `the ${subject} was cancelled`;
}

/** Why it failed, in one clause: the first of these that holds, in the order the result's `ok` is decided. */
export function failureReason(flags: FailureFlags, subject: FailureSubject): string {
  if (flags.timed_out) return STOPPED_AT_LIMIT;
  if (flags.cancelled) return cancelled(subject);
  if (flags.exit_code === null || flags.exit_code === undefined) return "codex did not start or was killed";
  if (flags.exit_code !== 0) return `codex exited with ${flags.exit_code}`;
  // Exit 0 and still failed: no final message, or none that could be trusted (see finalMessageNotes).
  return "codex gave no final message";
}

/** How a sub-agent that did not finish its work ended, said of the sub-agent ("the sub-agent …"); null when it did. */
export function howItStopped(run: Pick<RunOutcome, "cancelled" | "timedOut" | "exitCode">): string | null {
  if (run.cancelled) return "was cancelled";
  if (run.timedOut) return "was stopped at the time limit";
  return run.exitCode !== 0 ? `failed (exit ${run.exitCode})` : null;
}

/** What the run itself says the caller should know: it did not start, was stopped, or codex reported errors. */
export function runNotes(run: RunOutcome, timeoutS: number): readonly string[] {
  return [
    ...(run.spawnError ? [run.spawnError] : []),
    ...(run.timedOut ? [`${STOPPED_AT_LIMIT} of ${timeoutS}s; give a smaller task, or a larger timeout_s (at most the server's --timeout)`] : []),
    ...(run.cancelled ? [`${cancelled("call")}; codex and everything it started were ended`] : []),
    ...run.events.errors.map((error) => `codex reported: ${error}`),
    ...(run.events.errorsDropped > 0 ? [`(${run.events.errorsDropped} earlier codex error(s) not shown; see the run record)`] : []),
  ];
}

/**
 * Why there is no final message to show, when there is none: something other than a regular file was found at the
 * last-message path (`planted`), or codex finished on its own (`silent`: not stopped, not failed to start) without one.
 */
export function finalMessageNotes(message: { planted: string | null; silent: boolean }): string[] {
  if (message.planted) return [`the last-message file was tampered with: ${message.planted}; the run counts as failed`];
  return message.silent ? ["codex finished without a final message; see stderr_tail"] : [];
}

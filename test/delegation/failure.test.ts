/** Why a delegation did not succeed, in words, from the run's flags alone (src/delegation/failure.ts). */
import { describe, expect, test } from "bun:test";
import { newEventState } from "../../src/codex/events.ts";
import type { RunOutcome } from "../../src/codex/run.ts";
import { runNotes } from "../../src/delegation/failure.ts";

function run(over: Partial<RunOutcome> = {}): RunOutcome {
  return { exitCode: 0, exitSignal: null, timedOut: false, cancelled: false, spawnError: null, events: newEventState(), stderrTail: "", durationMs: 1, ...over };
}

describe("why it failed", () => {
  test("run notes: a spawn error, the time limit, a cancel, codex's errors and how many were dropped", () => {
    const events = { ...newEventState(), errors: ["boom"], errorsDropped: 2 };
    const notes = runNotes(run({ spawnError: "codex not found", timedOut: true, cancelled: true, events }), 30);
    expect(notes).toEqual([
      "codex not found",
      "codex was stopped at the time limit of 30s; give a smaller task, or a larger timeout_s (at most the server's --timeout)",
      "the call was cancelled; codex and everything it started were ended",
      "codex reported: boom",
      "(2 earlier codex error(s) not shown; see the run record)",
    ]);
    expect(runNotes(run(), 30)).toEqual([]);
  });
});

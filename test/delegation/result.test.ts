/**
 * The end of a delegation, without codex: the outcome collected from a run, and the result built from that outcome
 * (redaction at one choke point). The notes a run gives are tested in failure.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { newEventState } from "../../src/codex/events.ts";
import type { RunOutcome } from "../../src/codex/run.ts";
import { collectOutcome, type Outcome } from "../../src/delegation/outcome.ts";
import { Refusal } from "../../src/errors.ts";
import { buildResult, PATCH_REDACTED_NOTE, resultWithoutRun, STDERR_TAIL_BYTES } from "../../src/delegation/result.ts";
import { createRedactor } from "../../src/policy/redact.ts";
import { delegateResultSchema } from "../../src/shapes/delegate-result.ts";

function run(over: Partial<RunOutcome> = {}): RunOutcome {
  return { exitCode: 0, exitSignal: null, timedOut: false, cancelled: false, spawnError: null, events: newEventState(), stderrTail: "", durationMs: 1, ...over };
}
const outcome = (over: Partial<Outcome> = {}): Outcome => ({ finalMessage: "done", planted: null, notes: [], ...over });

describe("the result", () => {
  const capabilities = { sandbox: "read-only" as const, network: false, web_search: "disabled" as const, mcp_servers: {} };
  const base = { agent: "a", isolation: "worktree" as const, workingDir: "/w", durationMs: 12.4, runDir: null, capabilities };

  test("a successful run: ok, the schema's shape, notes as given", () => {
    const result = buildResult({ ...base, run: run(), outcome: outcome({ patch: "" }), notes: ["n1", "n2"], redact: createRedactor([]) });
    expect(delegateResultSchema.safeParse(result).success).toBe(true);
    expect(result).toMatchObject({ ok: true, final_message: "done", duration_ms: 12, patch: "", notes: ["n1", "n2"], exit_code: 0 });
  });

  test("not ok: a timeout, a cancel, a non-zero exit, no final message, a planted last-message file", () => {
    const redact = createRedactor([]);
    for (const [r, o] of [[run({ timedOut: true }), outcome()], [run({ cancelled: true }), outcome()], [run({ exitCode: 1 }), outcome()], [run(), outcome({ finalMessage: "" })], [run(), outcome({ planted: "a FIFO" })]] as const) {
      expect(buildResult({ ...base, run: r, outcome: o, notes: [], redact }).ok).toBe(false);
    }
  });

  test("one choke point: every field is redacted, a changed patch adds a note, stderr is redacted before its tail is cut", () => {
    const secret = "s3cr3t-value-0123456789";
    const redact = createRedactor([secret]);
    const notes = Object.freeze([`note with ${secret}`]);
    const result = buildResult({
      ...base, notes, redact,
      run: run({ stderrTail: `${"x".repeat(STDERR_TAIL_BYTES)}${secret}` }),
      outcome: outcome({ finalMessage: `answer ${secret}`, patch: `+${secret}\n`, structured: { k: secret } }),
    });
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(result.notes).toEqual(["note with [REDACTED]", PATCH_REDACTED_NOTE]);
    expect(result.stderr_tail.endsWith("[REDACTED]")).toBe(true);
    expect(notes).toEqual([`note with ${secret}`]); // the notes given are data, not changed
  });

  test("the patch note says what the patch is: finished changes, what a cancelled or failed run left, or nothing", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "cs-patch-note-"));
    try {
      const workspace = (patch: string) => ({ mode: "worktree" as const, workingDir: dir, notes: [], collectPatch: async () => ({ patch, notes: [] }), cleanup: async () => {} });
      const noteOf = async (r: RunOutcome, patch = "+x\n") => (await collectOutcome({ run: r, workspace: workspace(patch), isolation: "worktree", lastMessageFile: path.join(dir, "none"), redact: (t) => t })).notes.join(" ");
      expect(await noteOf(run())).toContain("its changes are returned as a patch");
      for (const [stopped, said] of [[run({ cancelled: true }), "was cancelled"], [run({ timedOut: true }), "was stopped at the time limit"], [run({ exitCode: 3 }), "failed (exit 3)"]] as const) {
        const note = await noteOf(stopped);
        expect(note).toContain(`the sub-agent ${said}: the patch holds what it had changed by then, which may be unfinished`);
        expect(note).not.toContain("its changes are returned as a patch");
      }
      expect(await noteOf(run({ cancelled: true }), "")).toContain("changed nothing in its worktree");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a patch that cannot be collected says why and, on a line of its own, what to do instead", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "cs-patch-refused-"));
    try {
      const refusing = {
        mode: "worktree" as const, workingDir: dir, notes: [], cleanup: async () => {},
        collectPatch: async () => { throw new Refusal("the patch is too large to return", { hint: "ask for a smaller change" }); },
      };
      const collected = await collectOutcome({ run: run(), workspace: refusing, isolation: "worktree", lastMessageFile: path.join(dir, "none"), redact: (t) => t });
      expect(collected.notes.slice(-2)).toEqual(["the sub-agent's changes could not be collected: the patch is too large to return", "hint: ask for a smaller change"]);
      expect(collected.patch).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a run that never started has the result's shape", () => {
    const result = resultWithoutRun({ agent: "a", isolation: "none", workingDir: "/w", reason: "why", cancelled: true, durationMs: 3, runDir: null });
    expect(delegateResultSchema.safeParse(result).success).toBe(true);
    expect(result).toMatchObject({ ok: false, cancelled: true, notes: ["why"], exit_code: null });
  });
});

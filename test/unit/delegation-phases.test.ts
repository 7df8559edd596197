/**
 * The phases of a delegation that need no codex: the plan (agent, sandbox, isolation, limits), the argv it turns
 * into, the notes a run gives, and the result built from an outcome (redaction at one choke point).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadRegistry } from "../../src/agents/registry.ts";
import { newEventState } from "../../src/codex/events.ts";
import type { RunOutcome } from "../../src/codex/run.ts";
import type { DelegateContext } from "../../src/delegation/context.ts";
import { DelegateError, planDelegation } from "../../src/delegation/plan.ts";
import { invocationOf, planInvocation } from "../../src/delegation/invocation.ts";
import { runNotes } from "../../src/delegation/failure.ts";
import { collectOutcome, type Outcome } from "../../src/delegation/outcome.ts";
import { buildResult, PATCH_REDACTED_NOTE, resultWithoutRun, STDERR_TAIL_BYTES } from "../../src/delegation/result.ts";
import { createRedactor } from "../../src/policy/redact.ts";
import { delegateResultSchema } from "../../src/shapes/delegate-result.ts";
import { testContext } from "../helpers/delegate-context.ts";

let root: string;
beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-unit-plan-")));
  await mkdir(path.join(root, "sub"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The shared test context with no agents (every call here is ad-hoc) and a longer server time limit. */
function context(over: Partial<DelegateContext> = {}): Promise<DelegateContext> {
  return testContext(root, { registry: () => loadRegistry({ dir: null, source: "embedded", foundBy: "test" }, []), maxTimeoutS: 600, ...over });
}

const refusal = (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => e as Error);

describe("the plan", () => {
  test("an ad-hoc agent: its settings, the first root as cwd, the server's timeout, read-only by default", async () => {
    const plan = await planDelegation({ agent: "adhoc", persona: "  be brief  ", task: "t", model: "m1" }, await context());
    expect(plan.agent).toMatchObject({ name: "adhoc", persona: "be brief", model: "m1", file: "(ad-hoc)" });
    expect(plan.sandbox).toBe("read-only");
    expect(plan.isolation).toBe("none");
    expect(plan.cwd).toBe(root);
    expect(plan.timeoutS).toBe(600);
    expect(plan.notes).toEqual([]);
  });

  test("limits: timeout_s lowers the server's, never raises it; cwd resolves inside the roots", async () => {
    const ctx = await context({ maxTimeoutS: 60 });
    expect((await planDelegation({ agent: "a", persona: "p", task: "t", timeout_s: 5 }, ctx)).timeoutS).toBe(5);
    expect((await planDelegation({ agent: "a", persona: "p", task: "t", timeout_s: 500 }, ctx)).timeoutS).toBe(60);
    expect((await planDelegation({ agent: "a", persona: "p", task: "t", cwd: path.join(root, "sub") }, ctx)).cwd).toBe(path.join(root, "sub"));
  });

  test("the caller's own sandbox lowers the agent's, with a note", async () => {
    const plan = await planDelegation({ agent: "a", persona: "p", task: "t", sandbox_mode: "workspace-write" }, await context(), "read-only");
    expect(plan.sandbox).toBe("read-only");
    expect(plan.notes.length).toBe(1);
  });

  test("refusals, before anything is queued or spawned", async () => {
    const ctx = await context();
    expect((await refusal(planDelegation({ agent: "nobody", task: "t" }, ctx)))?.message).toContain('unknown agent "nobody"');
    expect(await refusal(planDelegation({ agent: "a", persona: "p", task: "t", sandbox_mode: "danger-full-access" }, ctx))).toBeInstanceOf(DelegateError);
    expect((await refusal(planDelegation({ agent: "a", persona: "p", task: "t", cwd: os.tmpdir() }, ctx)))).toBeInstanceOf(DelegateError);
    expect((await refusal(planDelegation({ agent: "a", persona: "p", task: "t", mirror_repo: true, isolation: "worktree" }, ctx)))?.message).toContain("conflicts");
    expect((await refusal(planDelegation({ agent: "a", persona: "p", task: "t" }, await context({ depth: 1 }))))?.message).toContain("nesting limit");
  });
});

const REACH = { webSearch: "disabled", network: false, mcpServers: {}, untrustedProjects: [] } as const;

describe("the invocation", () => {
  test("argv from the plan: global options before exec, the task on stdin, files in the run directory", async () => {
    const plan = await planDelegation({ agent: "a", persona: "p", task: "t", model: "m1", sandbox_mode: "workspace-write" }, await context());
    const inv = planInvocation(invocationOf(plan, { resume: "01a210a5-85de-7012-9960-7201f5cddc86", output_schema: { type: "object" } }, { workingDir: "/w", runDir: "/r" }), REACH);
    expect(inv.lastMessageFile).toBe(path.join("/r", "last-message.txt"));
    expect(inv.outputSchemaFile).toBe(path.join("/r", "output-schema.json"));
    expect(inv.problem).toBeNull();
    const args = [...inv.args];
    expect(args.slice(0, 6)).toEqual(["--sandbox", "workspace-write", "--model", "m1", "--cd", "/w"]);
    expect(args.slice(args.indexOf("exec"), args.indexOf("exec") + 3)).toEqual(["exec", "resume", "01a210a5-85de-7012-9960-7201f5cddc86"]);
    expect(args).toContain("--output-schema");
    expect(args.at(-1)).toBe("-");
  });

  test("no output_schema: no schema file; a persona too long for one argument is a problem, not a spawn error", async () => {
    const plan = await planDelegation({ agent: "a", persona: "p", task: "t" }, await context());
    const inv = planInvocation(invocationOf(plan, {}, { workingDir: "/w", runDir: "/r" }), REACH);
    expect(inv.outputSchemaFile).toBeUndefined();
    expect(inv.args).not.toContain("--output-schema");
    const long = planInvocation(invocationOf({ ...plan, agent: { ...plan.agent, persona: "x".repeat(130 * 1024) } }, {}, { workingDir: "/w", runDir: "/r" }), REACH);
    expect(long.problem).toContain("shorten the persona");
  });
});

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

  test("a run that never started has the result's shape", () => {
    const result = resultWithoutRun({ agent: "a", isolation: "none", workingDir: "/w", reason: "why", cancelled: true, durationMs: 3, runDir: null });
    expect(delegateResultSchema.safeParse(result).success).toBe(true);
    expect(result).toMatchObject({ ok: false, cancelled: true, notes: ["why"], exit_code: null });
  });
});

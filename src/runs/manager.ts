/**
 * The server's table of runs: every delegation, foreground or background, gets a run id, waits its turn for a slot
 * (--max-concurrency, in arrival order), runs through delegate(), and stays readable with get_run once it ends: from
 * memory while the server keeps it, then from its run record (so after a restart too). Nothing here outlives the
 * server: its shutdown signal ends every run still going, and each is recorded as cancelled.
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { oneLine } from "../codex/events.ts";
import type { DelegateContext } from "../delegation/context.ts";
import { DelegateError, planDelegation, type DelegationPlan } from "../delegation/plan.ts";
import { runDelegation } from "../delegation/run.ts";
import { resultWithoutRun } from "../delegation/result.ts";
import { internalError, isRefusal, type RefusalParts } from "../errors.ts";
import type { SandboxMode } from "../policy/sandbox.ts";
import type { IsolationMode } from "../agents/schema.ts";
import type { DelegateInput } from "../shapes/delegate-input.ts";
import { delegateResultSchema, type DelegateResult } from "../shapes/delegate-result.ts";
import type { FinalStatus, RunStatus, RunView } from "../shapes/run-result.ts";
import { isRunId, mintRunId } from "./id.ts";
import { abandonedBy, readRecordJson, RUN_FILES } from "./record.ts";

/** How many step summaries a run keeps for get_run (the most recent). */
export const STEPS_KEPT = 5;
/**
 * Runs queued or running at once per server. Security: each holds its request (a task can be 1 MiB) until it ends,
 * so a model starting background runs in a loop must meet a limit rather than grow the server's memory.
 */
export const MAX_UNFINISHED_RUNS = 100;
/** Finished runs kept in memory; older ones are read back from their record. */
export const FINISHED_KEPT_IN_MEMORY = 100;
/** cancel_run waits this long for a run to end (codex gets SIGTERM, then SIGKILL 2 s later, see codex/run.ts). */
const CANCEL_WAIT_MS = 8000;

export function finalStatusOf(result: Pick<DelegateResult, "ok" | "timed_out" | "cancelled">): FinalStatus {
  if (result.ok) return "succeeded";
  if (result.timed_out) return "timed_out";
  if (result.cancelled) return "cancelled";
  return "failed";
}

export function isFinal(status: RunStatus): status is FinalStatus {
  return status !== "queued" && status !== "running";
}

/** What a run is known by before it has a result: the plan's agent, isolation and (checked) cwd. */
export interface CheckedRequest {
  agent: string;
  isolation: IsolationMode;
  cwd: string;
}

function checkedOf(plan: DelegationPlan): CheckedRequest {
  return { agent: plan.agent.name, isolation: plan.isolation, cwd: plan.cwd };
}

/** The checks every run gets before it queues (delegation/plan.ts planDelegation), for a caller that must know at once. */
export async function checkRequest(input: DelegateInput, ctx: DelegateContext, callerSandbox?: SandboxMode): Promise<CheckedRequest> {
  return checkedOf(await planDelegation(input, ctx, callerSandbox));
}

export interface Run {
  readonly id: string;
  readonly checked: CheckedRequest;
  readonly acceptedAt: number;
  status: RunStatus;
  steps: string[];
  result?: DelegateResult;
  /**
   * Set when the run was refused after it was accepted (a workspace that cannot be made, a cancel while queued), or
   * failed on a broken invariant: what went wrong and the next step, as the caller is told it.
   */
  refusal?: RefusalParts;
  finishedAt?: number;
  readonly controller: AbortController;
  /** Resolves when the run has ended and its record is written; never rejects. */
  done: Promise<void>;
  readonly listeners: Set<(step: string) => void>;
}

export interface RunManagerOptions {
  context: DelegateContext;
  shutdownSignal: AbortSignal;
  /** Where run records live (for runs this server no longer holds); null when recording is off. */
  runsDir: string | null;
  now?: () => number;
}

export type Lookup = { found: "memory"; run: Run } | { found: "record"; view: RunView } | ({ found: "none" } & RefusalParts);

export class RunManager {
  private readonly runs = new Map<string, Run>();
  private readonly ctx: DelegateContext;
  private readonly now: () => number;

  constructor(private readonly options: RunManagerOptions) {
    this.ctx = options.context;
    this.now = options.now ?? Date.now;
  }

  /** Runs not yet finished. */
  get active(): number {
    let n = 0;
    for (const run of this.runs.values()) if (!isFinal(run.status)) n += 1;
    return n;
  }

  /**
   * Check the request and queue it. Refusals throw DelegateError before anything is queued. `signal` (a foreground
   * call's own) also ends the run; a background run has none and ends with cancel_run or the server.
   */
  async start(
    input: DelegateInput,
    opts: { signal?: AbortSignal; onStep?: (step: string) => void; callerSandbox?: SandboxMode } = {},
  ): Promise<Run> {
    const plan = await planDelegation(input, this.ctx, opts.callerSandbox);
    const checked = checkedOf(plan);
    if (this.options.shutdownSignal.aborted) throw new DelegateError("the server is shutting down", { hint: "start the delegation again once it is back" });
    if (this.active >= MAX_UNFINISHED_RUNS) {
      throw new DelegateError(`${this.active} runs are already queued or running, the most one server holds (${MAX_UNFINISHED_RUNS})`, {
        hint: "collect some with get_run (wait_s) or end them with cancel_run, then start this one",
      });
    }
    const controller = new AbortController();
    const run: Run = {
      id: mintRunId(checked.agent),
      checked,
      acceptedAt: this.now(),
      status: "queued",
      steps: [],
      controller,
      done: Promise.resolve(),
      listeners: new Set(opts.onStep ? [opts.onStep] : []),
    };
    this.runs.set(run.id, run);
    const signal = AbortSignal.any([controller.signal, this.options.shutdownSignal, ...(opts.signal ? [opts.signal] : [])]);
    run.done = this.execute(run, plan, input, signal);
    return run;
  }

  private step(run: Run, message: string): void {
    const line = oneLine(this.ctx.redact(message), 200);
    run.steps.push(line);
    if (run.steps.length > STEPS_KEPT) run.steps.shift();
    for (const listener of run.listeners) listener(line);
  }

  /** Wait for a slot, then run the plan checked at start (runDelegation resolves the cwd again before it is used). */
  private async execute(run: Run, plan: DelegationPlan, input: DelegateInput, signal: AbortSignal): Promise<void> {
    const { limiter } = this.ctx;
    if (limiter.active >= limiter.max) this.step(run, `waiting for a free slot (${limiter.active} running, ${limiter.queued} queued before this call)`);
    let release: (() => void) | undefined;
    try {
      release = await limiter.acquire(signal);
    } catch {
      await this.endWithoutResult(run, input, { message: "the call was cancelled while it waited for a free slot; nothing ran" }, true);
      return;
    }
    run.status = "running";
    try {
      // The record is named by the run id; a run waiting for the tree lock (runs that write in place never overlap
      // runs below their cwd: tree-lock.ts) shows as queued meanwhile.
      const { startRecord, treeLock } = this.ctx;
      const context: DelegateContext = {
        ...this.ctx,
        startRecord: (meta) => startRecord({ ...meta, id: run.id }),
        treeLock: { hold: (claim, o) => treeLock.hold(claim, { ...o, onWait: (why) => { run.status = "queued"; o?.onWait?.(why); } }).then((r) => { run.status = "running"; return r; }) },
      };
      const result = await runDelegation(plan, input, context, { signal, onProgress: (message) => this.step(run, message) });
      this.finish(run, result);
    } catch (error) {
      if (isRefusal(error)) {
        await this.endWithoutResult(run, input, error, signal.aborted);
      } else {
        this.ctx.log.error(`run ${run.id} failed unexpectedly: ${(error as Error).stack ?? error}`);
        await this.endWithoutResult(run, input, internalError(error), signal.aborted);
      }
    } finally {
      release();
    }
  }

  private finish(run: Run, result: DelegateResult): void {
    run.result = result;
    run.finishedAt = this.now();
    run.status = finalStatusOf(result);
    run.listeners.clear();
    this.evictFinished();
  }

  /**
   * A run that ended before delegate() produced a result: say why, and record it so get_run finds it later. The
   * result's notes hold the reason and, as a note of its own, its hint.
   */
  private async endWithoutResult(run: Run, input: DelegateInput, reason: RefusalParts, cancelled: boolean): Promise<void> {
    const { checked } = run;
    let result = resultWithoutRun({
      agent: checked.agent, isolation: checked.isolation, workingDir: checked.cwd, reason: reason.message, hint: reason.hint, cancelled,
      durationMs: this.now() - run.acceptedAt, runDir: null,
    });
    try {
      const record = await this.ctx.startRecord({ agent: checked.agent, request: { ...input, cwd: checked.cwd, isolation: checked.isolation }, id: run.id });
      if (record) {
        result = { ...result, run_dir: record.dir };
        await record.finish({ result, stderr: "", finalMessage: "" });
      }
    } catch (error) {
      this.ctx.log.warn(`run ${run.id}: could not write its record: ${(error as Error).message}`);
    }
    run.refusal = { message: reason.message, hint: reason.hint };
    this.finish(run, result);
  }

  private evictFinished(): void {
    const finished = [...this.runs.values()].filter((r) => isFinal(r.status));
    for (const run of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT_IN_MEMORY))) this.runs.delete(run.id);
  }

  view(run: Run): RunView {
    const steps = [...run.steps];
    if (run.result) {
      return { ...run.result, run_id: run.id, status: run.status, elapsed_ms: Math.round((run.finishedAt ?? this.now()) - run.acceptedAt), steps };
    }
    const { agent, cwd, isolation } = run.checked;
    const notes = run.status === "queued"
      ? [`queued: waiting for one of the --max-concurrency slots (${this.ctx.limiter.max}); working_dir is the requested cwd until it starts`]
      : [];
    return { agent, working_dir: cwd, isolation, notes, run_id: run.id, status: run.status, elapsed_ms: Math.round(this.now() - run.acceptedAt), steps };
  }

  /** A run by id: this server's, else its record in the runs directory. */
  async lookup(given: string): Promise<Lookup> {
    // A result's run_dir names the run too, when it is a record in this server's runs directory.
    const id = this.options.runsDir !== null && path.isAbsolute(given) && path.dirname(path.resolve(given)) === path.resolve(this.options.runsDir)
      ? path.basename(path.resolve(given))
      : given;
    const run = this.runs.get(id);
    if (run) return { found: "memory", run };
    const unknown = {
      found: "none",
      message: `unknown run_id "${oneLine(id, 120)}": no run of this server has it and no finished record in the runs directory has that name; run ids are the run_id of a delegate result`,
      hint: "to find recent ones, run: codex-subagents runs",
    } as const;
    if (!isRunId(id) || this.options.runsDir === null) return unknown;
    const dir = path.join(this.options.runsDir, id);
    const info = await lstat(dir).catch(() => null);
    if (!info?.isDirectory()) return unknown;
    const stored = await readStoredResult(path.join(dir, RUN_FILES.result));
    if (!stored) {
      const gone = await abandonedBy(dir);
      const why = gone
        ? `its server (pid ${gone.pid}) is no longer running, so it will not finish`
        : "it is running in another codex-subagents server (each client session starts its own), or its server was killed before it finished";
      return { found: "none", message: `run "${id}" has a record but no result: ${why}`, hint: `see what it did with: codex-subagents runs show ${id}` };
    }
    const status = finalStatusOf(stored);
    return { found: "record", view: { ...stored, run_id: id, status, elapsed_ms: stored.duration_ms, steps: [], notes: [...stored.notes, "read from the run record (the run ended in an earlier server or was evicted from memory)"] } };
  }

  /** Wait until the run ends, `waitMs` passes or `signal` aborts. */
  async wait(run: Run, waitMs: number, signal?: AbortSignal): Promise<void> {
    if (isFinal(run.status) || waitMs <= 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      run.done,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
      new Promise<void>((resolve) => {
        if (!signal) return;
        onAbort = resolve;
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }

  /** End a run (and everything it started) and wait for its final result. A finished run is left as it is. */
  async cancel(run: Run): Promise<void> {
    if (isFinal(run.status)) return;
    run.controller.abort();
    await this.wait(run, CANCEL_WAIT_MS);
  }

  /** At shutdown (after the shutdown signal fired): wait until every run has ended and been recorded, or `limitMs`. */
  async settle(limitMs: number): Promise<void> {
    const pending = [...this.runs.values()].filter((r) => !isFinal(r.status)).map((r) => r.done);
    if (pending.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(pending), new Promise<void>((resolve) => { timer = setTimeout(resolve, limitMs); })]);
    clearTimeout(timer);
  }
}

/** A finished run's result.json, as the schema says it is (record.ts readRecordJson: a planted link or FIFO is not followed). */
async function readStoredResult(file: string): Promise<DelegateResult | null> {
  const parsed = delegateResultSchema.safeParse(await readRecordJson(file));
  return parsed.success ? parsed.data : null;
}

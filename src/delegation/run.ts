/**
 * Running a delegation's plan (plan.ts): wait for a slot, prepare the workspace, settle what codex may reach, run
 * codex, collect the answer and the patch, build the result, and clean up whatever happens. Tool plumbing lives in
 * tools/delegate.ts; the run table (runs/manager.ts) queues and tracks runs.
 */
import { rm, writeFile } from "node:fs/promises";
import { runCodex, type RunOutcome } from "../codex/run.ts";
import { Refusal } from "../errors.ts";
import type { Capabilities } from "../policy/capabilities.ts";
import { buildChildEnv } from "../policy/env.ts";
import { redactEventLine } from "../policy/redact.ts";
import { resolveAllowedDir, type Root } from "../policy/roots.ts";
import { sandboxTmpDirs } from "../policy/tmp-roots.ts";
import type { SandboxMode } from "../policy/sandbox.ts";
import type { RunRecorder } from "../runs/record.ts";
import { holdResolvedCwd, writesInPlace } from "../runs/tree-lock.ts";
import type { DelegateInput } from "../shapes/delegate-input.ts";
import type { DelegateResult } from "../shapes/delegate-result.ts";
import { depsFromCall, type WorktreeDepsSetting } from "../workspace/deps.ts";
import { prepareWorkspace } from "../workspace/index.ts";
import type { Workspace } from "../workspace/types.ts";
import { ensurePrivateDir, makeRunDir } from "../workspace/private-dir.ts";
import type { DelegateContext } from "./context.ts";
import { runNotes } from "./failure.ts";
import { invocationOf, planInvocation, type Invocation } from "./invocation.ts";
import { collectOutcome } from "./outcome.ts";
import { checkedCwd, DelegateError, planDelegation, refuseAgentsInReach, type DelegationPlan } from "./plan.ts";
import { settleReach, type SettledReach } from "./reach.ts";
import { buildResult } from "./result.ts";

export interface DelegateOptions {
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** The caller's own sandbox as its client reported it (policy/caller-sandbox.ts); it only ever lowers ours. */
  callerSandbox?: SandboxMode;
}

/**
 * Run a delegation: plan it, wait for a slot, then run the plan. Refusals throw DelegateError (or
 * PolicyError/WorkspaceError); a codex failure is a result with ok: false. Whatever happens, the workspace and the
 * temporary directory are gone before this returns.
 */
export async function delegate(input: DelegateInput, ctx: DelegateContext, opts: DelegateOptions = {}): Promise<DelegateResult> {
  const plan = await planDelegation(input, ctx, opts.callerSandbox);
  if (ctx.limiter.active >= ctx.limiter.max) {
    opts.onProgress?.(`waiting for a free slot (${ctx.limiter.active} running, ${ctx.limiter.queued} queued before this call)`);
  }
  let release: () => void;
  try {
    release = await ctx.limiter.acquire(opts.signal);
  } catch {
    throw new DelegateError("the call was cancelled while it waited for a free slot; nothing ran");
  }
  try {
    return await runDelegation(plan, input, ctx, opts);
  } finally {
    release();
  }
}

/**
 * Run a plan that holds a slot: prepare its workspace, run codex there, collect the outcome, build the result. The
 * run table (runs/manager.ts) calls this once its queue gives the run a slot.
 */
export async function runDelegation(plan: DelegationPlan, input: DelegateInput, ctx: DelegateContext, opts: DelegateOptions = {}): Promise<DelegateResult> {
  const started = performance.now();
  let workspace: Workspace | undefined;
  let runDir: string | undefined;
  let releaseTree: (() => void) | undefined;
  try {
    // Security (what is checked is what is used): while the call waited, a running sub-agent may have swapped a
    // directory on the cwd path for a symlink out of the roots. Resolve again now, and use only the real path.
    // Security (runs/tree-lock.ts): and never beside a run that writes in place above (or below) it; codex re-resolves
    // its --cd, so a writer whose cwd holds this one must not be running meanwhile.
    const inPlace = writesInPlace(plan.isolation, plan.sandbox);
    const held = await holdResolvedCwd(
      ctx.treeLock, plan.cwd,
      () => checkedCwd(plan.requestedCwd, ctx.roots, inPlace),
      (dir) => ({ cwd: dir, writesInPlace: inPlace, label: plan.agent.name }),
      { signal: opts.signal, onWait: opts.onProgress },
    );
    const cwd = held.cwd;
    releaseTree = held.release;
    // Security: the agents rule again, for the directory the run really works in (a link on the way may lead elsewhere
    // now than when the call was planned).
    if (inPlace) await refuseAgentsInReach(await ctx.registry(), cwd);
    const privateDir = await ensurePrivateDir(ctx.workDir);
    // Security (runs/writer-ledger.ts): on record before the writer can plant anything below its cwd.
    if (inPlace) await ctx.writers.add(cwd);
    runDir = await makeRunDir(privateDir);
    opts.onProgress?.(plan.isolation === "none" ? "starting codex" : `preparing ${plan.isolation} workspace`);
    workspace = await prepareWorkspace({
      mode: plan.isolation, git: ctx.git, writers: ctx.writers, tmpDir: ctx.parentEnv.TMPDIR, cwd, baseDir: runDir, roots: ctx.roots.map((root) => root.real), signal: opts.signal, logger: ctx.log,
      spares: ctx.spares, worktreeDeps: plan.isolation === "worktree" ? (worktreeDepsOf(input) ?? plan.agent.worktree_deps) : undefined,
    });
    const { invocation, settled, env } = await invocationWithReach(plan, input, ctx, opts, { workspace, runDir, cwd });
    await refuseMovedCwd(plan.requestedCwd, cwd, ctx.roots);
    const record = await openRecord(ctx, plan, input, cwd, settled.capabilities);
    const run = await startCodex(plan, input, ctx, opts, { workspace, invocation, record, env });
    if (run.events.threadId) ctx.threads.remember(run.events.threadId);
    const outcome = await collectOutcome({ run, workspace, isolation: plan.isolation, lastMessageFile: invocation.lastMessageFile, outputSchema: input.output_schema, redact: ctx.redact });
    const recordProblem = await record?.drain?.();
    const result = buildResult({
      agent: plan.agent.name, isolation: plan.isolation, workingDir: workspace.workingDir, run, outcome, capabilities: settled.capabilities,
      notes: [...plan.notes, ...settled.notes, ...workspace.notes, ...runNotes(run, plan.timeoutS), ...outcome.notes, ...(recordProblem ? [`the run record could not be written: ${recordProblem}`] : [])],
      durationMs: performance.now() - started, runDir: record?.dir ?? null, redact: ctx.redact,
    });
    await record?.finish({ result, stderr: ctx.redact(run.stderrTail), patch: result.patch, finalMessage: result.final_message }).catch((error: unknown) => {
      ctx.log.warn(`could not finish the run record: ${(error as Error).message}`);
    });
    return result;
  } catch (error) {
    throw asRefusal(error, opts.signal);
  } finally {
    // A used worktree (and the run directory that may hold it) is removed after the result has gone out; the server
    // waits for that at exit (spares.ts close()).
    const used = workspace;
    const usedRunDir = runDir;
    const remove = async () => {
      await used?.cleanup();
      if (usedRunDir) await rm(usedRunDir, { recursive: true, force: true }).catch(() => {});
    };
    if (used?.mode === "worktree") await ctx.spares.deferRemoval(remove);
    else await remove();
    releaseTree?.();
  }
}

/**
 * The argv codex will get, once its reach is settled, with the environment it (and `codex mcp list` before it) runs in.
 * Security (delegation/reach.ts): before every exec, codex is asked which MCP servers it would start here, and every
 * one not granted is switched off; a project's .codex layers that a sub-agent could have planted are not used.
 */
async function invocationWithReach(
  plan: DelegationPlan,
  input: DelegateInput,
  ctx: DelegateContext,
  opts: DelegateOptions,
  at: { workspace: Workspace; runDir: string; cwd: string },
): Promise<{ invocation: Invocation; settled: SettledReach; env: Record<string, string> }> {
  const base = invocationOf(plan, input, { workingDir: at.workspace.workingDir, runDir: at.runDir });
  const env = codexEnv(ctx, at.workspace);
  const settled = await settleReach({
    codexPath: ctx.codexPath, invocation: base, grants: plan.grants, sourceDir: at.cwd, env, signal: opts.signal,
    writers: await ctx.writers.cwds(), tmpDirs: await sandboxTmpDirs(ctx.parentEnv.TMPDIR),
  });
  const invocation = planInvocation(base, settled.reach);
  if (invocation.problem) throw new DelegateError(invocation.problem.message, { hint: invocation.problem.hint });
  if (invocation.outputSchemaFile) await writeFile(invocation.outputSchemaFile, JSON.stringify(input.output_schema), { mode: 0o600, flag: "wx" });
  return { invocation, settled, env };
}

/**
 * Once more right before codex starts, before a run record is made: workspace set-up takes time too. A cwd that now
 * resolves elsewhere is refused rather than followed.
 */
async function refuseMovedCwd(requestedCwd: string, cwd: string, roots: readonly Root[]): Promise<void> {
  const rechecked = await resolveAllowedDir(requestedCwd, roots, "cwd");
  if (rechecked !== cwd) {
    throw new DelegateError(`cwd "${requestedCwd}" changed while the call was being prepared: it resolved to "${cwd}" and now to "${rechecked}" (a directory on the path was replaced); nothing ran`, { hint: "retry when nothing is moving directories there" });
  }
}

async function openRecord(ctx: DelegateContext, plan: DelegationPlan, input: DelegateInput, cwd: string, capabilities: Capabilities): Promise<RunRecorder | null> {
  // The capabilities are on record before codex starts, so a run that never finishes still shows what it could reach;
  // the agent's model (null: codex's configured default), for `runs usage --by model` and its prices.
  const request = { ...input, cwd, isolation: plan.isolation, timeout_s: plan.timeoutS, model: plan.agent.model ?? null, capabilities };
  return await ctx.startRecord({ agent: plan.agent.name, request }).catch((error: unknown) => {
    ctx.log.warn(`could not create a run record: ${(error as Error).message}`);
    return null;
  }) ?? null;
}

/**
 * The environment codex gets (and `codex mcp list` before it, so both see the same configuration).
 * Security: GIT_DIR/GIT_WORK_TREE name the one repository codex's own (unsandboxed) git may see (codex-git.ts).
 */
function codexEnv(ctx: DelegateContext, workspace: Workspace): Record<string, string> {
  return { ...buildChildEnv(ctx.parentEnv, ctx.passEnv, ctx.depth + 1), ...workspace.codexEnv };
}

function startCodex(
  plan: DelegationPlan,
  input: DelegateInput,
  ctx: DelegateContext,
  opts: DelegateOptions,
  at: { workspace: Workspace; invocation: Invocation; record: RunRecorder | null; env: Record<string, string> },
): Promise<RunOutcome> {
  const { record } = at;
  ctx.log.info(`delegating to "${plan.agent.name}" in ${at.workspace.workingDir} (${plan.isolation}, sandbox ${plan.sandbox}, timeout ${plan.timeoutS}s)`);
  return runCodex({
    codexPath: ctx.codexPath,
    args: at.invocation.args,
    env: at.env,
    task: input.task,
    timeoutMs: plan.timeoutS * 1000,
    signal: opts.signal,
    onProgress: (message) => opts.onProgress?.(ctx.redact(message)),
    // Parsed and redacted value by value: in the raw line a secret after an escape such as \n hides from the shapes.
    redact: (line) => redactEventLine(line, ctx.redact),
    onEventLine: record ? (line) => record.event(line) : undefined,
  });
}

/** Every refusal reaches the caller as a DelegateError; anything else is a broken invariant and stays as it is. */
function asRefusal(error: unknown, signal: AbortSignal | undefined): unknown {
  if (error instanceof DelegateError) return error;
  if (error instanceof Refusal) return new DelegateError(error.message, { hint: error.hint });
  // A cancel or shutdown while the workspace was being prepared is a cancellation, not an internal error.
  if (signal?.aborted) return new DelegateError("the call was cancelled before codex started; nothing ran and the workspace was removed");
  return error;
}

/** The call's worktree_deps as a setting (planDelegation refused a bad one already). */
function worktreeDepsOf(input: DelegateInput): WorktreeDepsSetting | undefined {
  const fromCall = depsFromCall(input.worktree_deps);
  return "error" in fromCall ? undefined : fromCall.setting;
}

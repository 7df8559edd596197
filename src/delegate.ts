/**
 * One delegation, start to end: resolve the agent, check policy, wait for a slot, prepare the workspace, run codex,
 * collect the answer and the patch, clean up, and describe the outcome. Tool plumbing lives in tools/delegate.ts.
 */
import { rm, stat, writeFile } from "node:fs/promises";
import { validateSettings } from "./agents/parse.ts";
import { agentsPlaces, type Registry } from "./agents/registry.ts";
import { AGENT_NAME_PATTERN, hasErrors, type Agent, type IsolationMode } from "./agents/schema.ts";
import { runCodex, type RunOutcome } from "./codex/run.ts";
import { collectOutcome, runNotes } from "./delegation/outcome.ts";
import { invocationOf, planInvocation, type Invocation } from "./delegation/invocation.ts";
import { settleReach, type SettledReach } from "./delegation/reach.ts";
import { refuseCodexLayerWriter, sandboxTmpDirs } from "./codex/project-layers.ts";
import { DEFAULT_CEILINGS, grantsWithinCeilings, networkForSandbox, requestedGrants, type Capabilities, type CapabilityCeilings, type Grants } from "./policy/capabilities.ts";
import { buildResult } from "./delegation/result.ts";
import type { Limiter } from "./limiter.ts";
import { MAX_TASK_BYTES } from "./limits.ts";
import type { Logger } from "./log.ts";
import { buildChildEnv } from "./policy/env.ts";
import { redactEventLine, type Redactor } from "./policy/redact.ts";
import { refuseGitDirectory } from "./policy/git-dir.ts";
import { PolicyError, resolveAllowedDir, type Root } from "./policy/roots.ts";
import { capToCallerSandbox } from "./policy/caller-sandbox.ts";
import { DEFAULT_SANDBOX, sandboxWithinCeiling, type SandboxMode } from "./policy/sandbox.ts";
import type { RunRecorder, StartRecord } from "./runs/record.ts";
import type { ThreadRegistry } from "./runs/threads.ts";
import { outputSchemaProblem } from "./policy/output-schema.ts";
import { Refusal } from "./errors.ts";
import { didYouMean } from "./suggest.ts";
import { agentsDirInReach } from "./policy/agents-in-reach.ts";
import { holdResolvedCwd, writesInPlace, type TreeLock } from "./runs/tree-lock.ts";
import type { WriterLedger } from "./runs/writer-ledger.ts";
import { GIT_MISSING, type Git } from "./workspace/git.ts";
import { checkDepsUse, depsFromCall, type WorktreeDepsSetting } from "./workspace/deps.ts";
import { prepareWorkspace } from "./workspace/index.ts";
import type { Spares } from "./workspace/spares-interface.ts";
import type { Workspace } from "./workspace/types.ts";
import type { DelegateInput } from "./shapes/delegate-input.ts";
import type { DelegateResult } from "./shapes/delegate-result.ts";
import { ensurePrivateDir, makeRunDir } from "./workspace/private-dir.ts";

/** The code of the refusal for an unknown agent (the CLI says its own next step for it). */
export const UNKNOWN_AGENT = "unknown_agent";

/** A request the server refuses; the message is shown to the caller as an isError result. */
export class DelegateError extends Refusal {
  override name = "DelegateError";
}


export type { DelegateInput } from "./shapes/delegate-input.ts";
export type { DelegateResult } from "./shapes/delegate-result.ts";
export { MAX_FINAL_MESSAGE_BYTES } from "./delegation/outcome.ts";
export { STDERR_TAIL_BYTES } from "./delegation/result.ts";

/**
 * Everything a delegation needs from the process that runs it. Built in one place (delegation/context.ts) for `serve`,
 * `run` and the tests; every field is explicit, and a test that wants none of something passes an explicit no-op.
 */
export interface DelegateContext {
  registry: () => Promise<Registry>;
  roots: readonly Root[];
  /** Where a call without `cwd` works (a real path): the server's working directory inside a root, else the first root. */
  defaultCwd: string;
  /** The codex to run: an absolute path found at start-up (a bare name means none was found; runCodex refuses it). */
  codexPath: string;
  /** The git every workspace command runs, found at start-up (workspace/git.ts); its program is null when none was. */
  git: Git;
  /** The private directory every run's files and workspaces live in (`$CODEX_HOME/subagents/work`). */
  workDir: string;
  maxTimeoutS: number;
  maxSandbox: SandboxMode;
  /** --allow-mcp, --max-web-search, --allow-network; default (unit tests): DEFAULT_CEILINGS. */
  ceilings?: CapabilityCeilings;
  passEnv: readonly string[];
  /** This server's own nesting depth (CODEX_SUBAGENTS_DEPTH it was started with). */
  depth: number;
  maxDepth: number;
  parentEnv: Readonly<Record<string, string | undefined>>;
  limiter: Limiter;
  redact: Redactor;
  log: Logger;
  /** Opens a run's record (runs/record.ts); resolves to null when records are off (--keep-runs 0). */
  startRecord: StartRecord;
  /** The threads this server started (runs/threads.ts): `resume` continues only those. */
  threads: ThreadRegistry;
  /** Spare worktrees, and worktree removals deferred until after the result (NO_SPARES: none, removed at once). */
  spares: Spares;
  /**
   * The tree lock (runs/tree-lock.ts): a run that writes in place never overlaps a run below its cwd. Kept in the
   * private work directory (`new TreeLock(workDir)`), so it holds across every process on this CODEX_HOME.
   */
  treeLock: Pick<TreeLock, "hold">;
  /**
   * The in-place writers ledger (runs/writer-ledger.ts), kept in the private work directory and shared by every
   * process on this CODEX_HOME: every run that writes in place is recorded there before its codex starts, and a
   * repository below a recorded cwd is not shown to codex's own git (workspace/codex-git.ts).
   */
  writers: Pick<WriterLedger, "add" | "cwds">;
}

const AD_HOC_KEYS = ["persona", "profile", "model", "reasoning_effort", "sandbox_mode", "approval_policy", "mcp_servers", "web_search", "network"] as const;

/** Resolve the agent a call names: a registry agent (its file is the only source of settings) or an ad-hoc one. */
export async function resolveAgent(input: DelegateInput, registry: Registry): Promise<Agent> {
  const given = AD_HOC_KEYS.filter((k) => input[k] !== undefined);
  const entry = registry.get(input.agent);
  if (entry) {
    if (given.length > 0) {
      throw new DelegateError(`agent "${input.agent}" is a registry agent (${entry.file}); ${given.join(", ")} cannot be set per call. Edit its file to change it, or pick a new name for an ad-hoc agent`);
    }
    if (!entry.agent || hasErrors(entry.issues)) {
      const problems = entry.issues.filter((i) => i.level === "error").map((i) => `${i.field ? `${i.field}: ` : ""}${i.message}`);
      throw new DelegateError(`agent "${input.agent}" cannot be used: ${entry.file} has errors: ${problems.join("; ")}. Fix the file (codex-subagents validate shows every issue)`);
    }
    return entry.agent;
  }
  if (input.persona === undefined) throw unknownAgent(input.agent, registry);
  if (!AGENT_NAME_PATTERN.test(input.agent)) {
    throw new DelegateError(`ad-hoc agent name "${input.agent}" must match ${AGENT_NAME_PATTERN}; use lowercase letters, digits, _ and -`);
  }
  const raw: Record<string, unknown> = {};
  for (const key of AD_HOC_KEYS) if (key !== "persona" && input[key] !== undefined) raw[key] = input[key];
  const { settings, issues } = validateSettings(raw);
  if (hasErrors(issues)) throw new DelegateError(issues.map((i) => i.message).join("; "));
  if (input.persona.trim() === "") throw new DelegateError("persona is empty; give the ad-hoc agent its instructions");
  return { name: input.agent, file: "(ad-hoc)", persona: input.persona.trim(), ...settings };
}

/** The refusal for a name no agent has: the closest name, the known ones, and where they were read from. */
export function unknownAgent(name: string, registry: Registry): DelegateError {
  const known = registry.agents().map((a) => a.name);
  const where = registry.location.dir
    ? ` in the agents directory "${registry.location.dir}" (${registry.location.foundBy}${registry.location.starters ? ", with the embedded starters below it" : ""})`
    : "";
  return new DelegateError(`unknown agent "${name}"${where}${didYouMean(name, known)}; known: ${known.length ? known.join(", ") : "(none)"}`, {
    code: UNKNOWN_AGENT,
    hint: "pass persona (and any setting) to run an ad-hoc agent of that name, or call list_agents to see each agent and what it is for",
  });
}

export function chooseIsolation(input: DelegateInput, agent: Agent): IsolationMode {
  if (input.mirror_repo === true && input.isolation !== undefined && input.isolation !== "mirror") {
    throw new DelegateError(`mirror_repo: true conflicts with isolation "${input.isolation}"; give only isolation`);
  }
  if (input.isolation) return input.isolation;
  if (input.mirror_repo === true) return "mirror";
  return agent.isolation ?? "none";
}

/** Refusals about the call's surroundings, checked before it waits for a slot: each names the thing and the fix. */
async function environmentProblem(input: DelegateInput, isolation: IsolationMode, ctx: DelegateContext): Promise<string | null> {
  if (input.output_schema !== undefined) {
    const problem = outputSchemaProblem(input.output_schema);
    if (problem) return problem;
  }
  if (isolation === "worktree" && ctx.git.program === null) {
    return GIT_MISSING;
  }
  const tmp = ctx.parentEnv.TMPDIR;
  if (tmp !== undefined && tmp !== "" && !(await stat(tmp).then((info) => info.isDirectory(), () => false))) {
    return `TMPDIR "${tmp}" (in the server's environment, handed on to codex) does not exist or is not a directory, so the sub-agent could not make temporary files; create it, or start the server with TMPDIR unset or pointing at a directory`;
  }
  return null;
}

/** What a request resolves to before it waits for a slot. */
export interface DelegationPlan {
  agent: Agent;
  /** The sandbox codex gets: the agent's, within --max-sandbox, never looser than the caller's own. */
  sandbox: SandboxMode;
  isolation: IsolationMode;
  /** The cwd as the call gave it (or the context's default cwd): what is resolved and checked again later. */
  requestedCwd: string;
  /** Its real path when the call arrived, checked against the roots. */
  cwd: string;
  timeoutS: number;
  /** What the sub-agent may reach beyond its sandbox, within the server's ceilings and its sandbox. */
  grants: Grants;
  /** Why the sandbox or a grant is lower than the agent asked for, if it is. */
  notes: readonly string[];
}

/** The call's worktree_deps as a setting (planDelegation refused a bad one already). */
function worktreeDepsOf(input: DelegateInput): WorktreeDepsSetting | undefined {
  const fromCall = depsFromCall(input.worktree_deps);
  return "error" in fromCall ? undefined : fromCall.setting;
}

/**
 * Every check a request gets before it queues: depth, task size, resume, agent, sandbox, isolation, cwd. One
 * function, so a background start (runs/manager.ts) refuses exactly what a foreground call refuses.
 */
export async function planDelegation(input: DelegateInput, ctx: DelegateContext, callerSandbox?: SandboxMode): Promise<DelegationPlan> {
  if (ctx.depth + 1 > ctx.maxDepth) {
    throw new DelegateError(`nesting limit reached: this server runs at depth ${ctx.depth} and --max-depth is ${ctx.maxDepth}, so it cannot start another sub-agent; do the work here, or raise --max-depth on the top-level server`);
  }
  if (Buffer.byteLength(input.task, "utf8") > MAX_TASK_BYTES) throw new DelegateError("task is over 1 MiB; shorten it or point the sub-agent at files instead");
  // Security: continue only a thread this server started (runs/threads.ts), never another session's.
  if (input.resume !== undefined && !(await ctx.threads.known(input.resume))) throw new DelegateError(ctx.threads.refusal(input.resume));
  const registry = await ctx.registry();
  const agent = await resolveAgent(input, registry);
  const mapped = agent.format && agent.format !== "codex-subagents" ? { agent: agent.name, format: agent.format, from: agent.sandbox_from } : null;
  const ceiling = sandboxWithinCeiling(agent.sandbox_mode ?? DEFAULT_SANDBOX, ctx.maxSandbox, mapped);
  if ("refusal" in ceiling) throw new DelegateError(`agent "${agent.name}": ${ceiling.refusal}`);
  const { sandbox, note: sandboxNote } = capToCallerSandbox(ceiling.sandbox, callerSandbox);
  // Security (policy/capabilities.ts): grants within --allow-mcp, --max-web-search and --allow-network, refused or
  // capped like the sandbox; network only for the sandbox this run really got.
  const within = grantsWithinCeilings(requestedGrants(agent), ctx.ceilings ?? DEFAULT_CEILINGS, mapped);
  if ("refusal" in within) throw new DelegateError(`agent "${agent.name}": ${within.refusal}`);
  const network = networkForSandbox(within.grants.network, sandbox, agent.name);
  const grants: Grants = { ...within.grants, network: network.network };
  const isolation = chooseIsolation(input, agent);
  const requestedCwd = input.cwd ?? ctx.defaultCwd;
  let cwd: string;
  try {
    // Checked now to refuse at once; checked again after the wait and right before codex starts (delegate()).
    cwd = refuseCodexLayerWriter(await refuseGitDirectory(await resolveAllowedDir(requestedCwd, ctx.roots, "cwd")), writesInPlace(isolation, sandbox));
  } catch (error) {
    if (error instanceof PolicyError) throw new DelegateError(error.message, { hint: error.hint });
    throw error;
  }
  // Security: a run that writes in place never gets the agents directory in its reach, nor a place that would
  // outrank it at the next start (policy/agents-in-reach.ts).
  if (writesInPlace(isolation, sandbox)) await refuseAgentsInReach(registry, cwd);
  const problem = await environmentProblem(input, isolation, ctx);
  if (problem) throw new DelegateError(problem);
  // Issue 13: refused before anything is made (e.g. no links to the user's dependencies without a sandbox).
  const fromCall = depsFromCall(input.worktree_deps);
  if ("error" in fromCall) throw new DelegateError(fromCall.error);
  const depsProblem = checkDepsUse(fromCall.setting ?? agent.worktree_deps, isolation, sandbox, input.worktree_deps !== undefined);
  if (depsProblem) throw new DelegateError(`agent "${agent.name}": ${depsProblem}`);
  const timeoutS = Math.min(input.timeout_s ?? agent.timeout_s ?? ctx.maxTimeoutS, ctx.maxTimeoutS);
  const notes = [...(ceiling.note ? [ceiling.note] : []), ...(sandboxNote ? [sandboxNote] : []), ...within.notes, ...(network.note ? [network.note] : [])];
  return { agent, sandbox, isolation, requestedCwd, cwd, timeoutS, grants, notes };
}

/** Refuse a run that writes in place in `cwd` when the agents, or a place that would outrank them, are in its reach. */
async function refuseAgentsInReach(registry: Registry, cwd: string): Promise<void> {
  if (!registry.location) return;
  const problem = agentsDirInReach(await agentsPlaces(registry.location), cwd, true);
  if (problem) throw new DelegateError(problem);
}

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
    const held = await holdResolvedCwd(
      ctx.treeLock, plan.cwd,
      async () => refuseCodexLayerWriter(await refuseGitDirectory(await resolveAllowedDir(plan.requestedCwd, ctx.roots, "cwd")), writesInPlace(plan.isolation, plan.sandbox)),
      (dir) => ({ cwd: dir, writesInPlace: writesInPlace(plan.isolation, plan.sandbox), label: plan.agent.name }),
      { signal: opts.signal, onWait: opts.onProgress },
    );
    const cwd = held.cwd;
    releaseTree = held.release;
    // Security: the agents rule again, for the directory the run really works in (a link on the way may lead elsewhere
    // now than when the call was planned).
    if (writesInPlace(plan.isolation, plan.sandbox)) await refuseAgentsInReach(await ctx.registry(), cwd);
    const privateDir = await ensurePrivateDir(ctx.workDir);
    // Security (runs/writer-ledger.ts): on record before the writer can plant anything below its cwd.
    if (writesInPlace(plan.isolation, plan.sandbox)) await ctx.writers.add(cwd);
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
    writers: (await ctx.writers?.cwds()) ?? [], tmpDirs: await sandboxTmpDirs(ctx.parentEnv.TMPDIR),
  });
  const invocation = planInvocation(base, settled.reach);
  if (invocation.problem) throw new DelegateError(invocation.problem);
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
    throw new DelegateError(`cwd "${requestedCwd}" changed while the call was being prepared: it resolved to "${cwd}" and now to "${rechecked}" (a directory on the path was replaced); nothing ran. Retry when nothing is moving directories there`);
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

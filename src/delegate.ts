/**
 * One delegation, start to end: resolve the agent, check policy, wait for a slot, prepare the workspace, run codex,
 * collect the answer and the patch, clean up, and describe the outcome. Tool plumbing lives in tools/delegate.ts.
 */
import { rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { validateSettings } from "./agents/parse.ts";
import type { Registry } from "./agents/registry.ts";
import { AGENT_NAME_PATTERN, hasErrors, type Agent, type AgentSettings, type IsolationMode } from "./agents/schema.ts";
import { buildCodexArgs, findOversizedArg } from "./codex/args.ts";
import type { Usage } from "./codex/events.ts";
import { runCodex } from "./codex/run.ts";
import type { Limiter } from "./limiter.ts";
import type { Logger } from "./log.ts";
import { buildChildEnv } from "./policy/env.ts";
import { redactDeep, type Redactor } from "./policy/redact.ts";
import { refuseGitDirectory } from "./policy/git-dir.ts";
import { PolicyError, resolveAllowedDir, type Root } from "./policy/roots.ts";
import { capToCallerSandbox } from "./policy/caller-sandbox.ts";
import { sandboxWithinCeiling, type SandboxMode } from "./policy/sandbox.ts";
import { redactEventLine, type RunRecorder } from "./runs/record.ts";
import type { ThreadRegistry } from "./runs/threads.ts";
import { codexHomeOf } from "./config.ts";
import { outputSchemaProblem } from "./policy/output-schema.ts";
import { agentsDirInReach } from "./policy/agents-in-reach.ts";
import { readRegularFile } from "./safe-fs.ts";
import { GIT_MISSING } from "./workspace/git.ts";
import { prepareWorkspace, WorkspaceError, type Workspace } from "./workspace/index.ts";
import { ensurePrivateDir, makeRunDir, workDirFor } from "./workspace/private-dir.ts";
import { holdResolvedCwd, writesInPlace, type TreeLock } from "./runs/tree-lock.ts";

/** A request the server refuses; the message is shown to the caller as an isError result. */
export class DelegateError extends Error {
  override name = "DelegateError";
}

export const MAX_FINAL_MESSAGE_BYTES = 1024 * 1024;
export const STDERR_TAIL_BYTES = 8 * 1024;
/** Sandbox for an agent that names none. Security: always pass one, so a loose user config cannot widen it. */
export const DEFAULT_SANDBOX: SandboxMode = "read-only";

export interface DelegateInput extends AgentSettings {
  agent: string;
  task: string;
  cwd?: string;
  isolation?: IsolationMode;
  mirror_repo?: boolean;
  timeout_s?: number;
  resume?: string;
  output_schema?: Record<string, unknown>;
  persona?: string;
}

export interface DelegateResult {
  ok: boolean;
  agent: string;
  exit_code: number | null;
  final_message: string;
  structured?: unknown;
  thread_id: string | null;
  usage: Usage | null;
  duration_ms: number;
  working_dir: string;
  isolation: IsolationMode;
  patch?: string;
  stderr_tail: string;
  timed_out: boolean;
  cancelled: boolean;
  run_dir: string | null;
  /** Things the caller should know: a dirty tree the sub-agent did not see, a failure reason, what to do next. */
  notes: string[];
}

export interface DelegateContext {
  registry: () => Promise<Registry>;
  roots: readonly Root[];
  codexPath: string;
  /** The git the server found at start-up (absolute), null when none; undefined: not checked here. */
  gitPath?: string | null;
  /** The private directory every run's files and workspaces live in; default `$CODEX_HOME/subagents/work`. */
  workDir?: string;
  maxTimeoutS: number;
  maxSandbox: SandboxMode;
  passEnv: readonly string[];
  /** This server's own nesting depth (CODEX_SUBAGENTS_DEPTH it was started with). */
  depth: number;
  maxDepth: number;
  parentEnv: Readonly<Record<string, string | undefined>>;
  limiter: Limiter;
  redact: Redactor;
  log: Logger;
  startRecord?: (meta: { agent: string; request: unknown }) => Promise<RunRecorder | null>;
  /** The threads this server started; without it (unit tests) resume is not checked. */
  threads?: ThreadRegistry;
  /** The run table's tree lock (runs/tree-lock.ts, issue 8 B); without it (unit tests) runs never wait for each other. */
  treeLock?: Pick<TreeLock, "hold">;
}

const AD_HOC_KEYS = ["persona", "profile", "model", "reasoning_effort", "sandbox_mode", "approval_policy"] as const;

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
  const known = registry.agents().map((a) => a.name);
  if (input.persona === undefined) {
    throw new DelegateError(`unknown agent "${input.agent}"; known: ${known.length ? known.join(", ") : "(none)"} — or pass persona for an ad-hoc agent`);
  }
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
  if (isolation === "worktree" && ctx.gitPath === null) {
    return GIT_MISSING;
  }
  const tmp = ctx.parentEnv.TMPDIR;
  if (tmp !== undefined && tmp !== "" && !(await stat(tmp).then((info) => info.isDirectory(), () => false))) {
    return `TMPDIR "${tmp}" (in the server's environment, handed on to codex) does not exist or is not a directory, so the sub-agent could not make temporary files; create it, or start the server with TMPDIR unset or pointing at a directory`;
  }
  return null;
}

function headBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= limit) return text;
  return bytes.subarray(0, limit).toString("utf8").replace(/\uFFFD+$/, "");
}

function tailBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= limit) return text;
  return bytes.subarray(bytes.length - limit).toString("utf8").replace(/^\uFFFD+/, "");
}

/** What a request resolves to before it waits for a slot. */
export interface DelegationPlan {
  agent: Agent;
  /** The sandbox codex gets: the agent's, within --max-sandbox, never looser than the caller's own. */
  sandbox: SandboxMode;
  isolation: IsolationMode;
  /** The cwd as the call gave it (or the first root): what is resolved and checked again later. */
  requestedCwd: string;
  /** Its real path when the call arrived, checked against the roots. */
  cwd: string;
  timeoutS: number;
  /** Why the sandbox is lower than the agent asked for, if it is. */
  notes: readonly string[];
}

/**
 * Every check a request gets before it queues: depth, task size, resume, agent, sandbox, isolation, cwd. One
 * function, so a background start (runs/manager.ts) refuses exactly what a foreground call refuses.
 */
export async function planDelegation(input: DelegateInput, ctx: DelegateContext, callerSandbox?: SandboxMode): Promise<DelegationPlan> {
  if (ctx.depth + 1 > ctx.maxDepth) {
    throw new DelegateError(`nesting limit reached: this server runs at depth ${ctx.depth} and --max-depth is ${ctx.maxDepth}, so it cannot start another sub-agent; do the work here, or raise --max-depth on the top-level server`);
  }
  if (Buffer.byteLength(input.task, "utf8") > 1024 * 1024) throw new DelegateError("task is over 1 MiB; shorten it or point the sub-agent at files instead");
  // Security: continue only a thread this server started (runs/threads.ts), never another session's.
  if (input.resume !== undefined && ctx.threads && !(await ctx.threads.known(input.resume))) throw new DelegateError(ctx.threads.refusal(input.resume));
  const registry = await ctx.registry();
  const agent = await resolveAgent(input, registry);
  const mapped = agent.format && agent.format !== "codex-subagents" ? { agent: agent.name, format: agent.format, from: agent.sandbox_from } : null;
  const ceiling = sandboxWithinCeiling(agent.sandbox_mode ?? DEFAULT_SANDBOX, ctx.maxSandbox, mapped);
  if ("refusal" in ceiling) throw new DelegateError(`agent "${agent.name}": ${ceiling.refusal}`);
  const { sandbox, note: sandboxNote } = capToCallerSandbox(ceiling.sandbox, callerSandbox);
  const isolation = chooseIsolation(input, agent);
  const requestedCwd = input.cwd ?? ctx.roots[0]!.real;
  let cwd: string;
  try {
    // Checked now to refuse at once; checked again after the wait and right before codex starts (delegate()).
    cwd = await refuseGitDirectory(await resolveAllowedDir(requestedCwd, ctx.roots, "cwd"));
  } catch (error) {
    if (error instanceof PolicyError) throw new DelegateError(error.message);
    throw error;
  }
  // Security (issue 8 C): a run that writes in place never gets the agents directory in its reach.
  const agentsProblem = agentsDirInReach(registry.location?.dir ?? null, cwd, writesInPlace(isolation, sandbox));
  if (agentsProblem) throw new DelegateError(agentsProblem);
  const problem = await environmentProblem(input, isolation, ctx);
  if (problem) throw new DelegateError(problem);
  const timeoutS = Math.min(input.timeout_s ?? agent.timeout_s ?? ctx.maxTimeoutS, ctx.maxTimeoutS);
  const notes = [...(ceiling.note ? [ceiling.note] : []), ...(sandboxNote ? [sandboxNote] : [])];
  return { agent, sandbox, isolation, requestedCwd, cwd, timeoutS, notes };
}

/**
 * Run a delegation. Refusals throw DelegateError (or PolicyError/WorkspaceError); a codex failure is a result with
 * ok: false. Whatever happens, the workspace and the temporary directory are gone before this returns.
 */
export async function delegate(
  input: DelegateInput,
  ctx: DelegateContext,
  opts: {
    signal?: AbortSignal;
    onProgress?: (message: string) => void;
    /** The caller's own sandbox as its client reported it (policy/caller-sandbox.ts); it only ever lowers ours. */
    callerSandbox?: SandboxMode;
  } = {},
): Promise<DelegateResult> {
  const { agent, sandbox, isolation, requestedCwd, cwd: plannedCwd, timeoutS, notes: planNotes } = await planDelegation(input, ctx, opts.callerSandbox);

  if (ctx.limiter.active >= ctx.limiter.max) {
    opts.onProgress?.(`waiting for a free slot (${ctx.limiter.active} running, ${ctx.limiter.queued} queued before this call)`);
  }
  let release: () => void;
  try {
    release = await ctx.limiter.acquire(opts.signal);
  } catch {
    throw new DelegateError("the call was cancelled while it waited for a free slot; nothing ran");
  }

  const started = performance.now();
  let workspace: Workspace | undefined;
  let runDir: string | undefined;
  let releaseTree: (() => void) | undefined;
  try {
    // Security (what is checked is what is used): while the call waited, a running sub-agent may have swapped a
    // directory on the cwd path for a symlink out of the roots. Resolve again now, and use only the real path.
    // Security (issue 8 B, runs/tree-lock.ts): and never beside a run that writes in place above (or below) it.
    const held = await holdResolvedCwd(ctx.treeLock, plannedCwd, async () => refuseGitDirectory(await resolveAllowedDir(requestedCwd, ctx.roots, "cwd")), (dir) => ({ cwd: dir, writesInPlace: writesInPlace(isolation, sandbox), label: agent.name }), { signal: opts.signal, onWait: opts.onProgress });
    const cwd = held.cwd;
    releaseTree = held.release;
    const privateDir = await ensurePrivateDir(ctx.workDir ?? workDirFor(codexHomeOf(ctx.parentEnv)));
    runDir = await makeRunDir(privateDir);
    opts.onProgress?.(isolation === "none" ? "starting codex" : `preparing ${isolation} workspace`);
    workspace = await prepareWorkspace({ mode: isolation, cwd, baseDir: runDir, roots: ctx.roots.map((root) => root.real), signal: opts.signal, logger: ctx.log });
    const lastMessageFile = path.join(runDir, "last-message.txt");
    let outputSchemaFile: string | undefined;
    if (input.output_schema) {
      outputSchemaFile = path.join(runDir, "output-schema.json");
      await writeFile(outputSchemaFile, JSON.stringify(input.output_schema), { mode: 0o600, flag: "wx" });
    }
    const args = buildCodexArgs({
      agent: { ...agent, sandbox_mode: sandbox },
      workingDir: workspace.workingDir,
      resumeThreadId: input.resume,
      lastMessageFile,
      outputSchemaFile,
    });
    const oversized = findOversizedArg(args);
    if (oversized) throw new DelegateError(oversized);

    // And once more right before codex starts, before a run record is made: workspace set-up takes time too. A cwd
    // that now resolves elsewhere is refused rather than followed.
    const recheckedCwd = await resolveAllowedDir(requestedCwd, ctx.roots, "cwd");
    if (recheckedCwd !== cwd) {
      throw new DelegateError(`cwd "${requestedCwd}" changed while the call was being prepared: it resolved to "${cwd}" and now to "${recheckedCwd}" (a directory on the path was replaced); nothing ran. Retry when nothing is moving directories there`);
    }

    const record = await ctx.startRecord?.({ agent: agent.name, request: { ...input, cwd, isolation, timeout_s: timeoutS } }).catch((error: unknown) => {
      ctx.log.warn(`could not create a run record: ${(error as Error).message}`);
      return null;
    }) ?? null;

    ctx.log.info(`delegating to "${agent.name}" in ${workspace.workingDir} (${isolation}, sandbox ${sandbox}, timeout ${timeoutS}s)`);
    const outcome = await runCodex({
      codexPath: ctx.codexPath,
      args,
      env: { ...buildChildEnv(ctx.parentEnv, ctx.passEnv, ctx.depth + 1), ...workspace.codexEnv }, // issue 8 A: GIT_DIR/GIT_WORK_TREE
      task: input.task,
      timeoutMs: timeoutS * 1000,
      signal: opts.signal,
      onProgress: (message) => opts.onProgress?.(ctx.redact(message)),
      // Parsed and redacted value by value: in the raw line a secret after an escape such as \n hides from the shapes.
      redact: (line) => redactEventLine(line, ctx.redact),
      onEventLine: record ? (line) => record.event(line) : undefined,
    });

    if (outcome.events.threadId) ctx.threads?.remember(outcome.events.threadId);
    const notes = [...planNotes, ...workspace.notes];
    if (outcome.spawnError) notes.push(outcome.spawnError);
    if (outcome.timedOut) notes.push(`codex was stopped at the time limit of ${timeoutS}s; give a smaller task, or a larger timeout_s (at most the server's --timeout)`);
    if (outcome.cancelled) notes.push("the call was cancelled; codex and everything it started were ended");
    for (const error of outcome.events.errors) notes.push(`codex reported: ${error}`);
    if (outcome.events.errorsDropped > 0) notes.push(`(${outcome.events.errorsDropped} earlier codex error(s) not shown; see the run record)`);
    const lastMessage = await readRegularFile(lastMessageFile, MAX_FINAL_MESSAGE_BYTES);
    // Security: something other than a regular file at the last-message path was planted; trust neither it nor the
    // run. The call still answers (never blocks on a FIFO) and says what was found.
    const planted = "problem" in lastMessage ? lastMessage.problem : null;
    if (planted) notes.push(`the last-message file was tampered with: ${planted}; the run counts as failed`);
    const fromFile = "text" in lastMessage ? lastMessage.text.trim() : "";
    const finalMessage = planted ? "" : fromFile !== "" ? fromFile : headBytes((outcome.events.lastAgentMessage ?? "").trim(), MAX_FINAL_MESSAGE_BYTES);
    if (finalMessage === "" && !planted && !outcome.timedOut && !outcome.cancelled && !outcome.spawnError) {
      notes.push("codex finished without a final message; see stderr_tail");
    }

    let patch: string | undefined;
    if (isolation === "worktree" && !outcome.spawnError) {
      try {
        const collected = await workspace.collectPatch({ redact: ctx.redact });
        patch = collected?.patch;
        notes.push(...(collected?.notes ?? []));
      } catch (error) {
        notes.push(`the sub-agent's changes could not be collected: ${(error as Error).message}`);
      }
    }

    let structured: unknown;
    if (input.output_schema && finalMessage !== "") {
      try {
        structured = JSON.parse(finalMessage);
      } catch {
        notes.push("output_schema was given but the final message is not JSON; it is returned as text only");
      }
    }

    const recordProblem = await record?.drain?.();
    if (recordProblem) notes.push(`the run record could not be written: ${recordProblem}`);

    const exitCode = outcome.exitCode;
    const result: DelegateResult = {
      ok: exitCode === 0 && !outcome.timedOut && !outcome.cancelled && finalMessage !== "" && !planted,
      agent: agent.name,
      exit_code: exitCode,
      final_message: finalMessage,
      ...(structured !== undefined ? { structured } : {}),
      thread_id: outcome.events.threadId,
      usage: outcome.events.usage,
      duration_ms: Math.round(performance.now() - started),
      working_dir: workspace.workingDir,
      isolation,
      ...(patch !== undefined ? { patch } : {}),
      // Security: redact before cutting to the tail, or a secret cut in half at the tail's edge is no longer
      // recognised and its remaining part is shown.
      stderr_tail: tailBytes(ctx.redact(outcome.stderrTail), STDERR_TAIL_BYTES),
      timed_out: outcome.timedOut,
      cancelled: outcome.cancelled,
      run_dir: record?.dir ?? null,
      notes,
    };
    // Security: one choke point; everything the caller sees passes the redactor.
    const redacted = redactDeep(result, ctx.redact);
    if (patch !== undefined && redacted.patch !== patch) {
      redacted.notes.push("a secret-looking value in the patch was replaced by [REDACTED]; that hunk will not apply as is");
    }
    await record?.finish({ result: redacted, stderr: ctx.redact(outcome.stderrTail), patch: redacted.patch, finalMessage: redacted.final_message }).catch((error: unknown) => {
      ctx.log.warn(`could not finish the run record: ${(error as Error).message}`);
    });
    return redacted;
  } catch (error) {
    if (error instanceof DelegateError) throw error;
    if (error instanceof WorkspaceError || error instanceof PolicyError) throw new DelegateError(error.message);
    // A cancel or shutdown while the workspace was being prepared is a cancellation, not an internal error.
    if (opts.signal?.aborted) throw new DelegateError("the call was cancelled before codex started; nothing ran and the workspace was removed");
    throw error;
  } finally {
    await workspace?.cleanup();
    if (runDir) await rm(runDir, { recursive: true, force: true }).catch(() => {});
    releaseTree?.();
    release();
  }
}

/**
 * `codex-subagents run AGENT [TASK] [options]`: one delegation without an MCP client, for scripts and CI jobs.
 *
 * stdout: the final message (or the whole result with --json), nothing else; stderr: progress and diagnostics.
 * Exit 0 succeeded, 1 the sub-agent failed, timed out or the run was refused, 2 not found (agent, cwd, agents dir),
 * 64 usage, 130 interrupted (SIGINT/SIGTERM; the sub-agent and its workspace are gone before the exit).
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { ISOLATION_MODES, type IsolationMode } from "../agents/schema.ts";
import { type CliIO, diagnosticIO } from "../cli-io.ts";
import { jsonText, printable } from "../escape.ts";
import { THREAD_ID_PATTERN } from "../codex/args.ts";
import { parseFlags, type ParsedFlags } from "../args.ts";
import { resolveServerOptions, SERVER_FLAGS, SERVER_OPTIONS, type ServerOptions } from "../config.ts";
import { buildDelegateContext, contextWarnings, type BuiltContext, type DelegateContext } from "../delegation/context.ts";
import { cliErrorText, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, NotFoundError, UsageError } from "../errors.ts";
import { failureReason } from "../delegation/failure.ts";
import { DelegateError, UNKNOWN_AGENT } from "../delegation/plan.ts";
import type { DelegateInput } from "../shapes/delegate-input.ts";
import { checkRequest, RunManager } from "../runs/manager.ts";
import type { RunView } from "../shapes/run-result.ts";


type Env = Readonly<Record<string, string | undefined>>;

export interface RunCommandDeps {
  /** Where the agents live when none was named (the executable's own dir, see cli.ts programDir). */
  programDir?: string;
  /** Reads the task from stdin when neither TASK nor --task-file is given; undefined when stdin is a terminal. */
  readStdin?: () => Promise<string>;
  /** stderr is a terminal: progress is one updating line instead of one line a step. */
  stderrIsTTY?: boolean;
  /** stdout is a terminal: the final message is printed with control characters escaped (escape.ts printable). */
  stdoutIsTTY?: boolean;
  /** Subscribe to SIGINT/SIGTERM; returns the unsubscribe function. */
  onInterrupt?: (handler: () => void) => () => void;
}

/** run's own flags; the server options (config.ts) sit beside them. */
const RUN_FLAGS = {
  cwd: { type: "string" },
  isolation: { type: "string" },
  resume: { type: "string" },
  "output-schema": { type: "string" },
  "patch-out": { type: "string" },
  "task-file": { type: "string" },
  json: { type: "boolean" },
} as const;

interface RunArgs {
  agent: string;
  task?: string;
  values: Map<string, string>;
  json: boolean;
  /** The server options as given, word for word (for messages and tests); `server` holds them parsed. */
  serverArgv: string[];
  server: Pick<ParsedFlags, "values">;
}

/** Split argv into this command's own flags, the server options (parsed by config.ts) and the positionals. */
export function parseRunArgs(argv: readonly string[]): RunArgs {
  const parsed = parseFlags(argv, { ...SERVER_FLAGS, ...RUN_FLAGS }, { unknown: (flag, suggestion) => ({ message: `unknown option "${flag}" for run${suggestion}`, hint: "see codex-subagents --help" }) });
  const { positionals } = parsed;
  const values = new Map<string, string>();
  for (const name of Object.keys(RUN_FLAGS)) {
    const flag = `--${name}`;
    const given = parsed.values.get(flag);
    if (!given || RUN_FLAGS[name as keyof typeof RUN_FLAGS].type === "boolean") continue;
    if (given.some((value) => value === "")) throw new UsageError(`${flag} needs a value`, { hint: `e.g. ${flag} VALUE` });
    if (given.length > 1) throw new UsageError(`${flag} was given more than once`, { hint: "give it once" });
    values.set(flag, given[0]!);
  }
  const json = parsed.values.has("--json");
  const serverFlags = new Set(Object.values(SERVER_OPTIONS).map((o) => o.flag as string));
  const server = { values: new Map([...parsed.values].filter(([flag]) => serverFlags.has(flag))) };
  const serverArgv = [...parsed.words].filter(([flag]) => serverFlags.has(flag)).flatMap(([, words]) => words);
  if (positionals.length === 0) throw new UsageError("run needs an agent", { hint: 'e.g. codex-subagents run review "Review the last commit" (codex-subagents list shows the agents)' });
  if (positionals.length > 2) throw new UsageError(`run takes AGENT and one TASK, got ${positionals.length} words`, { hint: `quote the task: codex-subagents run ${positionals[0]} "…"` });
  const [agent, task] = positionals as [string, string | undefined];
  if (task !== undefined && values.has("--task-file")) throw new UsageError("the task was given twice: as an argument and with --task-file", { hint: "give the task once: as an argument or with --task-file, not both" });
  const isolation = values.get("--isolation");
  if (isolation !== undefined && !(ISOLATION_MODES as readonly string[]).includes(isolation)) {
    throw new UsageError(`--isolation "${isolation}" is not a mode`, { hint: `use one of ${ISOLATION_MODES.join(", ")}` });
  }
  const resume = values.get("--resume");
  if (resume !== undefined && !THREAD_ID_PATTERN.test(resume)) throw new UsageError(`--resume "${resume}" is not a thread_id`, { hint: "give the thread_id of an earlier result" });
  return { agent, task, values, json, serverArgv, server };
}

/** --cwd must name a directory; said about --cwd, the flag the user typed (not about roots they never set). */
async function requireDirectory(dir: string, given: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new NotFoundError(`--cwd "${given}" does not exist`, { hint: "give the directory the sub-agent should work in, e.g. --cwd . (the default is the current directory)" });
  if (!info.isDirectory()) throw new NotFoundError(`--cwd "${given}" is not a directory`, { hint: "give the directory the sub-agent should work in, not a file" });
}

/** The task as given: the TASK argument, else --task-file, else stdin; an empty task is refused. */
async function readTask(args: RunArgs, cwd: string, deps: RunCommandDeps): Promise<string> {
  let task = args.task;
  if (task === undefined && args.values.has("--task-file")) {
    const file = path.resolve(cwd, args.values.get("--task-file")!);
    task = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --task-file "${args.values.get("--task-file")}" (${error.code ?? error.message})`, { hint: "give a readable file" });
    });
  }
  if (task === undefined) {
    if (!deps.readStdin) throw new UsageError("run needs a task", { hint: `give it as codex-subagents run ${args.agent} "TASK", with --task-file FILE, or on stdin` });
    task = await deps.readStdin();
  }
  if (task.trim() === "") throw new UsageError("the task is empty", { hint: "say what the sub-agent must do" });
  return task;
}

/** The JSON Schema named by --output-schema, when one was. */
async function readOutputSchema(args: RunArgs, cwd: string): Promise<Record<string, unknown> | undefined> {
  const schemaFile = args.values.get("--output-schema");
  if (schemaFile === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path.resolve(cwd, schemaFile), "utf8"));
  } catch (error) {
    throw new UsageError(`--output-schema "${schemaFile}" is not a readable JSON file (${(error as Error).message})`, { hint: "give a JSON Schema file" });
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`--output-schema "${schemaFile}" must hold a JSON object (a JSON Schema)`);
  return parsed as Record<string, unknown>;
}

/**
 * The delegation context of a one-off run: the one serve builds (delegation/context.ts), with no spare worktrees. A
 * codex that cannot be found is refused here, before anything is made, with the fix.
 */
async function buildRunContext(options: ServerOptions, io: CliIO, env: Env, cwd: string, deps: RunCommandDeps): Promise<BuiltContext> {
  const built = await buildDelegateContext(options, { env, cwd, writeLog: io.err, programDir: deps.programDir }, "one-run");
  // A shim whose executable was found (Windows npm's codex.cmd) is not a problem for a run: that executable runs.
  if (!built.codex.runnable && built.codex.problem) throw new NotFoundError(built.codex.problem.detail, { hint: built.codex.problem.hint });
  for (const warning of await contextWarnings(built)) built.context.log.warn(warning);
  return built;
}

function delegateInputOf(args: RunArgs, task: string, runCwd: string | undefined, outputSchema: Record<string, unknown> | undefined): DelegateInput {
  return {
    agent: args.agent,
    task,
    ...(runCwd ? { cwd: runCwd } : {}),
    ...(args.values.has("--isolation") ? { isolation: args.values.get("--isolation") as IsolationMode } : {}),
    ...(args.values.has("--resume") ? { resume: args.values.get("--resume") } : {}),
    ...(outputSchema ? { output_schema: outputSchema } : {}),
  };
}

interface Progress {
  showStep: (raw: string) => void;
  /** Stops the ticker and wipes the updating line, if one is shown. */
  clearLine: () => void;
}

/** Progress on stderr: one updating line on a terminal, one line a step otherwise. */
function startProgress(io: CliIO, tty: boolean): Progress {
  const startedAt = Date.now();
  let lineShown = false;
  let lastStep = "starting";
  const draw = () => {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    // One updating line, cut to the terminal's usual width so it never wraps.
    io.err(`\r\x1b[K${`codex-subagents: [${seconds}s] ${lastStep}`.slice(0, 119)}`);
    lineShown = true;
  };
  const showStep = (raw: string) => {
    lastStep = printable(raw);
    if (tty) draw();
    else io.err(`codex-subagents: [${Math.round((Date.now() - startedAt) / 1000)}s] ${lastStep}\n`);
  };
  // On a terminal the line's clock keeps moving between steps.
  const ticker = tty ? setInterval(draw, 1000) : undefined;
  const clearLine = () => {
    clearInterval(ticker);
    if (lineShown) io.err("\r\x1b[K");
    lineShown = false;
  };
  return { showStep, clearLine };
}

type StartedRun = Awaited<ReturnType<RunManager["start"]>>;

/** Check and start the run; a refusal is printed and becomes the exit code, with nothing left behind. */
async function startRun(args: RunArgs, input: DelegateInput, context: DelegateContext, runs: RunManager, io: CliIO, progress: Progress): Promise<StartedRun | number> {
  try {
    // The checks run before anything starts; a refusal leaves nothing behind.
    const checked = await checkRequest(input, context);
    if (args.values.has("--patch-out") && checked.isolation !== "worktree") {
      throw new UsageError(`--patch-out needs worktree isolation, but this run's isolation is "${checked.isolation}"`, { hint: "add --isolation worktree" });
    }
    return await runs.start(input, { onStep: progress.showStep });
  } catch (error) {
    progress.clearLine();
    if (!(error instanceof DelegateError)) throw error;
    if (error.code === UNKNOWN_AGENT) {
      // run takes no persona: its next step is to look at the agents, or to add one.
      io.err(cliErrorText(new DelegateError(error.message, { hint: "codex-subagents list shows the agents and where they are read from; an agent is a file <name>.md in an agents directory (docs/AGENT-FILES.md)" })));
      return EXIT_NOT_FOUND;
    }
    io.err(cliErrorText(error));
    return /does not exist/.test(error.message) ? EXIT_NOT_FOUND : EXIT_FAILURE;
  }
}

/** Wait for the run to end; SIGINT/SIGTERM meanwhile cancel it. Returns whether it was interrupted. */
async function followRun(run: StartedRun, interrupt: AbortController, progress: Progress, deps: RunCommandDeps): Promise<boolean> {
  let interrupted = false;
  const unsubscribe = deps.onInterrupt?.(() => {
    interrupted = true;
    interrupt.abort();
  });
  try {
    await run.done;
  } finally {
    unsubscribe?.();
    progress.clearLine();
  }
  return interrupted;
}

/** The outcome on stdout and stderr, and its exit code. */
async function printOutcome(run: StartedRun, view: RunView, interrupted: boolean, args: RunArgs, io: CliIO, cwd: string, deps: RunCommandDeps): Promise<number> {
  // The same JSON, with the controls JSON.stringify leaves raw (DEL, C1) escaped too.
  if (args.json) io.out(jsonText(view));
  if (interrupted) {
    io.err(`codex-subagents: interrupted; the sub-agent and everything it started were ended (run ${run.id})\n`);
    return EXIT_INTERRUPTED;
  }
  if (view.status !== "succeeded") {
    io.err(run.refusal ? cliErrorText(run.refusal) : `codex-subagents: the sub-agent did not succeed: ${failureReason(view, "run")}\n`);
    for (const note of run.refusal ? [] : view.notes) io.err(`note: ${note}\n`);
    if (view.stderr_tail) io.err(`codex stderr (tail):\n${view.stderr_tail.trimEnd()}\n`);
    io.err(`hint: see what it did with: codex-subagents runs show ${run.id}\n`);
    return EXIT_FAILURE;
  }
  const patchOut = args.values.get("--patch-out");
  if (patchOut !== undefined) {
    await writeFile(path.resolve(cwd, patchOut), view.patch ?? "");
    if (!view.patch) io.err(`codex-subagents: the sub-agent changed nothing; ${patchOut} is empty\n`);
  }
  // Security: a sub-agent's escape sequences must not drive the user's terminal; on one, its text is made printable.
  // --json and pipes get it as is.
  const message = deps.stdoutIsTTY ? printable(view.final_message!) : view.final_message!;
  if (!args.json) io.out(message.endsWith("\n") ? message : `${message}\n`);
  return EXIT_OK;
}

// Security: everything run writes on stderr, except its own progress line, is made printable (cli-io.ts
// diagnosticIO), terminal or not: a failed run's notes name files the sub-agent made, codex's stderr tail is the
// sub-agent's output, and refusals quote paths.
export async function runCommand(argv: string[], terminal: CliIO, env: Env, cwd: string, deps: RunCommandDeps = {}): Promise<number> {
  const io = diagnosticIO(terminal);
  const args = parseRunArgs(argv);
  const runCwd = args.values.has("--cwd") ? path.resolve(cwd, args.values.get("--cwd")!) : undefined;
  if (runCwd) await requireDirectory(runCwd, args.values.get("--cwd")!);
  // From a terminal the person typing is the one choosing the directory: with no root named, --cwd is the root.
  const options = resolveServerOptions(args.server, env, cwd);
  if (runCwd && options.sources.roots === "default") options.roots = [runCwd];
  const task = await readTask(args, cwd, deps);
  const outputSchema = await readOutputSchema(args, cwd);

  const built = await buildRunContext(options, io, env, cwd, deps);
  const { context } = built;
  const interrupt = new AbortController();
  const runs = new RunManager({ context, shutdownSignal: interrupt.signal, runsDir: options.keepRuns > 0 ? options.runsDir : null });
  const input = delegateInputOf(args, task, runCwd, outputSchema);

  // The progress line alone writes its own control sequences (to redraw itself); its text is escaped (printable).
  const progress = startProgress(terminal, deps.stderrIsTTY === true);
  try {
    const run = await startRun(args, input, context, runs, io, progress);
    if (typeof run === "number") return run;
    const interrupted = await followRun(run, interrupt, progress, deps);
    return await printOutcome(run, runs.view(run), interrupted, args, io, cwd, deps);
  } finally {
    await built.closeSpares();
  }
}

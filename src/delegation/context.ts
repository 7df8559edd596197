/**
 * The delegation context, built in one place for every process that delegates: `serve`, `run`, and the tests (through
 * test/helpers/delegate-context.ts). Before this, serve, run and the test helper each built their own, and they
 * drifted: run looked codex up only on Windows, never told the workspace code which git to run, and had no thread
 * registry, so it could resume a thread it never started.
 *
 * Everything a delegation relies on is an explicit field here: the programs (codex and git, found once as absolute
 * paths), the thread registry, the tree lock, the spare worktrees and the in-place writers ledger. None is module
 * state and none is optional; a test that wants none passes an explicit no-op.
 */
import { realpath } from "node:fs/promises";
import { EMBEDDED_AGENTS } from "../agents/embedded.ts";
import { discoverAgents, loadRegistry, type AgentsLocation, type Registry } from "../agents/registry.ts";
import { agentsDirsOf, ceilingsOf, codexHomeOf, type ServerOptions } from "../config.ts";
import type { CapabilityCeilings } from "../policy/capabilities.ts";
import type { SandboxMode } from "../policy/sandbox.ts";
import { codexSourceOf, findCodex, findGit, type CodexLocation } from "../codex/find.ts";
import { Limiter } from "../limiter.ts";
import { createLogger, type Logger } from "../log.ts";
import { detectDepth } from "../policy/depth.ts";
import { secretValues } from "../policy/env.ts";
import { createRedactor, type Redactor } from "../policy/redact.ts";
import { isWithin, resolveRoots, type Root } from "../policy/roots.ts";
import { rootsUnderTmp, TMP_ROOT_HINT } from "../policy/tmp-roots.ts";
import { createRunRecords, type StartRecord } from "../runs/record.ts";
import { createThreadRegistry, type ThreadRegistry } from "../runs/threads.ts";
import { TreeLock } from "../runs/tree-lock.ts";
import { createWriterLedger, type WriterLedger } from "../runs/writer-ledger.ts";
import { createGit, type Git } from "../workspace/git.ts";
import { workDirExposure, workDirFor } from "../workspace/private-dir.ts";
import { SparePool } from "../workspace/spares.ts";
import { NO_SPARES, type Spares } from "../workspace/spares-interface.ts";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Everything a delegation needs from the process that runs it. Built in one place (buildDelegateContext, below) for
 * `serve`, `run` and the tests; every field is explicit, and a test that wants none of something passes an explicit no-op.
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
  /** --allow-mcp, --max-web-search, --allow-network. */
  ceilings: CapabilityCeilings;
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

/** What the process that delegates brings: its environment, its working directory, where its log lines go. */
export interface ContextHost {
  env: Env;
  cwd: string;
  /** Writes one log line (stderr: stdout is the protocol, or the run's answer). */
  writeLog: (line: string) => void;
  /** The executable's own directory, for agent discovery (cli.ts programDir); undefined when run from source. */
  programDir?: string;
}

/**
 * How long the context lives. A server keeps spare worktrees ready for its next calls; a one-off `run`
 * makes none (a spare would be checked out only to be removed at exit) and removes its worktree before it returns.
 */
export type ContextLifetime = "server" | "one-run";

export interface BuiltContext {
  context: DelegateContext;
  location: AgentsLocation;
  codexHome: string;
  /** How codex was looked up: with no `runnable`, `problem` says why none can be started (serve logs it; run refuses at once). */
  codex: CodexLocation;
  /** Close at exit: ends spares and waits for deferred worktree removals (a no-op for a one-off run). */
  closeSpares: () => Promise<void>;
}

/**
 * Where a call without `cwd` works: the process's own working directory when it lies inside a root (Codex starts the
 * server in the project the user opened), else the first root. Real paths, as every cwd is compared.
 */
export async function defaultCwdOf(cwd: string, roots: readonly Root[]): Promise<string> {
  const real = await realpath(cwd).catch(() => null);
  if (real !== null && roots.some((root) => isWithin(real, root.real))) return real;
  return roots[0]!.real;
}

/** Build the context from the server options (config.ts): a new option reaches every command through here. */
export async function buildDelegateContext(options: ServerOptions, host: ContextHost, lifetime: ContextLifetime): Promise<BuiltContext> {
  const { env, cwd } = host;
  const redact = createRedactor(secretValues(env, options.passEnv));
  const log = createLogger({ level: options.logLevel, redact, write: host.writeLog });
  const roots = await resolveRoots(options.roots, cwd);
  const location = await discoverAgents({ ...agentsDirsOf(options), cwd, programDir: host.programDir });
  const codexHome = codexHomeOf(env);
  const workDir = workDirFor(codexHome);
  // Security: codex and git are found once, as absolute paths, in the absolute PATH entries only (a repository's own
  // `bin/git` or `./codex` must never run); on Windows this also finds the executable behind npm's codex.cmd shim.
  const [codex, gitPath, depth, defaultCwd] = await Promise.all([
    findCodex({ command: options.codex, source: codexSourceOf(options), env, cwd }),
    findGit(env),
    detectDepth(env),
    defaultCwdOf(cwd, roots),
  ]);
  const spares = lifetime === "server"
    // Spare worktrees live in the private work directory too, beside the runs' directories.
    ? new SparePool({ perRepository: options.spareWorktrees, baseDir: workDir, logger: log })
    : NO_SPARES;
  const context: DelegateContext = {
    registry: () => loadRegistry(location, EMBEDDED_AGENTS, codexHome),
    roots,
    defaultCwd,
    // A codex that was not found stays a bare name, which runCodex refuses to spawn (with the fix in its message).
    codexPath: codex.runnable ?? codex.command,
    git: createGit(gitPath),
    workDir,
    maxTimeoutS: options.timeoutS,
    maxSandbox: options.maxSandbox,
    ceilings: ceilingsOf(options),
    passEnv: options.passEnv,
    depth,
    maxDepth: options.maxDepth,
    parentEnv: env,
    limiter: new Limiter(options.maxConcurrency),
    redact,
    log,
    startRecord: createRunRecords({ runsDir: options.runsDir, keepRuns: options.keepRuns, redact, log }),
    threads: createThreadRegistry({ runsDir: options.runsDir, keepRuns: options.keepRuns }),
    treeLock: new TreeLock(workDir),
    spares,
    writers: createWriterLedger(workDir),
  };
  return { context, location, codexHome, codex, closeSpares: () => spares.close() };
}

/** What is worth a warning about the context, one sentence each (serve logs them at start-up, run before its run). */
export async function contextWarnings(built: BuiltContext): Promise<string[]> {
  const { context } = built;
  const warnings: string[] = [];
  if (!built.codex.runnable && built.codex.problem) warnings.push(`${built.codex.problem.detail}; every delegation fails until it is fixed: ${built.codex.problem.hint}`);
  if (context.git.program === null) warnings.push('no git found in an absolute PATH directory; isolation "worktree" is refused until git is installed and the server restarted');
  const exposure = await workDirExposure(context.workDir, { tmpDir: context.parentEnv.TMPDIR, roots: context.roots.map((r) => r.real) });
  if (exposure) warnings.push(`the private work directory ${context.workDir} is not private: ${exposure}; set CODEX_HOME outside /tmp, TMPDIR and the roots`);
  for (const warning of await rootsUnderTmp(context.roots.map((r) => r.real), context.parentEnv.TMPDIR)) warnings.push(`${warning}; ${TMP_ROOT_HINT}`);
  return warnings;
}

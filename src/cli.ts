#!/usr/bin/env bun
/**
 * argv → command; exit codes. The only module that writes to stdout, and never in server mode.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { EMBEDDED_AGENTS } from "./agents/embedded.ts";
import { addEnvironmentWarnings, discoverAgents, loadAgentsDir, loadRegistry, type AgentsLocation, type Registry } from "./agents/registry.ts";
import { addMcpServerWarnings, codexDeclaredServers } from "./agents/mcp-check.ts";
import { escapeJsonControl, formatListReport, formatValidateReport, listReport, validateReport } from "./agents/report.ts";
import type { CliIO } from "./cli-io.ts";
import { onceOf, parseFlags } from "./args.ts";
import { agentsDirsOf, ceilingsOf, codexHomeOf, parseServerOptions, serverOptionsHelp, type ServerOptions } from "./config.ts";
import type { DelegateContext } from "./delegate.ts";
import { cliErrorText, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, isRefusal, NotFoundError, UsageError } from "./errors.ts";
import { Limiter } from "./limiter.ts";
import { createLogger, type Logger } from "./log.ts";
import { detectDepth } from "./policy/depth.ts";
import { secretValues } from "./policy/env.ts";
import { createRedactor } from "./policy/redact.ts";
import { resolveRoots, type Root } from "./policy/roots.ts";
import { doctorCommand } from "./doctor/index.ts";
import { resolvePrograms } from "./doctor/find-codex.ts";
import { runCommand } from "./commands/run.ts";
import { runsCommand } from "./runs/command.ts";
import { convertCommand } from "./convert/command.ts";
import { RunManager } from "./runs/manager.ts";
import { rootsUnderTmp, TMP_ROOT_HINT } from "./policy/tmp-roots.ts";
import { createRunRecords } from "./runs/record.ts";
import { createThreadRegistry } from "./runs/threads.ts";
import { createWriterLedger } from "./runs/writer-ledger.ts";
import { createServer } from "./server.ts";
import { useGitProgram } from "./workspace/git.ts";
import { workDirExposure, workDirFor } from "./workspace/private-dir.ts";
import { SparePool } from "./workspace/spares.ts";
import { answerMalformedFrames, holdUntilReady } from "./transport.ts";
import { sbomCommand, verifyCommand, versionCommand } from "./verify/commands.ts";
import { PRODUCT_NAME, VERSION } from "./version.ts";

export { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE };

export const USAGE = `${PRODUCT_NAME} ${VERSION}: file-based Codex sub-agents over MCP (stdio)

Usage:
  codex-subagents [serve] [options]          run the stdio MCP server (the default)
  codex-subagents list [--json]              the agents the server would load, and from where
  codex-subagents validate [DIR] [--json]    check agent files (exit 0 clean, 1 errors, 2 no such dir)
  codex-subagents doctor [--json] [server options]
                                             check codex, its flags, the agents, roots and runs directory
                                             (exit 0 healthy, 1 not)
  codex-subagents run AGENT [TASK] [--cwd DIR] [--isolation MODE] [--resume THREAD_ID]
                  [--output-schema FILE] [--task-file FILE] [--patch-out FILE] [--json] [server options]
                                             one delegation from a terminal or CI job (task: TASK,
                                             --task-file or stdin); final message on stdout, progress
                                             on stderr (exit 0 succeeded, 1 failed or timed out,
                                             2 not found, 64 usage, 130 interrupted)
  codex-subagents runs [--json] [--limit N] [--runs-dir DIR]
                                             recent delegations from the run records
  codex-subagents convert SRC... --out DIR [--check]
                                             Claude Code agents (.md) and Codex role files (.toml)
                                             → this server's format, with what was not carried over
                                             (exit 0 done, 1 errors or --check found changes, 2 no SRC)
  codex-subagents runs show RUN_ID [--follow] [--json] [--runs-dir DIR]
                                             one run step by step; --follow streams a live run
  codex-subagents --verify [--checksums FILE] [--pubkey KEY|FILE] [--json]
  codex-subagents --sbom                     CycloneDX JSON of the bundled packages
  codex-subagents --version | --help

Server options (flag, environment variable, default; what it decides):
${serverOptionsHelp()}

Exit status: ${EXIT_OK} ok; ${EXIT_FAILURE} failure (validate: errors found; doctor: unhealthy; --verify: mismatch;
run: the sub-agent failed or timed out; runs show --follow: its server is gone);
${EXIT_NOT_FOUND} not found (validate: no such dir; serve, list: a root or explicit agents dir is missing;
--verify: cannot verify; run: no such agent or cwd); ${EXIT_USAGE} usage error; ${EXIT_INTERRUPTED} run interrupted.
Errors go to stderr as "codex-subagents: error: …", with a "hint: …" line when there is a next step to say.
Docs: README.md, docs/AGENT-FILES.md, docs/BACKGROUND.md, docs/INTEGRATION.md, docs/OPERATIONS.md, docs/VERIFY.md,
SECURITY.md
`;

type Env = Readonly<Record<string, string | undefined>>;

/** Where a compiled or bundled program lives; undefined when running from source (its dir holds no agents). */
export function programDir(): string | undefined {
  const url = import.meta.url;
  if (url.includes("$bunfs") || url.includes("~BUN")) return path.dirname(process.execPath);
  if (url.endsWith(".ts")) return undefined;
  return path.dirname(fileURLToPath(url));
}


async function locate(flagDir: string | undefined, env: Env, cwd: string): Promise<AgentsLocation> {
  return discoverAgents({ flagDir, envDir: env.CODEX_SUBAGENTS_DIR, cwd, programDir: programDir() });
}

/** `list` and `validate` take these; the agents directory is read the way the server reads it. */
const AGENTS_FLAGS = { "agents-dir": { type: "string" }, json: { type: "boolean" } } as const;

async function listCommand(argv: string[], io: CliIO, env: Env, cwd: string): Promise<number> {
  const parsed = parseFlags(argv, AGENTS_FLAGS);
  const { values, positionals } = parsed;
  if (positionals.length) throw new UsageError(`list takes no arguments, got "${positionals[0]}"; to check a directory use: codex-subagents validate DIR`);
  const location = await locate(onceOf(parsed, "--agents-dir"), env, cwd);
  const registry = await loadRegistry(location, EMBEDDED_AGENTS, codexHomeOf(env));
  const report = listReport(location, registry.files);
  io.out(values.has("--json") ? escapeJsonControl(JSON.stringify(report, null, 2)) + "\n" : formatListReport(report, location.foundBy));
  return EXIT_OK;
}

async function validateCommand(argv: string[], io: CliIO, env: Env, cwd: string): Promise<number> {
  const parsed = parseFlags(argv, AGENTS_FLAGS);
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`validate takes one directory, got ${positionals.length}; e.g. codex-subagents validate agents/`);
  let dir: string | null;
  let files;
  if (positionals[0] !== undefined) {
    dir = path.resolve(cwd, positionals[0]);
    files = await loadAgentsDir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return null;
      throw error;
    });
    if (files === null) throw new NotFoundError(`no such directory "${positionals[0]}"`, { hint: "give the directory that holds your agent files, e.g. codex-subagents validate agents/" });
    await addEnvironmentWarnings(files, codexHomeOf(env));
  } else {
    const location = await locate(onceOf(parsed, "--agents-dir"), env, cwd);
    const registry = await loadRegistry(location, EMBEDDED_AGENTS, codexHomeOf(env));
    dir = location.dir;
    files = registry.files;
  }
  // Issue 16: a granted MCP server the user's codex config does not declare here (codex is asked; see mcp-check.ts).
  const codex = env.CODEX_SUBAGENTS_CODEX || "codex";
  await addMcpServerWarnings(files, codexDeclaredServers({ codex, source: env.CODEX_SUBAGENTS_CODEX ? "CODEX_SUBAGENTS_CODEX" : "PATH", env, cwd }));
  const report = validateReport(dir, files);
  io.out(values.has("--json") ? escapeJsonControl(JSON.stringify(report, null, 2)) + "\n" : formatValidateReport(report));
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

/** What serve builds before the server exists: its options, logger, roots, agents and the delegation context. */
interface ServeSetup {
  options: ServerOptions;
  log: Logger;
  roots: Root[];
  location: AgentsLocation;
  codexHome: string;
  workDir: string;
  /** The agents as read at start-up, their issues logged as warnings. */
  initial: Promise<Registry>;
  shutdown: AbortController;
  limiter: Limiter;
  spares: SparePool;
  context: DelegateContext;
}

async function serveSetup(argv: string[], io: CliIO, env: Env, cwd: string): Promise<ServeSetup> {
  const options: ServerOptions = parseServerOptions(argv, env, cwd);
  const redact = createRedactor(secretValues(env, options.passEnv));
  const log: Logger = createLogger({ level: options.logLevel, redact, write: (line) => io.err(line) });
  const roots = await resolveRoots(options.roots, cwd);
  const location = await discoverAgents({ ...agentsDirsOf(options), cwd, programDir: programDir() });
  const codexHome = codexHomeOf(env);
  const registry = () => loadRegistry(location, EMBEDDED_AGENTS, codexHome);
  // Read while the client initializes; requests other than initialize wait for it (transport.ts).
  const initial = registry().then((loaded) => {
    for (const file of loaded.files) {
      for (const issue of file.issues) log.warn(`${file.file}: ${issue.code}: ${issue.message}`);
    }
    return loaded;
  });
  const workDir = workDirFor(codexHome);
  // Until the programs are found (findProgramsAtStart, while the client initializes) nothing can be started: no git,
  // and a codex path that is not absolute, which runCodex refuses to spawn.
  useGitProgram(null);
  const shutdown = new AbortController();
  const limiter = new Limiter(options.maxConcurrency);
  // Issue 13: spare worktrees live in the private work directory too, beside the runs' directories.
  const spares = new SparePool({ perRepository: options.spareWorktrees, baseDir: workDir, logger: log });
  const context: DelegateContext = {
    registry,
    roots,
    codexPath: "",
    gitPath: null,
    workDir,
    maxTimeoutS: options.timeoutS,
    maxSandbox: options.maxSandbox,
    ceilings: ceilingsOf(options),
    passEnv: options.passEnv,
    depth: Number.MAX_SAFE_INTEGER, // set in serveCommand, before any request other than initialize is served
    maxDepth: options.maxDepth,
    parentEnv: env,
    limiter,
    redact,
    log,
    startRecord: createRunRecords({ runsDir: options.runsDir, keepRuns: options.keepRuns, redact, log }),
    threads: createThreadRegistry({ runsDir: options.runsDir, keepRuns: options.keepRuns }),
    spares,
    writers: createWriterLedger(workDir),
  };
  return { options, log, roots, location, codexHome, workDir, initial, shutdown, limiter, spares, context };
}

/**
 * Security: codex and git are found once, as absolute paths, ignoring relative PATH entries (a repository's own
 * `bin/git` must never run); on Windows this also finds the executable behind npm's codex.cmd shim. Requests other
 * than initialize wait for `ready`, so no call sees the placeholders serveSetup left in the context.
 */
function findProgramsAtStart(setup: ServeSetup, env: Env, cwd: string): Promise<void> {
  const { context, log, workDir, roots } = setup;
  return resolvePrograms(setup.options.codex, env, cwd).then(async (found) => {
    context.codexPath = found.codex;
    context.gitPath = found.git;
    useGitProgram(found.git);
    if (found.git === null) log.warn('no git found in an absolute PATH directory; isolation "worktree" is refused until git is installed and the server restarted');
    const exposure = await workDirExposure(workDir, { tmpDir: env.TMPDIR, roots: roots.map((r) => r.real) });
    if (exposure) log.warn(`the private work directory ${workDir} is not private: ${exposure}; set CODEX_HOME outside /tmp, TMPDIR and the roots`);
    for (const warning of await rootsUnderTmp(roots.map((r) => r.real), env.TMPDIR)) log.warn(`${warning}; ${TMP_ROOT_HINT}`); // issue 8 B
  });
}

/**
 * The one way serve ends, whatever asked for it (and only once): runs settled, then spares closed, then the server
 * closed, so nothing of ours outlives it.
 */
function shutdownInOrder(setup: ServeSetup, runs: RunManager, server: McpServer, resolve: (exitCode: number) => void): (why: string, exitCode?: number) => Promise<void> {
  const { log, shutdown, limiter, spares } = setup;
  let stopping = false;
  return async (why, exitCode = EXIT_OK) => {
    if (stopping) return;
    stopping = true;
    log.info(`shutting down: ${why}`);
    shutdown.abort();
    // Let running delegations end their codex process group and remove their workspaces.
    // Background runs included: each is ended and recorded as cancelled (runs/manager.ts).
    const deadline = Date.now() + 6000;
    await runs.settle(6000);
    while (limiter.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    // Spares and the removals of used worktrees: nothing of ours is left once we exit.
    await spares.close();
    await server.close().catch(() => {});
    resolve(exitCode);
  };
}

/** The client going away, a closed stdout, or a signal: each stops the server. */
function stopOnHangUp(transport: StdioServerTransport, stop: (why: string) => Promise<void>): void {
  process.stdin.once("end", () => void stop("stdin closed (the client went away)"));
  process.stdin.once("close", () => void stop("stdin closed"));
  process.stdout.on("error", () => void stop("stdout is closed"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
  transport.onclose = () => void stop("transport closed");
}

async function serveCommand(argv: string[], io: CliIO, env: Env, cwd: string): Promise<number> {
  const setup = await serveSetup(argv, io, env, cwd);
  const { options, log, roots, location, context, shutdown, initial } = setup;
  const runs = new RunManager({ context, shutdownSignal: shutdown.signal, runsDir: options.keepRuns > 0 ? options.runsDir : null });
  const { server, ready: described } = createServer({ context, roots, agentsAtStart: initial.then((r) => r.agents()), codexHome: setup.codexHome, shutdownSignal: shutdown.signal, runs, maxWaitS: options.maxWaitS });
  const programs = findProgramsAtStart(setup, env, cwd);
  const ready = Promise.all([described, detectDepth(env).then((depth) => { context.depth = depth; }), programs]);
  const transport = new StdioServerTransport();

  return await new Promise<number>((resolve) => {
    const stop = shutdownInOrder(setup, runs, server, resolve);
    stopOnHangUp(transport, stop);
    server.connect(transport).then(
      () => {
        answerMalformedFrames(transport);
        holdUntilReady(transport, ready);
        ready.then(
          () => initial.then((r) => log.info(`serving ${r.agents().length} agent(s) from ${location.dir ?? "the embedded set"}; roots: ${roots.map((root) => root.real).join(", ")}`)),
          (error) => {
            log.error(`could not load the agents: ${(error as Error).message}`);
            void stop("start-up failed", EXIT_FAILURE);
          },
        );
      },
      (error) => {
        log.error(`could not start: ${(error as Error).message}`);
        resolve(EXIT_FAILURE);
      },
    );
  });
}

export async function main(argv: string[], io: CliIO, env: Env = process.env, cwd = process.cwd()): Promise<number> {
  const [first, ...rest] = argv;
  try {
    switch (first) {
      case undefined:
        return await serveCommand([], io, env, cwd);
      case "serve":
        if (rest.includes("--help") || rest.includes("-h")) {
          io.out(USAGE);
          return EXIT_OK;
        }
        return await serveCommand(rest, io, env, cwd);
      case "list":
        return await listCommand(rest, io, env, cwd);
      case "validate":
        return await validateCommand(rest, io, env, cwd);
      case "doctor":
        return await doctorCommand(rest, io, env, cwd, programDir());
      case "runs":
        return await runsCommand(rest, io, env, cwd);
      case "convert":
        return await convertCommand(rest, io, env, cwd);
      case "run":
        if (rest.includes("--help") || rest.includes("-h")) {
          io.out(USAGE);
          return EXIT_OK;
        }
        return await runCommand(rest, io, env, cwd, runDeps());
      case "--help":
      case "-h":
      case "help":
        io.out(USAGE);
        return EXIT_OK;
      case "--version":
      case "-V":
        return await versionCommand(rest, io);
      case "--verify":
        return await verifyCommand(rest, io);
      case "--sbom":
        return await sbomCommand(rest, io);
      default:
        if (first.startsWith("--")) return await serveCommand(argv, io, env, cwd);
        throw new UsageError(`unknown command "${first}"; commands: serve, list, validate, doctor, run, runs, convert, --verify, --sbom, --version, --help`);
    }
  } catch (error) {
    if (isRefusal(error)) {
      io.err(cliErrorText(error));
      return error.exitStatus;
    }
    io.err(`codex-subagents: unexpected error: ${(error as Error).stack ?? error}\n`);
    return EXIT_FAILURE;
  }
}

/** What `run` needs of the real process: stdin, whether stderr is a terminal, the interrupt signals. */
const runDeps = () => ({
  programDir: programDir(),
  readStdin: process.stdin.isTTY ? undefined : async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  stderrIsTTY: process.stderr.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
  onInterrupt: (handler: () => void) => {
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
    return () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    };
  },
});

const realIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

// Run only as the program itself, never when a test imports this module.
if (import.meta.main ?? (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))) {
  main(process.argv.slice(2), realIO).then((code) => process.exit(code));
}

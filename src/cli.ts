#!/usr/bin/env bun
/**
 * argv → command; exit codes. The only module that writes to stdout, and never in server mode.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EMBEDDED_AGENTS } from "./agents/embedded.ts";
import type { Agent } from "./agents/schema.ts";
import { addEnvironmentWarnings, discoverAgents, loadAgentsDir, loadRegistry, type AgentsLocation, type Registry } from "./agents/registry.ts";
import { addMcpServerWarnings, codexDeclaredServers } from "./agents/mcp-check.ts";
import { escapeJsonControl, formatListReport, formatValidateReport, listReport, validateReport } from "./agents/report.ts";
import type { CliIO } from "./cli-io.ts";
import { onceOf, parseFlags } from "./args.ts";
import { once } from "./once.ts";
import { agentsDirsOf, codexHomeOf, parseServerOptions, serverOptionsHelp, type ServerOptions } from "./config.ts";
import type { DelegateContext } from "./delegate.ts";
import { cliErrorText, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, isRefusal, NotFoundError, UsageError } from "./errors.ts";
import { Limiter } from "./limiter.ts";
import type { Logger } from "./log.ts";
import type { Root } from "./policy/roots.ts";
import { buildDelegateContext, contextWarnings } from "./delegation/context.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { runCommand } from "./commands/run.ts";
import { runsCommand } from "./runs/command.ts";
import { printable } from "./runs/show.ts";
import { convertCommand } from "./convert/command.ts";
import { RunManager } from "./runs/manager.ts";
import { createServer } from "./server.ts";
import { serveOverStdio, type StdioServing } from "./transport.ts";
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
                                             one run step by step (RUN_ID or its record directory);
                                             --follow streams a live run
  codex-subagents runs usage [--since 7d] [--by agent|model|day] [--prices FILE] [--json] [--runs-dir DIR]
                                             the recorded token usage summed (input, cached input, output,
                                             reasoning, runs); cost only with --prices; no usage = unknown
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


/** This program's own file: the compiled executable, or the bundle a runtime runs; undefined from source. */
export function selfPath(): string | undefined {
  const url = import.meta.url;
  if (url.includes("$bunfs") || url.includes("~BUN")) return process.execPath;
  if (url.endsWith(".ts")) return undefined;
  return fileURLToPath(url);
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
    if (files === null) {
      throw new NotFoundError(`no such directory "${positionals[0]}" (from ${cwd})`, {
        hint: "give the path of the directory that holds your agent files; codex-subagents list shows the one the server would use, and codex-subagents validate with no directory checks it",
      });
    }
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
  roots: readonly Root[];
  location: AgentsLocation;
  codexHome: string;
  /** The agents as read at start-up (the first call reads them), their issues logged as warnings. */
  initial: () => Promise<Registry>;
  /** What is worth a warning about the context (logged once the opening request is answered). */
  warnings: () => Promise<string[]>;
  shutdown: AbortController;
  limiter: Limiter;
  /** Ends the spare worktrees and waits for deferred worktree removals. */
  closeSpares: () => Promise<void>;
  context: DelegateContext;
}

async function serveSetup(argv: string[], io: CliIO, env: Env, cwd: string): Promise<ServeSetup> {
  const options: ServerOptions = parseServerOptions(argv, env, cwd);
  // The same context `run` and the tests build (delegation/context.ts): programs, registry, lock, spares, ledger. It
  // only looks things up (no file is written, no program started), so a copy started just to answer a client's
  // discovery probe leaves nothing behind.
  const built = await buildDelegateContext(options, { env, cwd, writeLog: (line) => io.err(line), programDir: programDir() }, "server");
  const { context, log } = built;
  // Read once the client has opened the connection; requests other than the opening one wait for it (transport.ts).
  const initial = once(() => context.registry().then((loaded) => {
    for (const file of loaded.files) {
      for (const issue of file.issues) log.warn(`${file.file}: ${issue.code}: ${issue.message}`);
    }
    return loaded;
  }));
  return {
    options, log, roots: context.roots, location: built.location, codexHome: built.codexHome, initial,
    warnings: () => contextWarnings(built),
    shutdown: new AbortController(), limiter: context.limiter, closeSpares: built.closeSpares, context,
  };
}

/**
 * The one way serve ends, whatever asked for it (and only once): runs settled, then spares closed, then the connection
 * closed, so nothing of ours outlives it.
 */
function shutdownInOrder(setup: ServeSetup, runs: RunManager, connection: () => StdioServing | undefined, resolve: (exitCode: number) => void): (why: string, exitCode?: number) => Promise<void> {
  const { log, shutdown, limiter, closeSpares } = setup;
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
    await closeSpares();
    await connection()?.close().catch(() => {});
    resolve(exitCode);
  };
}

/** A signal stops the server; the client going away (stdin's end, a closed stdout) is the transport's to report. */
function stopOnSignals(stop: (why: string) => Promise<void>): void {
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

async function serveCommand(argv: string[], io: CliIO, env: Env, cwd: string): Promise<number> {
  const setup = await serveSetup(argv, io, env, cwd);
  const { options, log, roots, location, context, shutdown } = setup;
  const runs = new RunManager({ context, shutdownSignal: shutdown.signal, runsDir: options.keepRuns > 0 ? options.runsDir : null });
  let resolveAgents: (agents: readonly Agent[]) => void = () => {};
  const agentsAtStart = new Promise<readonly Agent[]>((resolve) => (resolveAgents = resolve));
  // One server per protocol era the client opens with (serveStdio asks for each); all share the runs and the context.
  const factory = () => createServer({ context, roots, agentsAtStart, codexHome: setup.codexHome, shutdownSignal: shutdown.signal, runs, maxWaitS: options.maxWaitS }).server;

  return await new Promise<number>((resolve) => {
    let connection: StdioServing | undefined;
    const stop = shutdownInOrder(setup, runs, () => connection, resolve);
    stopOnSignals(stop);
    // The agents and the warnings: read once the opening request is answered (the transport says when), so that
    // answer waits for neither, and a copy started only to answer server/discover reads no agent file.
    const ready = once(() => {
      const loaded = Promise.all([setup.initial(), setup.warnings().then((warnings) => { for (const warning of warnings) log.warn(warning); })]);
      loaded.then(
        ([registry]) => {
          resolveAgents(registry.agents());
          log.info(`serving ${registry.agents().length} agent(s) from ${location.dir ?? "the embedded set"}; roots: ${roots.map((root) => root.real).join(", ")}`);
        },
        (error) => {
          log.error(`could not load the agents: ${(error as Error).message}`);
          void stop("start-up failed", EXIT_FAILURE);
        },
      );
      return loaded;
    });
    connection = serveOverStdio(factory, {
      stdin: process.stdin,
      stdout: process.stdout,
      ready,
      onHangUp: (why) => void stop(why),
      onError: (error) => log.debug(`transport: ${error.message}`),
    });
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
        return await doctorCommand(rest, io, env, cwd, programDir(), selfPath());
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
      // A refusal quotes what it was given (a path, a name): no control character of it reaches the terminal.
      io.err(printable(cliErrorText(error)));
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

#!/usr/bin/env bun
/**
 * argv → command; exit codes. The only module that writes to stdout, and never in server mode.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { EMBEDDED_AGENTS } from "./agents/embedded.ts";
import { addEnvironmentWarnings, AgentsDirError, discoverAgents, loadAgentsDir, loadRegistry, type AgentsLocation } from "./agents/registry.ts";
import { formatListReport, formatValidateReport, listReport, validateReport } from "./agents/report.ts";
import type { CliIO } from "./cli-io.ts";
import { codexHomeOf, collectFlags, parseServerOptions, UsageError, type ServerOptions } from "./config.ts";
import type { DelegateContext } from "./delegate.ts";
import { Limiter } from "./limiter.ts";
import { createLogger, type Logger } from "./log.ts";
import { detectDepth } from "./policy/depth.ts";
import { secretValues } from "./policy/env.ts";
import { createRedactor } from "./policy/redact.ts";
import { PolicyError, resolveRoots } from "./policy/roots.ts";
import { doctorCommand } from "./doctor/index.ts";
import { findCodex } from "./doctor/find-codex.ts";
import { runsCommand } from "./runs/command.ts";
import { createRunRecords } from "./runs/record.ts";
import { createServer } from "./server.ts";
import { SparePool } from "./workspace/spares.ts";
import { answerMalformedFrames, holdUntilReady } from "./transport.ts";
import { sbomCommand, verifyCommand, versionCommand } from "./verify/commands.ts";
import { PRODUCT_NAME, VERSION } from "./version.ts";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_NOT_FOUND = 2;
export const EXIT_USAGE = 64;

export const USAGE = `${PRODUCT_NAME} ${VERSION}: file-based Codex sub-agents over MCP (stdio)

Usage:
  codex-subagents [serve] [options]          run the stdio MCP server (the default)
  codex-subagents list [--json]              the agents the server would load, and from where
  codex-subagents validate [DIR] [--json]    check agent files (exit 0 clean, 1 errors, 2 no such dir)
  codex-subagents doctor [--json] [server options]
                                             check codex, its flags, the agents, roots and runs directory
                                             (exit 0 healthy, 1 not)
  codex-subagents runs [--json] [--limit N] [--runs-dir DIR]
                                             recent delegations from the run records
  codex-subagents --verify [--checksums FILE] [--pubkey KEY|FILE] [--json]
  codex-subagents --sbom                     CycloneDX JSON of the bundled packages
  codex-subagents --version | --help

Server options (flag, environment variable, default):
  --agents-dir DIR        CODEX_SUBAGENTS_DIR              ./agents, ./.codex-subagents/agents,
                                                           agents/ beside the executable, else embedded
  --root DIR              CODEX_SUBAGENTS_ROOTS (a:b;      the working directory; repeatable. delegate
                          a;b on Windows)
                                                           may only run inside these
  --codex PATH            CODEX_SUBAGENTS_CODEX            codex on PATH
  --timeout SECONDS       CODEX_SUBAGENTS_TIMEOUT          1800; a call's timeout_s may only lower it
  --max-concurrency N     CODEX_SUBAGENTS_MAX_CONCURRENCY  4; more calls wait their turn
  --max-sandbox MODE      CODEX_SUBAGENTS_MAX_SANDBOX      workspace-write (read-only, workspace-write,
                                                           danger-full-access)
  --pass-env NAME         CODEX_SUBAGENTS_PASS_ENV (a,b)   none; extra variables codex may receive
  --max-depth N           CODEX_SUBAGENTS_MAX_DEPTH        1; how deep sub-agents may nest
  --runs-dir DIR          CODEX_SUBAGENTS_RUNS_DIR         $CODEX_HOME/subagents/runs
  --keep-runs N           CODEX_SUBAGENTS_KEEP_RUNS        100 run records kept
  --spare-worktrees N     CODEX_SUBAGENTS_SPARE_WORKTREES  1 (0-8); spare worktrees made ahead of time per
                                                           repository used in the last hour; 0 disables
  --log-level LEVEL       CODEX_SUBAGENTS_LOG              warn (error, warn, info, debug);
                                                           DEBUG_MCP=1 means debug. Logs go to stderr only

Exit status: 0 ok; 1 failure (validate: errors found; doctor: unhealthy; --verify: mismatch);
2 not found (validate: no such dir; serve, list: a root or explicit agents dir is missing;
--verify: cannot verify); 64 usage error.
Docs: README.md, docs/INTEGRATION.md, docs/OPERATIONS.md, docs/VERIFY.md, SECURITY.md
`;

type Env = Readonly<Record<string, string | undefined>>;

/** Where a compiled or bundled program lives; undefined when running from source (its dir holds no agents). */
export function programDir(): string | undefined {
  const url = import.meta.url;
  if (url.includes("$bunfs") || url.includes("~BUN")) return path.dirname(process.execPath);
  if (url.endsWith(".ts")) return undefined;
  return path.dirname(fileURLToPath(url));
}


async function locate(options: { agentsDir?: string }, env: Env, cwd: string): Promise<AgentsLocation> {
  return discoverAgents({ flagDir: options.agentsDir, envDir: env.CODEX_SUBAGENTS_DIR, cwd, programDir: programDir() });
}

async function listCommand(argv: string[], io: CliIO, env: Env, cwd: string): Promise<number> {
  const { values, positionals } = collectFlags(argv, ["--agents-dir"], ["--json"]);
  if (positionals.length) throw new UsageError(`list takes no arguments, got "${positionals[0]}"; to check a directory use: codex-subagents validate DIR`);
  const location = await locate({ agentsDir: values.get("--agents-dir")?.[0] }, env, cwd);
  const registry = await loadRegistry(location, EMBEDDED_AGENTS, codexHomeOf(env));
  const report = listReport(location, registry.files);
  io.out(values.has("--json") ? JSON.stringify(report, null, 2) + "\n" : formatListReport(report, location.foundBy));
  return EXIT_OK;
}

async function validateCommand(argv: string[], io: CliIO, env: Env, cwd: string): Promise<number> {
  const { values, positionals } = collectFlags(argv, ["--agents-dir"], ["--json"]);
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
      io.err(`codex-subagents: no such directory "${positionals[0]}"\nhint: give the directory that holds your agent files, e.g. codex-subagents validate agents/\n`);
      return EXIT_NOT_FOUND;
    }
    await addEnvironmentWarnings(files, codexHomeOf(env));
  } else {
    const location = await locate({ agentsDir: values.get("--agents-dir")?.[0] }, env, cwd);
    const registry = await loadRegistry(location, EMBEDDED_AGENTS, codexHomeOf(env));
    dir = location.dir;
    files = registry.files;
  }
  const report = validateReport(dir, files);
  io.out(values.has("--json") ? JSON.stringify(report, null, 2) + "\n" : formatValidateReport(report));
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

async function serveCommand(argv: string[], io: CliIO, env: Env, cwd: string): Promise<number> {
  const options: ServerOptions = parseServerOptions(argv, env, cwd);
  const redact = createRedactor(secretValues(env, options.passEnv));
  const log: Logger = createLogger({ level: options.logLevel, redact, write: (line) => io.err(line) });
  const roots = await resolveRoots(options.roots, cwd);
  const location = await discoverAgents({ flagDir: options.agentsDir, envDir: options.agentsDirEnv, cwd, programDir: programDir() });
  const codexHome = codexHomeOf(env);
  const registry = () => loadRegistry(location, EMBEDDED_AGENTS, codexHome);
  // Read while the client initializes; requests other than initialize wait for it (transport.ts).
  const initial = registry().then((loaded) => {
    for (const file of loaded.files) {
      for (const issue of file.issues) log.warn(`${file.file}: ${issue.code}: ${issue.message}`);
    }
    return loaded;
  });
  // A plain spawn on Windows cannot run npm's codex.cmd shim (that needs cmd.exe, which we never use): start the
  // real executable behind it instead.
  let codexPath = options.codex;
  if (process.platform === "win32") {
    const found = await findCodex({ command: options.codex, source: "--codex", env, cwd });
    if (found.runnable) codexPath = found.runnable;
  }
  const shutdown = new AbortController();
  const limiter = new Limiter(options.maxConcurrency);
  // Issue 13. The integrator passes the server's private directory as baseDir; until then os.tmpdir().
  const spares = new SparePool({ perRepository: options.spareWorktrees, logger: log });
  const context: DelegateContext = {
    registry,
    roots,
    codexPath,
    maxTimeoutS: options.timeoutS,
    maxSandbox: options.maxSandbox,
    passEnv: options.passEnv,
    depth: Number.MAX_SAFE_INTEGER, // set below, before any request other than initialize is served
    maxDepth: options.maxDepth,
    parentEnv: env,
    limiter,
    redact,
    log,
    startRecord: createRunRecords({ runsDir: options.runsDir, keepRuns: options.keepRuns, redact, log }),
    spares,
  };
  const { server, ready: described } = createServer({ context, roots, agentsAtStart: initial.then((r) => r.agents()), codexHome, shutdownSignal: shutdown.signal });
  const ready = Promise.all([described, detectDepth(env).then((depth) => { context.depth = depth; })]);
  const transport = new StdioServerTransport();

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (why: string, exitCode = EXIT_OK) => {
      if (stopping) return;
      stopping = true;
      log.info(`shutting down: ${why}`);
      shutdown.abort();
      // Let running delegations end their codex process group and remove their workspaces.
      const deadline = Date.now() + 6000;
      while (limiter.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      // Spares and the removals of used worktrees: nothing of ours is left once we exit.
      await spares.close();
      await server.close().catch(() => {});
      resolve(exitCode);
    };
    process.stdin.once("end", () => void stop("stdin closed (the client went away)"));
    process.stdin.once("close", () => void stop("stdin closed"));
    process.stdout.on("error", () => void stop("stdout is closed"));
    process.once("SIGTERM", () => void stop("SIGTERM"));
    process.once("SIGINT", () => void stop("SIGINT"));
    transport.onclose = () => void stop("transport closed");
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
        throw new UsageError(`unknown command "${first}"; commands: serve, list, validate, doctor, runs, --verify, --sbom, --version, --help`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`codex-subagents: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof AgentsDirError || error instanceof PolicyError) {
      io.err(`codex-subagents: ${error.message}\n`);
      return EXIT_NOT_FOUND;
    }
    io.err(`codex-subagents: unexpected error: ${(error as Error).stack ?? error}\n`);
    return EXIT_FAILURE;
  }
}

const realIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

// Run only as the program itself, never when a test imports this module.
if (import.meta.main ?? (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))) {
  main(process.argv.slice(2), realIO).then((code) => process.exit(code));
}

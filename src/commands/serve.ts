/**
 * `codex-subagents [serve] [options]`: the stdio MCP server. Builds the delegation context (delegation/context.ts) and
 * one MCP server per protocol era the client opens with, serves them over the process's stdio (transport.ts), and
 * ends in one order whatever asks it to: runs settled, spares closed, connection closed. Exit 0 on a normal end, 1 when
 * the agents cannot be loaded, 2 when a root or an explicit agents directory is missing.
 */
import type { Readable, Writable } from "node:stream";
import type { Registry, AgentsLocation } from "../agents/registry.ts";
import type { Agent } from "../agents/schema.ts";
import type { CliIO } from "../cli-io.ts";
import { parseServerOptions, type ServerOptions } from "../config.ts";
import { buildDelegateContext, contextWarnings, type DelegateContext } from "../delegation/context.ts";
import { EXIT_FAILURE, EXIT_OK, isRefusal } from "../errors.ts";
import type { Limiter } from "../limiter.ts";
import type { Logger } from "../log.ts";
import { once } from "../once.ts";
import type { Root } from "../policy/roots.ts";
import { RunManager } from "../runs/manager.ts";
import { createServer } from "../server.ts";
import { serveOverStdio, type StdioServing } from "../transport.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** What serve needs of the real process; only cli.ts binds these, so it stays the one module that touches stdout. */
export interface ServeHost {
  /** The executable's own directory (cli.ts programDir), for agent discovery; undefined when run from source. */
  programDir?: string;
  /** The protocol's pipe: requests in, responses out. */
  stdin: Readable;
  stdout: Writable;
  /** Calls `stop` once on SIGTERM or SIGINT. */
  onStopSignal: (stop: (signal: string) => void) => void;
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

async function serveSetup(argv: string[], io: CliIO, env: Env, cwd: string, host: ServeHost): Promise<ServeSetup> {
  const options: ServerOptions = parseServerOptions(argv, env, cwd);
  // The same context `run` and the tests build (delegation/context.ts): programs, registry, lock, spares, ledger. It
  // only looks things up (no file is written, no program started), so a copy started just to answer a client's
  // discovery probe leaves nothing behind.
  const built = await buildDelegateContext(options, { env, cwd, writeLog: (line) => io.err(line), programDir: host.programDir }, "server");
  const { context } = built;
  const { log } = context;
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

export async function serveCommand(argv: string[], io: CliIO, env: Env, cwd: string, host: ServeHost): Promise<number> {
  const setup = await serveSetup(argv, io, env, cwd, host);
  const { options, log, roots, location, context, shutdown } = setup;
  const runs = new RunManager({ context, shutdownSignal: shutdown.signal, runsDir: options.keepRuns > 0 ? options.runsDir : null });
  let resolveAgents: (agents: readonly Agent[]) => void = () => {};
  const agentsAtStart = new Promise<readonly Agent[]>((resolve) => (resolveAgents = resolve));
  // One server per protocol era the client opens with (serveStdio asks for each); all share the runs and the context.
  const factory = () => createServer({ context, roots, agentsAtStart, codexHome: setup.codexHome, shutdownSignal: shutdown.signal, runs, maxWaitS: options.maxWaitS }).server;

  return await new Promise<number>((resolve) => {
    let connection: StdioServing | undefined;
    const stop = shutdownInOrder(setup, runs, () => connection, resolve);
    // A signal stops the server; the client going away (stdin's end, a closed stdout) is the transport's to report.
    host.onStopSignal((signal) => void stop(signal));
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
          if (isRefusal(error) && error.hint) log.error(`hint: ${error.hint}`);
          void stop("start-up failed", EXIT_FAILURE);
        },
      );
      return loaded;
    });
    connection = serveOverStdio(factory, {
      stdin: host.stdin,
      stdout: host.stdout,
      ready,
      onHangUp: (why) => void stop(why),
      onError: (error) => log.debug(`transport: ${error.message}`),
    });
  });
}

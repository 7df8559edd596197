#!/usr/bin/env bun
/**
 * argv → command (src/commands/, one file each); a refusal → its message on stderr and its exit code. The only module
 * that binds the process's stdio: CliIO for the commands, and the protocol's pipe for serve (never written here then).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type CliIO, diagnosticIO, printableIO } from "./cli-io.ts";
import { convertCommand } from "./commands/convert.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { listCommand } from "./commands/list.ts";
import { runCommand, type RunCommandDeps } from "./commands/run.ts";
import { runsCommand } from "./commands/runs.ts";
import { serveCommand, type ServeHost } from "./commands/serve.ts";
import { validateCommand } from "./commands/validate.ts";
import { sbomCommand, verifyCommand, versionCommand } from "./commands/verify.ts";
import { serverOptionsHelp } from "./config.ts";
import { cliErrorText, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, isRefusal, UsageError } from "./errors.ts";
import { PRODUCT_NAME, VERSION } from "./version.ts";

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
  const self = selfPath();
  return self === undefined ? undefined : path.dirname(self);
}

/** This program's own file: the compiled executable, or the bundle a runtime runs; undefined from source. */
export function selfPath(): string | undefined {
  const url = import.meta.url;
  if (url.includes("$bunfs") || url.includes("~BUN")) return process.execPath;
  if (url.endsWith(".ts")) return undefined;
  return fileURLToPath(url);
}

/** `serve --help` and `run --help` print the usage: their flags are the server options it lists. */
function asksForHelp(args: readonly string[]): boolean {
  return args.includes("--help") || args.includes("-h");
}

function printUsage(io: CliIO): number {
  io.out(USAGE);
  return EXIT_OK;
}

export async function main(argv: string[], terminal: CliIO, env: Env = process.env, cwd = process.cwd()): Promise<number> {
  const [first, ...rest] = argv;
  // Security: whatever a command writes on stderr quotes what it read (paths, agent names, codex's words), so it is
  // made printable here for all of them; `run` alone gets the terminal, for its progress line, and escapes the rest.
  const io = diagnosticIO(terminal);
  try {
    switch (first) {
      case undefined:
        return await serveCommand([], io, env, cwd, serveHost());
      case "serve":
        return asksForHelp(rest) ? printUsage(io) : await serveCommand(rest, io, env, cwd, serveHost());
      case "list":
        return await listCommand(rest, io, env, cwd, programDir());
      case "validate":
        return await validateCommand(rest, io, env, cwd, programDir());
      case "doctor":
        return await doctorCommand(rest, io, env, cwd, programDir(), selfPath());
      case "runs":
        return await runsCommand(rest, io, env, cwd);
      case "convert":
        return await convertCommand(rest, printableIO(terminal), env, cwd);
      case "run":
        return asksForHelp(rest) ? printUsage(io) : await runCommand(rest, terminal, env, cwd, runDeps());
      case "--help":
      case "-h":
      case "help":
        return printUsage(io);
      case "--version":
      case "-V":
        return await versionCommand(rest, io);
      case "--verify":
        return await verifyCommand(rest, io);
      case "--sbom":
        return await sbomCommand(rest, io);
      default:
        if (first.startsWith("--")) return await serveCommand(argv, io, env, cwd, serveHost());
        throw new UsageError(`unknown command "${first}"; commands: serve, list, validate, doctor, run, runs, convert, --verify, --sbom, --version, --help`);
    }
  } catch (error) {
    if (isRefusal(error)) {
      // A refusal quotes what it was given (a path, a name): it goes through the printable stderr.
      io.err(cliErrorText(error));
      return error.exitStatus;
    }
    io.err(`codex-subagents: unexpected error: ${(error as Error).stack ?? error}\n`);
    return EXIT_FAILURE;
  }
}

/** What serve needs of the real process: its stdio and the signals that stop it. */
const serveHost = (): ServeHost => ({
  programDir: programDir(),
  stdin: process.stdin,
  stdout: process.stdout,
  onStopSignal: (stop) => {
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  },
});

/** What `run` needs of the real process: stdin, whether stderr is a terminal, the interrupt signals. */
const runDeps = (): RunCommandDeps => ({
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

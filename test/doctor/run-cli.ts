// Run the codex-subagents command line the way users do: the built executable, or the source under bun when
// serverCommand decides so (CODEX_SUBAGENTS_TEST_SOURCE=1, or no build yet).
import { runToEnd, type Finished } from "../helpers/run-to-end.ts";
import { serverCommand } from "../helpers/server-command.ts";

export type CliRun = Finished;

/** The program's argv prefix (serverCommand appends "serve": drop it). */
export function cliPrefix(): string[] {
  const { command, args } = serverCommand([]);
  return [command, ...args.slice(0, args.length - 1)];
}

/** Asynchronous, so a mock model served by this test process keeps answering while the command runs. */
export function runCli(args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<CliRun> {
  const [command, ...prefix] = cliPrefix();
  return runToEnd(command!, [...prefix, ...args], { ...opts, hangGuardMs: 90_000 });
}

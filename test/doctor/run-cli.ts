// Run the codex-subagents command line the way users do: the built executable, or the source under bun when
// serverCommand decides so (CODEX_SUBAGENTS_TEST_SOURCE=1, or no build yet).
import { spawn } from "node:child_process";
import { serverCommand } from "../helpers/server-command.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The program's argv prefix (serverCommand appends "serve": drop it). */
export function cliPrefix(): string[] {
  const { command, args } = serverCommand([]);
  return [command, ...args.slice(0, args.length - 1)];
}

/** Asynchronous, so a mock model served by this test process keeps answering while the command runs. */
export function runCli(args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<CliRun> {
  const [command, ...prefix] = cliPrefix();
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...prefix, ...args], { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    // Only a guard against a hung run blocking the suite; not a speed assertion.
    const guard = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.once("error", (error) => {
      clearTimeout(guard);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Stage one of a child's life: starting it. The only file in codex-subagents that imports node:child_process, so a
 * reviewer who searches for process creation finds it here; which programs are started, and by whom, is decided by
 * the callers of runProcess (src/codex/run.ts for codex, src/workspace/git.ts for git).
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";

/** What the child reads: a text written to stdin which is then closed, or nothing (stdin is not even a pipe). */
export type ChildInput = { text: string } | "ignore";

export interface StartOptions {
  cwd?: string;
  /** The child's whole environment; nothing of ours is inherited unless the caller put it here. */
  env: Record<string, string>;
  input: ChildInput;
}

/** A child whose stdout and stderr are pipes to us. */
export type StartedChild = ChildProcess & { stdout: Readable; stderr: Readable };

/** On POSIX every child leads its own process group, so terminate.ts can end it together with what it started. */
export const OWN_PROCESS_GROUP = process.platform !== "win32";

/**
 * Start `program` with `args` as an array. A failure to start (not found, not executable) arrives later as the
 * child's "error" event; runProcess turns it into `spawnError`.
 */
export function startChild(program: string, args: readonly string[], options: StartOptions): StartedChild {
  const child = spawn(program, [...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.input === "ignore" ? "ignore" : "pipe", "pipe", "pipe"],
    // Security: no shell ever interprets the arguments (a task, a path or a persona with `;` or `$(...)` stays one
    // argument). An absolute program path is the caller's duty: a bare name is looked up on PATH here.
    shell: false,
    // Security: its own process group, so a timeout or cancel ends everything the child started (codex's commands,
    // git's parallel checkout workers), not just the child; see terminate.ts.
    detached: OWN_PROCESS_GROUP,
    windowsHide: true,
  });
  if (!child.stdout || !child.stderr) throw new Error(`internal error: no output pipes for "${program}"`);
  if (options.input !== "ignore" && child.stdin) {
    // A child that exits without reading stdin makes the write fail with EPIPE; that is its business, not a crash.
    child.stdin.on("error", () => {});
    // Written whole, then closed: codex exec reads the prompt until EOF, and nothing can wait for more input.
    child.stdin.end(options.input.text);
  }
  return child as StartedChild;
}

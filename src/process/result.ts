/** Stage four: what a child's run comes to. One shape for every program codex-subagents starts. */
import type { CapturedOutput } from "./output.ts";

/** The child could not be started at all. */
export interface SpawnFailure {
  /** The system's code (`ENOENT`, `EACCES`, ...), when there is one. */
  code: string | null;
  message: string;
}

/**
 * A run's outcome as data: a non-zero exit, a signal, a timeout or a failure to start is reported here, never thrown.
 */
export interface ProcessResult {
  /** The child's exit code; null when it died by a signal or never started. */
  exitCode: number | null;
  /** The signal that ended the child (`SIGTERM`, `SIGKILL`, ...), or null. */
  signal: NodeJS.Signals | null;
  /** The time limit was reached and the child's process group was ended. */
  timedOut: boolean;
  /** The abort signal fired (and the time limit had not been reached); the group was ended. */
  cancelled: boolean;
  /** stdout or stderr passed its cap: part of what the child wrote is not in `stdout`/`stderr`. */
  truncated: boolean;
  /** Set when the child could not be started; then no other field says anything about it. */
  spawnError: SpawnFailure | null;
  /** From start to the result, in whole milliseconds. */
  durationMs: number;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
}

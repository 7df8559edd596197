/**
 * The child-process layer: every program codex-subagents starts goes through runProcess, split by the stages of a
 * child's life: spawn.ts (start: argument array, no shell, own process group, stdin), terminate.ts (the one
 * process-group kill), output.ts (bounded stdout/stderr, lines) and result.ts (one result type). Callers decide what
 * runs: src/codex/run.ts starts codex, src/workspace/git.ts starts git, and nothing else starts anything.
 */
import { OutputCapture, type OutputOptions } from "./output.ts";
import type { ProcessResult, SpawnFailure } from "./result.ts";
import { OWN_PROCESS_GROUP, startChild, type ChildInput, type StartedChild } from "./spawn.ts";
import { groupTerminator, KILL_GRACE_MS, signalGroup } from "./terminate.ts";

/**
 * After the child exits, how long its pipes may stay open before the result is returned anyway: a grandchild that
 * left the process group (and so escaped the kill) could hold them open for ever.
 */
export const DRAIN_MS = 1000;

export interface RunOptions {
  /** Directory the child runs in; default ours. */
  cwd?: string;
  /** The child's whole environment (nothing is inherited). */
  env: Record<string, string>;
  /** A text written to stdin, which is then closed; or "ignore" (the default): stdin is not connected. */
  input?: ChildInput;
  /** End the child's group (SIGTERM, grace, SIGKILL) after this long; sets `timedOut`. Default: no limit. */
  timeoutMs?: number;
  /** Aborting ends the child's group the same way; sets `cancelled`. Already aborted: nothing is started. */
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL. Default KILL_GRACE_MS (2 s). */
  graceMs?: number;
  /** How stdout is kept (see OutputOptions). Default: read and dropped. */
  stdout?: OutputOptions;
  /** How stderr is kept. Default: read and dropped. */
  stderr?: OutputOptions;
}

interface Ending {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  spawnError: SpawnFailure | null;
}

/**
 * Resolves once the child failed to start, or exited and its pipes closed (or DRAIN_MS passed). `onExit` runs at the
 * exit itself, before the drain.
 */
function childEnded(child: StartedChild, onExit: () => void): Promise<Ending> {
  return new Promise<Ending>((resolve) => {
    let settled = false;
    const settle = (value: Ending) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      settle({ exitCode: null, signal: null, spawnError: { code: error.code ?? null, message: error.message } });
    });
    child.once("exit", (exitCode, signal) => {
      onExit();
      // Security: anything the child left running in its group (a sub-agent's background command, a daemon) goes
      // now, before the result is returned, so no call leaves a process behind.
      signalGroup(child.pid, "SIGKILL");
      const done = () => {
        clearTimeout(drained);
        // A process killed with SIGKILL closes its pipes a moment before it is gone: wait (boundedly) until the
        // group is empty, so "nothing left" holds when the caller looks.
        void groupGone(child.pid, GONE_WAIT_MS).then(() => settle({ exitCode, signal, spawnError: null }));
      };
      const drained = setTimeout(done, DRAIN_MS);
      child.once("close", done);
    });
  });
}

/** After the group was killed, how long the result waits for its last processes to disappear. */
const GONE_WAIT_MS = 1000;

/** Resolves once no process of the group `pid` leads exists (or `limitMs` passed). POSIX only; elsewhere at once. */
async function groupGone(pid: number | undefined, limitMs: number): Promise<void> {
  if (pid === undefined || !OWN_PROCESS_GROUP) return;
  const until = Date.now() + limitMs;
  for (;;) {
    try {
      process.kill(-pid, 0);
    } catch {
      return; // ESRCH: the group is empty
    }
    if (Date.now() >= until) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const EMPTY = { bytes: Buffer.alloc(0), truncated: false } as const;

/**
 * Run `program` (an absolute path: the caller resolved it) with `args` to its end, within the limits given. Never
 * throws for anything the child does; a failure to start is `spawnError`. When the result is returned, nothing of the
 * child's process group is left running.
 */
export async function runProcess(program: string, args: readonly string[], options: RunOptions): Promise<ProcessResult> {
  const started = performance.now();
  if (options.signal?.aborted) {
    return { exitCode: null, signal: null, timedOut: false, cancelled: true, truncated: false, spawnError: null, durationMs: 0, stdout: EMPTY, stderr: EMPTY };
  }

  const child = startChild(program, args, { cwd: options.cwd, env: options.env, input: options.input ?? "ignore" });
  const killer = groupTerminator(child.pid, options.graceMs ?? KILL_GRACE_MS);
  let exited = false;
  let timedOut = false;
  let cancelled = false;
  const stop = () => {
    if (!exited) killer.terminate();
  };

  const stdout = new OutputCapture(options.stdout ?? {}, stop);
  const stderr = new OutputCapture(options.stderr ?? {}, stop);
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));

  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    if (exited) return;
    timedOut = true;
    stop();
  }, options.timeoutMs);
  const onAbort = () => {
    if (exited) return;
    cancelled = true;
    stop();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const ending = await childEnded(child, () => {
    exited = true;
  });
  clearTimeout(timer);
  killer.dispose();
  options.signal?.removeEventListener("abort", onAbort);
  const out = stdout.end();
  const err = stderr.end();
  child.stdout.destroy();
  child.stderr.destroy();

  return {
    ...ending,
    timedOut,
    cancelled: cancelled && !timedOut,
    truncated: out.truncated || err.truncated,
    durationMs: Math.round(performance.now() - started),
    stdout: out,
    stderr: err,
  };
}

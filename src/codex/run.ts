/**
 * The one place that starts codex, through the child-process layer (src/process): no shell, task on stdin then
 * closed, events read line by line, bounded buffers, and a time limit and cancel that end codex and everything it
 * started. What is codex-specific stays here: the absolute-path rule, the event parsing and the error hints.
 */
import { isAbsolute } from "node:path";
import type { RefusalParts } from "../errors.ts";
import { runProcess } from "../process/index.ts";
import { tailText } from "../process/output.ts";
import { applyEventLine, newEventState, type EventState } from "./events.ts";


/** Longest stdout line kept; codex events carry command output, but a runaway line must not grow memory. */
export const MAX_EVENT_LINE_BYTES = 4 * 1024 * 1024;
/** How much of stderr is kept (the tail). */
export const STDERR_KEEP_BYTES = 64 * 1024;

export interface RunRequest {
  codexPath: string;
  args: readonly string[];
  env: Record<string, string>;
  /** Written to stdin, which is then closed: codex exec reads the prompt until EOF. */
  task: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** A one-line description of each step codex reports. */
  onProgress?: (message: string) => void;
  /** Applied to a step's line before it is summarised for onProgress. */
  redact?: (text: string) => string;
  /** Every stdout line (for the run record). */
  onEventLine?: (line: string) => void;
}

export interface RunOutcome {
  exitCode: number | null;
  exitSignal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Set when codex could not be started at all (not found, not executable). */
  spawnError: string | null;
  events: EventState;
  /** Last bytes of stderr, not yet redacted. */
  stderrTail: string;
  durationMs: number;
}

/**
 * Security: a bare name would be looked up on PATH at spawn, relative entries included; the server resolves codex to
 * an absolute path once at start-up, so a name left here means none was found. Never spawned, by any caller here.
 */
export function notFoundAtStart(codexPath: string): RefusalParts & { hint: string } {
  return {
    message: `codex "${codexPath}" was not found in an absolute PATH directory when the server started (relative PATH entries are ignored)`,
    hint: "install it (npm i -g @openai/codex) and restart the server, or pass --codex /full/path/to/codex",
  };
}

/**
 * Why codex at `codexPath` could not be started, and the fix. `cause` is the spawn error's code (its message when it
 * has none); `what`, when given, names what it was started for.
 */
export function notStarted(codexPath: string, cause: string, what?: string): RefusalParts & { hint: string } {
  if (cause === "ENOENT") return { message: `codex was not found at "${codexPath}"`, hint: "install it (npm i -g @openai/codex) or pass --codex PATH" };
  return { message: `codex could not be started${what === undefined ? "" : ` to ${what}`} (${cause})`, hint: `check --codex "${codexPath}"` };
}

/** A refusal's message and hint as the one sentence a failed run's notes and a probe's spawnError carry. */
function oneSentence({ message, hint }: RefusalParts & { hint: string }): string {
  return `${message}; ${hint}`;
}

export async function runCodex(req: RunRequest): Promise<RunOutcome> {
  const events = newEventState();
  if (req.signal?.aborted) {
    return { exitCode: null, exitSignal: null, timedOut: false, cancelled: true, spawnError: null, events, stderrTail: "", durationMs: 0 };
  }

  if (!isAbsolute(req.codexPath)) {
    return { exitCode: null, exitSignal: null, timedOut: false, cancelled: false, spawnError: oneSentence(notFoundAtStart(req.codexPath)), events, stderrTail: "", durationMs: 0 };
  }

  // Security: codex leads its own process group (src/process/spawn.ts), so the time limit and a cancel end the
  // commands it started too (SIGTERM, 2 s, SIGKILL: src/process/terminate.ts), and whatever is left in the group when
  // codex exits is killed before this returns.
  const result = await runProcess(req.codexPath, req.args, {
    env: req.env,
    input: { text: req.task },
    timeoutMs: req.timeoutMs,
    signal: req.signal,
    stdout: {
      maxLineBytes: MAX_EVENT_LINE_BYTES,
      onLine: (line) => {
        req.onEventLine?.(line);
        const message = applyEventLine(events, line);
        if (!message || !req.onProgress) return;
        // Security: the summary is cut to one short line, which can cut a secret in half where the redactor no
        // longer recognises it; so summarise the redacted line instead.
        req.onProgress(req.redact ? applyEventLine(newEventState(), req.redact(line)) ?? "working" : message);
      },
    },
    stderr: { maxBytes: STDERR_KEEP_BYTES, keep: "tail" },
  });

  const failure = result.spawnError;
  const spawnError = failure === null ? null : oneSentence(notStarted(req.codexPath, failure.code ?? failure.message));
  return {
    exitCode: result.exitCode,
    exitSignal: result.signal,
    timedOut: result.timedOut,
    cancelled: result.cancelled,
    spawnError,
    events,
    stderrTail: tailText(result.stderr.bytes),
    durationMs: result.durationMs,
  };
}

export interface ProbeOutcome {
  exitCode: number | null;
  /** First `maxOutputBytes` of stdout. */
  stdout: string;
  /** First `maxOutputBytes` of stderr. */
  stderr: string;
  timedOut: boolean;
  /** Set when codex could not be started at all. */
  spawnError: string | null;
}

/**
 * Run codex briefly (`--version`, `exec --help`, `features list` for doctor; `mcp list --json` before a run): no stdin, output capped, ended with
 * its process group at the time limit. Lives here so this file stays the only place that starts codex.
 */
export async function probeCodex(
  codexPath: string,
  args: readonly string[],
  opts: { timeoutMs: number; env: Record<string, string>; maxOutputBytes?: number; signal?: AbortSignal; cwd?: string },
): Promise<ProbeOutcome> {
  const limit = opts.maxOutputBytes ?? 256 * 1024;
  if (!isAbsolute(codexPath)) return { exitCode: null, stdout: "", stderr: "", timedOut: false, spawnError: oneSentence(notFoundAtStart(codexPath)) };
  const result = await runProcess(codexPath, args, {
    cwd: opts.cwd,
    env: opts.env,
    input: "ignore",
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    stdout: { maxBytes: limit },
    stderr: { maxBytes: limit },
  });
  return {
    exitCode: result.exitCode,
    stdout: result.stdout.bytes.toString("utf8"),
    stderr: result.stderr.bytes.toString("utf8"),
    timedOut: result.timedOut,
    spawnError: result.spawnError ? result.spawnError.code ?? result.spawnError.message : null,
  };
}

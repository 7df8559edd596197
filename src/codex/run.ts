/**
 * The one place that starts codex. Spawn without a shell, task on stdin then closed, events read line by line,
 * bounded buffers, time limit and cancel that end codex and everything it started.
 */
import { spawn } from "node:child_process";
import { isAbsolute } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { applyEventLine, newEventState, type EventState } from "./events.ts";

/** After SIGTERM, how long codex gets before SIGKILL. Keeps "ended within 5 s" with room to spare. */
export const KILL_GRACE_MS = 2000;
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

/** Keeps the last `limit` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    if (this.size > this.limit) {
      const only = this.chunks[0]!;
      this.chunks[0] = only.subarray(only.length - this.limit);
      this.size = this.limit;
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8").replace(/^\uFFFD+/, "");
  }
}

/** Splits a byte stream into lines, UTF-8 safe across chunk boundaries, dropping the excess of over-long lines. */
export class LineSplitter {
  private decoder = new StringDecoder("utf8");
  private partial = "";
  private overflow = false;
  constructor(private readonly maxLineBytes: number, private readonly onLine: (line: string) => void) {}
  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
      this.take(text.slice(start, nl));
      this.flushLine();
      start = nl + 1;
    }
    this.take(text.slice(start));
  }
  end(): void {
    this.take(this.decoder.end());
    if (this.partial.length > 0 || this.overflow) this.flushLine();
  }
  private take(piece: string): void {
    if (this.overflow || piece.length === 0) return;
    if (this.partial.length + piece.length > this.maxLineBytes) {
      this.overflow = true;
      this.partial = "";
      return;
    }
    this.partial += piece;
  }
  private flushLine(): void {
    if (!this.overflow) this.onLine(this.partial);
    this.partial = "";
    this.overflow = false;
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    // Security: a negative pid signals the whole process group codex leads (it was spawned detached), so the
    // commands it started die with it.
    if (process.platform === "win32") process.kill(pid, signal);
    else process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export async function runCodex(req: RunRequest): Promise<RunOutcome> {
  const started = performance.now();
  const events = newEventState();
  const stderr = new TailBuffer(STDERR_KEEP_BYTES);
  let timedOut = false;
  let cancelled = false;

  if (req.signal?.aborted) {
    return { exitCode: null, exitSignal: null, timedOut, cancelled: true, spawnError: null, events, stderrTail: "", durationMs: 0 };
  }

  if (!isAbsolute(req.codexPath)) {
    // Security: a bare name would be looked up on PATH at this spawn, relative entries included; the server resolves
    // codex to an absolute path once at start-up, so a name left here means none was found.
    const spawnError = `codex "${req.codexPath}" was not found in an absolute PATH directory when the server started (relative PATH entries are ignored); install it (npm i -g @openai/codex) and restart the server, or pass --codex /full/path/to/codex`;
    return { exitCode: null, exitSignal: null, timedOut, cancelled, spawnError, events, stderrTail: "", durationMs: 0 };
  }

  const child = spawn(req.codexPath, [...req.args], {
    env: req.env,
    stdio: ["pipe", "pipe", "pipe"],
    // Own process group, so a timeout or cancel can end everything codex started.
    detached: process.platform !== "win32",
    shell: false,
    windowsHide: true,
  });

  const lines = new LineSplitter(MAX_EVENT_LINE_BYTES, (line) => {
    req.onEventLine?.(line);
    const message = applyEventLine(events, line);
    if (!message || !req.onProgress) return;
    // Security: the summary is cut to one short line, which can cut a secret in half where the redactor no longer
    // recognises it; so summarise the redacted line instead.
    req.onProgress(req.redact ? applyEventLine(newEventState(), req.redact(line)) ?? "working" : message);
  });
  child.stdout.on("data", (chunk: Buffer) => lines.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  // A child that exits without reading stdin makes the write fail with EPIPE; that is its business, not a crash.
  child.stdin.on("error", () => {});

  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const terminate = () => {
    if (killTimer) return;
    killGroup(child.pid, "SIGTERM");
    killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
  };
  const timeout = setTimeout(() => {
    timedOut = true;
    terminate();
  }, req.timeoutMs);
  const onAbort = () => {
    cancelled = true;
    terminate();
  };
  req.signal?.addEventListener("abort", onAbort, { once: true });

  const result = await new Promise<{ code: number | null; signal: string | null; spawnError: string | null }>((resolve) => {
    let settled = false;
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      const hint = error.code === "ENOENT"
        ? `codex was not found at "${req.codexPath}"; install it (npm i -g @openai/codex) or pass --codex PATH`
        : `codex could not be started (${error.code ?? error.message}); check --codex "${req.codexPath}"`;
      resolve({ code: null, signal: null, spawnError: hint });
    });
    child.once("exit", (code, signal) => {
      // Anything codex left running in its group goes now, before the call returns.
      killGroup(child.pid, "SIGKILL");
      // Wait for the pipes to drain, but not for ever: a grandchild that escaped the group could hold them open.
      const drained = setTimeout(() => finish(), 1000);
      const finish = () => {
        clearTimeout(drained);
        if (settled) return;
        settled = true;
        resolve({ code, signal, spawnError: null });
      };
      child.once("close", finish);
    });
    child.stdin.end(req.task);
  });

  clearTimeout(timeout);
  if (killTimer) clearTimeout(killTimer);
  req.signal?.removeEventListener("abort", onAbort);
  lines.end();
  child.stdout.destroy();
  child.stderr.destroy();

  return {
    exitCode: result.code,
    exitSignal: result.signal,
    timedOut,
    cancelled: cancelled && !timedOut,
    spawnError: result.spawnError,
    events,
    stderrTail: stderr.text(),
    durationMs: Math.round(performance.now() - started),
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
 * Run codex briefly for `doctor` (`--version`, `exec --help`): no stdin, output capped, killed with its process group
 * at the time limit. Lives here so this file stays the only place that spawns codex.
 */
export async function probeCodex(
  codexPath: string,
  args: readonly string[],
  opts: { timeoutMs: number; env: Record<string, string>; maxOutputBytes?: number },
): Promise<ProbeOutcome> {
  const limit = opts.maxOutputBytes ?? 256 * 1024;
  const child = spawn(codexPath, [...args], {
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: process.platform !== "win32",
    shell: false,
    windowsHide: true,
  });
  const collect = (stream: NodeJS.ReadableStream) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      if (size >= limit) return;
      chunks.push(chunk.subarray(0, limit - size));
      size += Math.min(chunk.length, limit - size);
    });
    return () => Buffer.concat(chunks).toString("utf8");
  };
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, "SIGKILL");
  }, opts.timeoutMs);
  const result = await new Promise<{ code: number | null; spawnError: string | null }>((resolve) => {
    child.once("error", (error: NodeJS.ErrnoException) => resolve({ code: null, spawnError: `${error.code ?? error.message}` }));
    child.once("exit", (code) => {
      killGroup(child.pid, "SIGKILL");
      const drained = setTimeout(() => resolve({ code, spawnError: null }), 1000);
      child.once("close", () => {
        clearTimeout(drained);
        resolve({ code, spawnError: null });
      });
    });
  });
  clearTimeout(timer);
  child.stdout.destroy();
  child.stderr.destroy();
  return { exitCode: result.code, stdout: stdout(), stderr: stderr(), timedOut, spawnError: result.spawnError };
}

/**
 * Run records: one directory per delegation under --runs-dir, so a sub-agent is never a black box afterwards.
 *
 *   <runs-dir>/20261125T031500.123Z-review-a1b2c3/
 *     request.json   the call as the server understood it (redacted)
 *     server.json    the server that runs it ({ pid, host }, and on Linux its boot and start time: runs/owner.ts), so a
 *                    follower can tell a live run from an abandoned one, and no process prunes a live run's record
 *     events.jsonl   codex's --json event stream, line by line (each line redacted; capped)
 *     stderr.txt     the tail of codex's stderr (redacted)
 *     final.md       the sub-agent's final message
 *     patch.diff     the changes of a worktree run, when there are any
 *     thread.txt     the codex thread id of the run (empty when codex reported none); `resume` checks it (threads.ts)
 *     result.json    the result the caller got; written last, so a directory without it is a run that never finished
 *
 * Recording is best effort: nothing here may fail or slow down a delegation. Errors become one warning each.
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../log.ts";
import { redactDeep, redactEventLine, type Redactor } from "../policy/redact.ts";
import { appendRegularFile, readWholeRegularFile } from "../safe-fs.ts";
import { currentOwner, ownerGone } from "./owner.ts";

/** The run record of one delegation. */
export interface RunRecorder {
  /** The record's directory, returned to the caller as run_dir. */
  dir: string;
  /** One stdout line of codex (an event), not yet redacted. */
  event(line: string): void;
  /** Wait until every queued event is written; resolves to why events could not be written, or null. */
  drain?(): Promise<string | null>;
  finish(parts: { result: unknown; stderr: string; patch?: string; finalMessage: string }): Promise<void>;
}

/** `id`: the run id minted before the run was queued (runs/id.ts); the record's directory gets exactly that name. */
export type StartRecord = (meta: { agent: string; request: unknown; id?: string }) => Promise<RunRecorder | null>;

/** Default cap of events.jsonl; past it one marker line is written and the rest is dropped. */
export const MAX_EVENTS_BYTES = 16 * 1024 * 1024;

export const RUN_FILES = {
  request: "request.json",
  events: "events.jsonl",
  stderr: "stderr.txt",
  final: "final.md",
  patch: "patch.diff",
  thread: "thread.txt",
  result: "result.json",
  /**
   * The server running it (runs/owner.ts): `runs show --follow` stops when that server is gone (show.ts), and pruning
   * keeps the record while it may still run.
   */
  server: "server.json",
} as const;

/**
 * `<UTC time to the millisecond>-<agent>-<32 hex>`: sorts by start time as plain text, names the agent, and the random
 * suffix (128 bits, so the name is also the run id: runs/id.ts) keeps two runs apart. Records made before run ids
 * had 6 hex; they are still listed and pruned, but are never a run id. Only names of this shape are ever touched.
 */
export const RUN_DIR_PATTERN = /^(\d{8}T\d{6}\.\d{3}Z)-([a-z0-9][a-z0-9_-]{0,63})-([0-9a-f]{6}|[0-9a-f]{32})$/;

export function runDirName(agent: string, startedAt: Date, random: string): string {
  const iso = startedAt.toISOString(); // 2026-11-25T03:15:00.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z`;
  return `${stamp}-${agent}-${random}`;
}

/** The start time and agent a run directory's name records, or null for a name this program did not make. */
export function parseRunDirName(name: string): { startedAt: Date; agent: string } | null {
  const match = RUN_DIR_PATTERN.exec(name);
  if (!match) return null;
  const s = match[1]!;
  const startedAt = new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 19)}Z`);
  if (Number.isNaN(startedAt.getTime())) return null;
  return { startedAt, agent: match[2]! };
}

/** The names of the run records in `runsDir`, oldest first; a directory that does not exist yet simply holds none. */
export async function runDirNames(runsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names.filter((n) => RUN_DIR_PATTERN.test(n)).sort();
}

export interface RunRecordsOptions {
  runsDir: string;
  /** How many run directories to keep (the newest); 0 turns recording off. */
  keepRuns: number;
  /** The server's redactor: everything written passes through it. */
  redact: Redactor;
  log: Logger;
  maxEventsBytes?: number;
  now?: () => Date;
}

// Security: records hold tasks, code and command output; only the user may read them.
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

async function writePrivate(file: string, data: string): Promise<void> {
  // "wx": never follow or overwrite something already there.
  await writeFile(file, data, { mode: FILE_MODE, flag: "wx" });
}

/** A record without server.json this young may be one another process is making right now (mkdir, then server.json). */
const UNOWNED_RECORD_GRACE_MS = 10 * 60 * 1000;

/**
 * Whether a record may belong to a run that is still going: it has no result.json, and its server (server.json) is
 * not known to be gone (runs/owner.ts: alive, on another machine, or a pid that cannot be judged). A record with no
 * server.json yet counts as live while it is young (another process is making it); older, it was left by a version
 * that wrote none, or by a server killed while making it.
 */
async function mayBeRunning(dir: string, modifiedMs: number, nowMs: number): Promise<boolean> {
  const finished = await lstat(path.join(dir, RUN_FILES.result)).then(() => true, () => false);
  if (finished) return false;
  const server = await readRecordJson(path.join(dir, RUN_FILES.server), 4096);
  if (server === null) return nowMs - modifiedMs < UNOWNED_RECORD_GRACE_MS;
  return !(await ownerGone(server));
}

/**
 * Remove the oldest run directories beyond `keep`. Only directories whose names this program makes are touched, and
 * never one a delegation of this process is still writing.
 * Security (a live run's record): never one whose run may still be going in another process either (a `run
 * --keep-runs 1`, or another session's server): its events, result and thread would be lost, and get_run would no
 * longer know it. Such records are kept over the limit and pruned once their run has ended or their server is gone.
 */
export async function pruneRuns(runsDir: string, keep: number, active: ReadonlySet<string> = new Set(), nowMs = Date.now()): Promise<string[]> {
  const names = await runDirNames(runsDir);
  const excess = names.slice(0, Math.max(0, names.length - keep));
  const removed: string[] = [];
  for (const name of excess) {
    const dir = path.join(runsDir, name);
    if (active.has(dir)) continue;
    const info = await lstat(dir).catch(() => null);
    if (!info?.isDirectory()) continue;
    if (await mayBeRunning(dir, info.mtimeMs, nowMs)) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** Build the `startRecord` hook of the delegate context. */
export function createRunRecords(options: RunRecordsOptions): StartRecord {
  const maxEventsBytes = options.maxEventsBytes ?? MAX_EVENTS_BYTES;
  const now = options.now ?? (() => new Date());
  const active = new Set<string>();

  return async ({ agent, request, id }) => {
    if (options.keepRuns <= 0) return null;
    await mkdir(options.runsDir, { recursive: true, mode: DIR_MODE });
    let dir = "";
    for (let attempt = 0; ; attempt++) {
      // A given id is used as is (a clash is then an error: ids carry 128 random bits, so it means a bug).
      dir = path.join(options.runsDir, id !== undefined && RUN_DIR_PATTERN.test(id) ? id : runDirName(agent, now(), randomBytes(16).toString("hex")));
      try {
        await mkdir(dir, { mode: DIR_MODE });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 5) throw error;
      }
    }
    active.add(dir);
    try {
      // First: from here on, a pruning process can tell that this record's run is live.
      await writePrivate(path.join(dir, RUN_FILES.server), JSON.stringify(await currentOwner()) + "\n");
      await writePrivate(path.join(dir, RUN_FILES.request), JSON.stringify(redactDeep(request, options.redact), null, 2) + "\n");
      await writePrivate(path.join(dir, RUN_FILES.events), "");
      await pruneRuns(options.runsDir, options.keepRuns, active).catch((error: unknown) => {
        options.log.warn(`could not prune old run records in ${options.runsDir}: ${(error as Error).message}`);
      });
      return new FileRunRecorder(dir, options, maxEventsBytes, () => active.delete(dir));
    } catch (error) {
      active.delete(dir);
      throw error;
    }
  };
}

class FileRunRecorder implements RunRecorder {
  private written = 0;
  private truncated = false;
  private failed = false;
  private failure: string | null = null;
  /** Lines waiting to be appended; event() only queues, so codex's stream is never held up by the disk. */
  private pending: string[] = [];
  private flushing: Promise<void> | null = null;
  private readonly eventsFile: string;

  constructor(
    readonly dir: string,
    private readonly options: RunRecordsOptions,
    private readonly maxEventsBytes: number,
    private readonly release: () => void,
  ) {
    this.eventsFile = path.join(dir, RUN_FILES.events);
  }

  event(line: string): void {
    if (this.truncated || this.failed) return;
    const text = redactEventLine(line, this.options.redact) + "\n";
    const bytes = Buffer.byteLength(text, "utf8");
    if (this.written + bytes > this.maxEventsBytes) {
      this.truncated = true;
      const marker = { type: "codex-subagents.truncated", reason: `events.jsonl reached its cap of ${this.maxEventsBytes} bytes; later events were not recorded` };
      this.queue(JSON.stringify(marker) + "\n");
      return;
    }
    this.written += bytes;
    this.queue(text);
  }

  private queue(text: string): void {
    this.pending.push(text);
    // No file handle is kept open between writes: a record that is never finished leaks nothing.
    this.flushing ??= this.flush().finally(() => {
      this.flushing = null;
    });
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0 && !this.failed) {
      const chunk = this.pending.join("");
      this.pending = [];
      // Security: opened no-follow and non-blocking, and only if it is still a regular file: a symlink planted at
      // events.jsonl would have us append model-chosen text to a file of the user's, a FIFO would hang this run.
      const problem = await appendRegularFile(this.eventsFile, chunk);
      if (problem) {
        this.failed = true;
        this.failure = problem;
        this.options.log.warn(`run record ${this.dir}: could not write events: ${problem}`);
      }
    }
    this.pending = [];
  }

  async drain(): Promise<string | null> {
    while (this.flushing) await this.flushing;
    return this.failure;
  }

  async finish(parts: { result: unknown; stderr: string; patch?: string; finalMessage: string }): Promise<void> {
    const { redact } = this.options;
    try {
      while (this.flushing) await this.flushing;
      await writePrivate(path.join(this.dir, RUN_FILES.stderr), redact(parts.stderr));
      await writePrivate(path.join(this.dir, RUN_FILES.final), redact(parts.finalMessage) + (parts.finalMessage.endsWith("\n") || parts.finalMessage === "" ? "" : "\n"));
      if (parts.patch) await writePrivate(path.join(this.dir, RUN_FILES.patch), redact(parts.patch));
      const threadId = (parts.result as { thread_id?: unknown } | null)?.thread_id;
      await writePrivate(path.join(this.dir, RUN_FILES.thread), typeof threadId === "string" ? `${threadId}\n` : "");
      // Written under a temporary name and renamed: a reader sees either no result or the whole of it.
      const partial = path.join(this.dir, `.${RUN_FILES.result}.partial`);
      await writePrivate(partial, JSON.stringify(redactDeep(parts.result, redact), null, 2) + "\n");
      await rename(partial, path.join(this.dir, RUN_FILES.result));
    } finally {
      this.release();
    }
  }
}

/**
 * The server a record names in server.json, when it is known to be gone (runs/owner.ts: it ran on this host and no
 * process has its pid, or the one that has it started later). Null when it may still run (alive, another host, no or
 * unreadable server.json).
 */
export async function abandonedBy(dir: string): Promise<{ pid: number } | null> {
  const server = await readRecordJson(path.join(dir, RUN_FILES.server), 4096);
  if (!(await ownerGone(server))) return null;
  return { pid: server!.pid as number };
}

/** A record file larger than this is not loaded (result.json: a final message of at most 1 MiB, the patch is the rest). */
export const MAX_RECORD_JSON_BYTES = 64 * 1024 * 1024;

/**
 * A JSON object from a record file, or null: missing, larger than `maxBytes`, not JSON or not an object.
 * Security: read no-follow and non-blocking, regular files only (safe-fs), so a link or FIFO planted in a runs
 * directory is neither followed nor waited on.
 */
export async function readRecordJson(file: string, maxBytes = MAX_RECORD_JSON_BYTES): Promise<Record<string, unknown> | null> {
  const bytes = await readWholeRegularFile(file, maxBytes);
  if (bytes === null) return null;
  try {
    const parsed: unknown = JSON.parse(bytes.toString("utf8"));
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

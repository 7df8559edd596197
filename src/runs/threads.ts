/**
 * Which codex threads this server started, so `resume` continues only those.
 *
 * Security: `codex exec resume ID` continues any thread in $CODEX_HOME/sessions: the user's own interactive sessions,
 * another client's sub-agents, a thread started under a looser sandbox or with other files in its history. A caller
 * (or a sub-agent that learned an id) must not pick those up through this server. A thread counts as ours when this
 * process started it, or when a run record in --runs-dir names it: each finished record holds `thread.txt` (written
 * by record.ts), so the check reads at most --keep-runs files of a few bytes, newest first, each once per process. Records pruned by
 * --keep-runs, or never written (--keep-runs 0), no longer vouch for a thread after a restart.
 */
import path from "node:path";
import type { RefusalParts } from "../errors.ts";
import { readWholeRegularFile } from "../safe-fs.ts";
import { RUN_FILES, runDirNames } from "./record.ts";

export interface ThreadRegistry {
  /** Whether `threadId` is a thread this server started (this process, or a run record that is still kept). */
  known(threadId: string): Promise<boolean>;
  /** Called with the thread id of every run this process started. */
  remember(threadId: string): void;
  /** The refusal for a thread that is not known: what happened and what to do. */
  refusal(threadId: string): RefusalParts;
}

/** A thread id is 36 characters; anything longer in thread.txt is not one of ours. */
const MAX_THREAD_FILE_BYTES = 128;
/** Records written before thread.txt existed: their result.json is read, up to this size. */
const MAX_LEGACY_RESULT_BYTES = 4 * 1024 * 1024;

/** A small file a sub-agent might have replaced, as text, or null (see readWholeRegularFile). */
async function readSmallRegularFile(file: string, limit: number): Promise<string | null> {
  return (await readWholeRegularFile(file, limit))?.toString("utf8") ?? null;
}

/** The thread id a run directory vouches for, or null. */
export async function recordedThread(dir: string): Promise<string | null> {
  const text = await readSmallRegularFile(path.join(dir, RUN_FILES.thread), MAX_THREAD_FILE_BYTES);
  if (text !== null) return text.trim().toLowerCase();
  const result = await readSmallRegularFile(path.join(dir, RUN_FILES.result), MAX_LEGACY_RESULT_BYTES);
  if (result === null) return null;
  try {
    const parsed = JSON.parse(result) as { thread_id?: unknown };
    return typeof parsed.thread_id === "string" ? parsed.thread_id.toLowerCase() : null;
  } catch {
    return null;
  }
}

export function createThreadRegistry(options: { runsDir: string; keepRuns: number }): ThreadRegistry {
  const started = new Set<string>();
  // A finished record's thread never changes: each is read once, later misses cost one readdir.
  const recorded = new Map<string, string>();
  const threadOf = async (name: string): Promise<string | null> => {
    const cached = recorded.get(name);
    if (cached !== undefined) return cached;
    const thread = await recordedThread(path.join(options.runsDir, name));
    if (thread !== null) recorded.set(name, thread);
    return thread;
  };
  return {
    remember(threadId) {
      started.add(threadId.toLowerCase());
    },
    async known(threadId) {
      const wanted = threadId.toLowerCase();
      if (started.has(wanted)) return true;
      if (options.keepRuns <= 0) return false;
      const names = await runDirNames(options.runsDir).catch((): string[] => []);
      // Only the records --keep-runs keeps count, also before the next run prunes the rest: the cost stays bounded.
      for (const name of names.reverse().slice(0, options.keepRuns)) {
        if ((await threadOf(name)) === wanted) {
          started.add(wanted);
          return true;
        }
      }
      return false;
    },
    refusal(threadId) {
      const where = options.keepRuns > 0
        ? `no run record in ${options.runsDir} names it (only the newest ${options.keepRuns} records are kept, --keep-runs)`
        : "run records are off (--keep-runs 0), so only threads started since this server started can be resumed";
      return {
        message: `resume "${threadId}" is not a thread this server started: ${where}`,
        hint: "resume only a thread_id from an earlier delegate result (codex-subagents runs --json lists them with their thread_id), or leave out resume to start a new conversation",
      };
    },
  };
}

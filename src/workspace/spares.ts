// Spare worktrees: `isolation: "worktree"` ready at once. `git worktree add` costs seconds on a large repository
// (checking out every file) and removing one costs as much again; both used to sit on the call's critical path.
//
// - One spare per repository (`--spare-worktrees N`), made ahead of time with the same `git worktree add` as a cold
//   set-up (worktree.ts `addDetachedWorktree`) and never touched by a sub-agent. A delegation takes it and brings it
//   to the current HEAD with `git checkout --detach`, which rewrites only the files that differ; a new spare is then
//   made in the background. Only repositories used in the last hour keep a spare, at most MAX_REPOSITORIES of them.
// - A used worktree is never reused: its removal is handed to `deferRemoval` and runs after the result was returned.
// - `close()` (server exit) stops making spares, removes every spare and waits for every pending removal.
//
// Security: a spare is a worktree of the user's repository with hooks, fsmonitor and filters off exactly as a cold
// one (every git command here goes through runGit in git.ts). What a sub-agent could do to a spare is what it could do
// to the directory the spares live in: `baseDir` must be a directory no sandbox can write (the server's private
// directory), or a `workspace-write` sub-agent could plant files in the next one's checkout. The checkout is run with
// `-f`, so a tracked file changed behind our back is put back; untracked files are not looked for.
import { mkdtemp, realpath } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGit } from "./git.ts";
import type { WorkspaceLogger } from "./types.ts";
import { addDetachedWorktree, removeWorktree, worktreeAdminDir, type RepositoryInfo } from "./worktree.ts";

/** A repository not used for this long loses its spares. */
export const DEFAULT_SPARE_IDLE_MS = 60 * 60 * 1000;
/** Most repositories that keep spares at once; the one used longest ago gives its spares up first. */
export const MAX_REPOSITORIES = 8;
/** How long a used worktree waits before its removal starts (see `deferRemoval`). */
const REMOVAL_DELAY_MS = 250;
/** How long after `git worktree add` a spare's index is written again (see `make`). */
const RACY_INDEX_WAIT_MS = 1100;
/** The name every spare's directory starts with (in `baseDir`), so tests and `doctor` can tell them apart. */
export const SPARE_DIR_PREFIX = "codex-subagents-spare-";

export interface SparePoolOptions {
  /** Spares per repository; 0 disables them (removals are still deferred). */
  perRepository: number;
  /** Where spares are made. Default os.tmpdir(); the server passes its private directory. */
  baseDir?: string;
  idleMs?: number;
  maxRepositories?: number;
  logger: WorkspaceLogger;
}

/** A spare handed to a delegation: its directories (as a cold set-up lays them out) and a note for the result. */
export interface TakenSpare {
  base: string;
  worktree: string;
  note: string;
}

interface Spare {
  base: string;
  worktree: string;
  commit: string;
  madeAt: number;
}

interface RepositorySpares {
  repository: RepositoryInfo;
  filterConfig: string[];
  ready: Spare[];
  making: number;
  /** Takes waiting for a spare that is being made (it is sooner than a `git worktree add` of their own). */
  waiters: Array<(spare: Spare | undefined) => void>;
  lastUsed: number;
  idleTimer?: ReturnType<typeof setTimeout>;
}

export class SparePool {
  readonly perRepository: number;
  readonly baseDir: string;
  private readonly idleMs: number;
  private readonly maxRepositories: number;
  private readonly logger: WorkspaceLogger;
  private readonly repositories = new Map<string, RepositorySpares>();
  private readonly pending = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private closing: Promise<void> | undefined;

  constructor(options: SparePoolOptions) {
    this.perRepository = Math.max(0, Math.floor(options.perRepository));
    this.baseDir = options.baseDir ?? tmpdir();
    this.idleMs = options.idleMs ?? DEFAULT_SPARE_IDLE_MS;
    this.maxRepositories = options.maxRepositories ?? MAX_REPOSITORIES;
    this.logger = options.logger;
  }

  /** How many spares are ready now (all repositories). */
  get readyCount(): number {
    let count = 0;
    for (const state of this.repositories.values()) count += state.ready.length;
    return count;
  }

  /**
   * A spare of `repository` checked out at its current HEAD, or undefined (then the caller makes a worktree itself).
   * Waits for a spare being made rather than competing with it. A spare that cannot be brought to HEAD is dropped.
   */
  async take(repository: RepositoryInfo, filterConfig: string[], signal?: AbortSignal): Promise<TakenSpare | undefined> {
    if (this.closing || this.perRepository === 0) return undefined;
    const state = this.repositories.get(repository.commonDir);
    if (!state) return undefined;
    this.touch(state);
    let spare = state.ready.shift();
    if (!spare && state.making > 0) {
      spare = await new Promise<Spare | undefined>((resolve) => {
        const onAbort = () => {
          state.waiters.splice(state.waiters.indexOf(handOver), 1);
          resolve(undefined);
        };
        const handOver = (given: Spare | undefined) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(given);
        };
        state.waiters.push(handOver);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    if (!spare) return undefined;
    const started = performance.now();
    const moved = await runGit(["checkout", "-q", "-f", "--detach", repository.headCommit, "--"], {
      cwd: spare.worktree,
      signal,
      timeoutMs: 600_000,
      config: filterConfig,
    }).catch((error: Error) => ({ exitCode: -1, stderr: error.message }));
    if (moved.exitCode !== 0) {
      this.logger.debug(`workspace: spare "${spare.worktree}" could not be brought to ${repository.headCommit}: ${moved.stderr.trim()}`);
      this.deferRemoval(() => removeWorktree(repository, spare.base, spare.worktree, this.logger, undefined));
      signal?.throwIfAborted();
      return undefined;
    }
    const ms = Math.round(performance.now() - started);
    const from = spare.commit === repository.headCommit ? "already at HEAD" : `moved from ${spare.commit.slice(0, 12)} by checking out only what changed`;
    return {
      base: spare.base,
      worktree: spare.worktree,
      note: `set-up came from a spare worktree made ahead of time (${from}, ${ms} ms) instead of a new \`git worktree add\`.`,
    };
  }

  /** After a set-up on `repository`: make spares in the background until it has `perRepository` of them. */
  replenish(repository: RepositoryInfo, filterConfig: string[]): void {
    if (this.closing || this.perRepository === 0) return;
    let state = this.repositories.get(repository.commonDir);
    if (!state) {
      state = { repository, filterConfig, ready: [], making: 0, waiters: [], lastUsed: Date.now() };
      this.repositories.set(repository.commonDir, state);
      this.evictBeyondLimit();
    }
    // The newest HEAD and filter set: a spare made now is closest to what the next call will want.
    state.repository = repository;
    state.filterConfig = filterConfig;
    this.touch(state);
    while (state.ready.length + state.making < this.perRepository) this.make(state);
  }

  /**
   * Run a removal after the result has gone out; `close()` waits for it. Never throws. It starts a moment later
   * (REMOVAL_DELAY_MS), so deleting thousands of files does not compete with sending the result.
   */
  deferRemoval(removal: () => Promise<void>): void {
    this.inBackground(async () => {
      if (!this.closing) await new Promise((resolve) => setTimeout(resolve, REMOVAL_DELAY_MS));
      await removal();
    });
  }

  /** Background work `close()` waits for: removals and spares being made. */
  private inBackground(work: () => Promise<void>): void {
    const task: Promise<void> = Promise.resolve()
      .then(work)
      .catch((error: Error) => this.logger.warn(`workspace: background work failed: ${error.message}`))
      .finally(() => this.pending.delete(task));
    this.pending.add(task);
  }

  /** Resolves once no background work (removal, spare being made) is left; for benches and tests. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Server exit: make no more, remove every spare, wait for every removal (also ones added meanwhile). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort();
      for (const state of this.repositories.values()) this.dropRepository(state);
      await this.settled();
    })();
    return this.closing;
  }

  private make(state: RepositorySpares): void {
    state.making += 1;
    const { repository, filterConfig } = state;
    this.inBackground(async () => {
      let spare: Spare | undefined;
      let base: string | undefined;
      try {
        base = await realpath(await mkdtemp(join(this.baseDir, SPARE_DIR_PREFIX)));
        const worktree = join(base, "wt");
        await addDetachedWorktree(repository, worktree, filterConfig, { signal: this.stop.signal });
        if (!(await worktreeAdminDir(worktree))) throw new Error("git made it without a .git file");
        // `worktree add` writes the index within the same second as the files, so git must treat every entry as
        // "racily clean" and re-read each file on the next checkout and on patch collection (100 ms for 2 000 files
        // here, seconds for 20 000). Written again a little later, the index is trusted: that checkout takes ~15 ms.
        await new Promise((resolve) => setTimeout(resolve, RACY_INDEX_WAIT_MS));
        this.stop.signal.throwIfAborted();
        await runGit(["update-index", "-q", "--ignore-submodules", "--refresh", "--force-write-index"], {
          cwd: worktree,
          signal: this.stop.signal,
          timeoutMs: 600_000,
          config: filterConfig,
        });
        spare = { base, worktree, commit: repository.headCommit, madeAt: Date.now() };
      } catch (error) {
        if (!this.stop.signal.aborted) this.logger.debug(`workspace: could not make a spare worktree of "${repository.topLevel}": ${(error as Error).message}`);
        if (base) await removeWorktree(repository, base, join(base, "wt"), this.logger, undefined);
      } finally {
        state.making -= 1;
      }
      if (!spare) {
        if (state.making === 0) for (const waiter of state.waiters.splice(0)) waiter(undefined);
        return;
      }
      const waiter = state.waiters.shift();
      if (waiter) waiter(spare);
      else if (this.closing || this.repositories.get(repository.commonDir) !== state) {
        await removeWorktree(repository, spare.base, spare.worktree, this.logger, undefined);
      } else state.ready.push(spare);
    });
  }

  private touch(state: RepositorySpares): void {
    state.lastUsed = Date.now();
    clearTimeout(state.idleTimer);
    state.idleTimer = setTimeout(() => this.dropRepository(state), this.idleMs);
    state.idleTimer.unref?.();
  }

  private evictBeyondLimit(): void {
    const byAge = [...this.repositories.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    while (byAge.length > this.maxRepositories) this.dropRepository(byAge.shift()!);
  }

  /** Forget a repository and remove its ready spares (ones still being made are removed when they are done). */
  private dropRepository(state: RepositorySpares): void {
    clearTimeout(state.idleTimer);
    if (this.repositories.get(state.repository.commonDir) === state) this.repositories.delete(state.repository.commonDir);
    for (const spare of state.ready.splice(0)) {
      this.deferRemoval(() => removeWorktree(state.repository, spare.base, spare.worktree, this.logger, undefined));
    }
    for (const waiter of state.waiters.splice(0)) waiter(undefined);
  }
}

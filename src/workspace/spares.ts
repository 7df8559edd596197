// Spare worktrees: `isolation: "worktree"` ready at once. A checkout of every file costs seconds on a large repository
// and removing the worktree costs as much again; both used to sit on the call's critical path.
//
// - One spare per repository (`--spare-worktrees N`), made ahead of time exactly as a cold set-up makes its worktree
//   (checkout.ts `checkOutWorktree`: the `.git` file written by us, the checkout by git against a private git directory)
//   and never touched by a sub-agent. A delegation takes it and brings it to the current HEAD with the same hermetic
//   `read-tree --reset -u` (`moveWorktreeToHead`), which rewrites only the files that differ; a new spare is then
//   made in the background. Only repositories used in the last hour keep a spare, at most MAX_REPOSITORIES of them.
// - A used worktree is never reused: its removal is handed to `deferRemoval` and runs after the result was returned.
// - `close()` (server exit) stops making spares, removes every spare and waits for every pending removal.
//
// Security: a spare obeys the same hermetic git rules as a cold worktree (SECURITY.md "Git that reads only what we
// trust"): no `git worktree add`/`remove` runs (so no hook fires), and every git command in it runs against its
// private git directory with no configuration of the repository's, the user's or the system's, so no filter or
// driver an attribute names exists, whatever HEAD's `.gitattributes` says. What a sub-agent could do to a spare is
// what it could do to the directory the spares live in: `baseDir` is the server's private work directory
// (private-dir.ts, made 0700 and checked before each spare), which no sandbox can write, or a `workspace-write`
// sub-agent could plant files in the next one's checkout. A tracked file changed behind our back is put back by
// the checkout; untracked files are not looked for. Removal is removal.ts `removeWorktree`, no git command.
import { mkdtemp, realpath } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePrivateDir } from "./private-dir.ts";
import type { WorkspaceLogger } from "./types.ts";
import { checkOutWorktree, moveWorktreeToHead, refreshWorktreeIndex, type WorktreePlaces } from "./checkout.ts";
import type { WorktreeRecipe } from "./recipe.ts";
import { removeWorktree } from "./removal.ts";
import type { Spares, TakenSpare } from "./spares-interface.ts";

/** A repository not used for this long loses its spares. */
export const DEFAULT_SPARE_IDLE_MS = 60 * 60 * 1000;
/** Most repositories that keep spares at once; the one used longest ago gives its spares up first. */
export const MAX_REPOSITORIES = 8;
/** How long a used worktree waits before its removal starts (see `deferRemoval`). */
const REMOVAL_DELAY_MS = 250;
/** How long after its checkout a spare's index is written again (see `make`). */
const RACY_INDEX_WAIT_MS = 1100;
/** The name every spare's directory starts with (in `baseDir`), so tests and `doctor` can tell them apart. */
export const SPARE_DIR_PREFIX = "codex-subagents-spare-";

export interface SparePoolOptions {
  /** Spares per repository; 0 disables them (removals are still deferred). */
  perRepository: number;
  /** Where spares are made. Default os.tmpdir() (tests, benches); the server passes its private work directory. */
  baseDir?: string;
  idleMs?: number;
  maxRepositories?: number;
  logger: WorkspaceLogger;
}

interface Spare {
  places: Required<WorktreePlaces>;
  commit: string;
  /** The carried config it was made with (its private config): a spare made with other settings is not used. */
  settingsKey: string;
  madeAt: number;
}

interface RepositorySpares {
  recipe: WorktreeRecipe;
  ready: Spare[];
  making: number;
  /** Takes waiting for a spare that is being made (it is sooner than a checkout of their own). */
  waiters: Array<(spare: Spare | undefined) => void>;
  lastUsed: number;
  idleTimer?: ReturnType<typeof setTimeout>;
}

export class SparePool implements Spares {
  readonly perRepository: number;
  readonly baseDir: string;
  private readonly checkBaseDir: boolean;
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
    this.checkBaseDir = options.baseDir !== undefined;
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
  async take(recipe: WorktreeRecipe, signal?: AbortSignal): Promise<TakenSpare | undefined> {
    const { repository } = recipe;
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
    const taken = spare;
    if (taken.settingsKey !== settingsKey(recipe)) {
      this.deferRemoval(() => removeWorktree(taken.places.base, taken.places.worktree, this.logger));
      return undefined;
    }
    const started = performance.now();
    try {
      await moveWorktreeToHead(recipe, taken.places, signal);
    } catch (error) {
      this.logger.debug(`workspace: spare "${taken.places.worktree}" could not be brought to ${repository.headCommit}: ${(error as Error).message}`);
      this.deferRemoval(() => removeWorktree(taken.places.base, taken.places.worktree, this.logger));
      signal?.throwIfAborted();
      return undefined;
    }
    const ms = Math.round(performance.now() - started);
    const from = taken.commit === repository.headCommit ? "already at HEAD" : `moved from ${taken.commit.slice(0, 12)} by checking out only what changed`;
    return {
      places: taken.places,
      note: `set-up came from a spare worktree made ahead of time (${from}, ${ms} ms) instead of a new checkout.`,
    };
  }

  /** After a set-up on `repository`: make spares in the background until it has `perRepository` of them. */
  replenish(recipe: WorktreeRecipe): void {
    if (this.closing || this.perRepository === 0) return;
    const { repository } = recipe;
    let state = this.repositories.get(repository.commonDir);
    if (!state) {
      state = { recipe, ready: [], making: 0, waiters: [], lastUsed: Date.now() };
      this.repositories.set(repository.commonDir, state);
      this.evictBeyondLimit();
    }
    // The newest HEAD and settings: a spare made now is closest to what the next call will want.
    state.recipe = recipe;
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
    const { recipe } = state;
    const { repository } = recipe;
    this.inBackground(async () => {
      let spare: Spare | undefined;
      let places: WorktreePlaces | undefined;
      try {
        // Security: checked (0700, ours, not a link) before every spare, as delegate() checks it before every run.
        const baseDir = this.checkBaseDir ? await ensurePrivateDir(this.baseDir) : this.baseDir;
        const base = await realpath(await mkdtemp(join(baseDir, SPARE_DIR_PREFIX)));
        places = { base, worktree: join(base, "wt") };
        await checkOutWorktree(recipe, places, { signal: this.stop.signal });
        const made = places as Required<WorktreePlaces>;
        // The checkout writes the index within the same second as the files, so git must treat every entry as
        // "racily clean" and re-read each file on the next checkout and on patch collection (100 ms for 2 000 files
        // here, seconds for 20 000). Written again a little later, the index is trusted: that checkout takes ~15 ms.
        await new Promise((resolve) => setTimeout(resolve, RACY_INDEX_WAIT_MS));
        this.stop.signal.throwIfAborted();
        await refreshWorktreeIndex(recipe, made, this.stop.signal);
        spare = { places: made, commit: repository.headCommit, settingsKey: settingsKey(recipe), madeAt: Date.now() };
      } catch (error) {
        if (!this.stop.signal.aborted) this.logger.debug(`workspace: could not make a spare worktree of "${repository.topLevel}": ${(error as Error).message}`);
        if (places) await removeWorktree(places.base, places.worktree, this.logger);
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
        await removeWorktree(spare.places.base, spare.places.worktree, this.logger);
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
    const { repository } = state.recipe;
    if (this.repositories.get(repository.commonDir) === state) this.repositories.delete(repository.commonDir);
    for (const spare of state.ready.splice(0)) {
      this.deferRemoval(() => removeWorktree(spare.places.base, spare.places.worktree, this.logger));
    }
    for (const waiter of state.waiters.splice(0)) waiter(undefined);
  }
}

/** The settings that shape a spare's private config (recipe.ts RepositorySettings.carried), as one string. */
function settingsKey(recipe: WorktreeRecipe): string {
  return JSON.stringify([...recipe.settings.carried].sort());
}

// Worktree stage 2, the checkout: HEAD checked out into a fresh directory with a private git directory of its own
// beside it, by one hermetic `read-tree --reset -u`. A spare (spares.ts) is checked out the same way ahead of time,
// and brought to a later HEAD by the same command, which rewrites only the files that differ.
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { type GitOptions, type GitVersion, isolatedConfigEnv } from "./git.ts";
import { createPrivateGitDir, readSmallText } from "./private-git.ts";
import type { RepositoryInfo, RepositorySettings, WorktreeRecipe } from "./recipe.ts";

/** A worktree's places: the directory holding it, the checkout, and our private git directory beside it. */
export interface WorktreePlaces {
  base: string;
  worktree: string;
  gitDir?: string;
}

/** A private git directory under `parent` at the repository's HEAD, borrowing its objects and its `info/exclude`. */
export async function privateGitDirAtHead(parent: string, repository: RepositoryInfo, settings: RepositorySettings): Promise<string> {
  return createPrivateGitDir(parent, {
    head: repository.headCommit,
    alternateObjects: resolve(repository.commonDir, "objects"),
    objectFormat: repository.objectFormat,
    carried: settings.carried,
    exclude: await readSmallText(join(repository.commonDir, "info", "exclude")),
  });
}

/**
 * Check HEAD out into `places.worktree` with a private git directory of its own beside it; fills in `places.gitDir`
 * once it exists (so a cleanup after a failure finds it).
 * Shared by a cold set-up and the spare pool (spares.ts), so both make worktrees the same way.
 */
export async function checkOutWorktree(
  recipe: WorktreeRecipe,
  places: WorktreePlaces,
  options: { signal?: AbortSignal; checkoutWorkers?: number },
): Promise<void> {
  const { git, repository, settings, version } = recipe;
  const { signal } = options;
  signal?.throwIfAborted();
  await mkdir(places.worktree);
  // Security: the worktree's own git directory is a private one too, beside the worktree in the private run
  // directory (which no sandbox can write), and nothing is registered in the repository's `.git/worktrees`: a
  // directory there (or a `worktrees` symlink) may lie outside the roots, or be writable by a sub-agent whose cwd
  // holds a nested repository, and git would read its config. Codex runs `git status` in its working directory
  // itself, outside its sandbox; pointed at the repository's git directory, that git would run the repository's
  // filter drivers on every racily-clean file. Pointed here, it reads our config: no driver exists.
  const gitDir = await privateGitDirAtHead(places.base, repository, settings);
  places.gitDir = gitDir;
  await writeFile(join(places.worktree, ".git"), `gitdir: ${gitDir}\n`);
  await git.orThrow(["read-tree", "--reset", "-u", repository.headCommit], {
    ...inWorktree(version, gitDir, places.worktree, signal),
    config: parallelCheckoutConfig(options.checkoutWorkers),
  });
}

/**
 * Bring a spare (checked out by `checkOutWorktree`, never touched by a sub-agent) to `recipe`'s HEAD with
 * the same hermetic one-tree `read-tree --reset -u`: git compares the index with the new tree and rewrites only the
 * files that differ (a tracked file changed behind our back is put back too). Then HEAD is recorded in the spare's
 * private git directory, the only place that holds it. The repository's `info/exclude` is copied again (it may have
 * changed).
 */
export async function moveWorktreeToHead(recipe: WorktreeRecipe, places: Required<WorktreePlaces>, signal?: AbortSignal): Promise<void> {
  const { git, repository, version } = recipe;
  const exclude = await readSmallText(join(repository.commonDir, "info", "exclude"));
  await writeFile(join(places.gitDir, "info", "exclude"), exclude, { mode: 0o600 });
  await git.orThrow(["read-tree", "--reset", "-u", repository.headCommit], inWorktree(version, places.gitDir, places.worktree, signal));
  await writeFile(join(places.gitDir, "HEAD"), `${repository.headCommit}\n`, { mode: 0o600 });
}

/**
 * Write a worktree's index again, a while after its checkout. Git wrote the files and the index within the
 * same second, so it must treat every entry as "racily clean" and re-read each file on the next checkout and on
 * patch collection (100 ms for 2 000 files, seconds for 20 000). Refreshed later, the index is trusted.
 */
export async function refreshWorktreeIndex(recipe: WorktreeRecipe, places: Required<WorktreePlaces>, signal?: AbortSignal): Promise<void> {
  await recipe.git.orThrow(
    ["update-index", "-q", "--ignore-submodules", "--refresh", "--force-write-index"],
    inWorktree(recipe.version, places.gitDir, places.worktree, signal),
  );
}

/** Git run in a worktree on its private git directory, with the isolated config; a checkout may take minutes. */
function inWorktree(version: GitVersion, gitDir: string, worktree: string, signal: AbortSignal | undefined): GitOptions {
  return { cwd: worktree, signal, timeoutMs: 600_000, env: { ...isolatedConfigEnv(version), GIT_DIR: gitDir, GIT_WORK_TREE: worktree } };
}

/**
 * `-c` pairs for git's parallel checkout (`checkout.workers`): one worker per CPU, at least 2, at most 8.
 * Measured with bench/worktree.ts on 2 CPUs, 20 000 files: on disk 2 workers took 7.8 s against 16-18 s serial
 * (checkout there waits on I/O, not CPU); in memory it was within noise of serial. `workers` overrides
 * (1 = serial). Checkouts under 100 files stay serial either way.
 */
function parallelCheckoutConfig(workers: number | undefined): string[] {
  const chosen = workers ?? Math.min(Math.max(availableParallelism(), 2), 8);
  if (chosen <= 1) return [];
  return [`checkout.workers=${chosen}`, "checkout.thresholdForParallelism=100"];
}

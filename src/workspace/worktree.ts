// isolation "worktree": a checkout of cwd's repository at HEAD in a fresh directory below baseDir (the server's
// private run directory, see private-dir.ts), with a private git directory of its own beside it. The sub-agent's
// changes come back as a patch against that HEAD; the worktree is then removed. This file runs a worktree's life;
// each stage has a file of its own:
//   1. recipe.ts         what cwd's repository is and what its config says; refused when we may not make a worktree
//   2. checkout.ts       HEAD checked out (or a spare, spares.ts, brought to HEAD), while at once
//      dirty-check.ts    the user's tree is checked for uncommitted changes (a note), then
//      deps.ts           the dependency directories are linked or copied in
//   3.                   the sub-agent works in it
//   4. collect-patch.ts  its changes as a patch, read from a tree it may have made hostile (hostile-tree.ts)
//   5. removal.ts        the worktree deleted; no git command runs
//
// What we write in the user's repository: nothing. The worktree's private git directory lives beside it in the
// private run directory; nothing is registered in `.git/worktrees` (so `git worktree list` does not show it). The
// user's working tree, index, branches, stash and HEAD are never written; the dirty check runs with
// GIT_OPTIONAL_LOCKS=0 so `status` does not refresh the user's index, and collectPatch stages into a temporary index
// with a temporary object directory, so even the blobs it hashes never land in the user's object store.
//
// Security: the files are checked out, the user's tree is checked for changes, and the patch is collected by git
// running against a private git directory (private-git.ts) with no configuration of the repository's, the user's or
// the system's: no filter, textconv or diff driver exists, so no attribute (at any depth, in `info/attributes`, in
// the sub-agent's worktree) can start a program, and no `includeIf` section that matches worktrees only, no
// `[include]` file and no `.git/modules/<name>/config` is read. Only `rev-parse` and `config --get-regexp` (values
// read as data) run in the repository itself: they consult no attributes and fire no hook, and the program keys
// are forced off on the command line anyway (git.ts SAFETY_CONFIG).
import { mkdtemp, realpath, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { once } from "../once.ts";
import { checkOutWorktree, privateGitDirAtHead, type WorktreePlaces } from "./checkout.ts";
import { collectPatch } from "./collect-patch.ts";
import { installDeps, planDeps, type WorktreeDepsSetting } from "./deps.ts";
import { dirtyNotes, uncommittedPaths, type DirtyState } from "./dirty-check.ts";
import { GitCommandError, isolatedConfigEnv, type Git } from "./git.ts";
import { checkedRecipe, type RepositoryInfo, type WorktreeRecipe } from "./recipe.ts";
import { removeWorktree } from "./removal.ts";
import type { Spares } from "./spares-interface.ts";
import { WorkspaceError, type Workspace, type WorkspaceLogger } from "./types.ts";

export interface CreateWorktreeOptions {
  /** The git every command runs (workspace/git.ts). */
  git: Git;
  signal?: AbortSignal;
  logger: WorkspaceLogger;
  checkoutWorkers?: number;
  baseDir: string;
  roots?: readonly string[];
  /** The server's spare worktrees; set-up takes one (brought to HEAD) instead of checking out anew. */
  spares?: Spares;
  /** Ignored directories of the user's tree to link (or copy) into the worktree; see deps.ts. */
  deps?: WorktreeDepsSetting;
  depsCopyMaxBytes?: number;
}

export async function createWorktree(cwd: string, options: CreateWorktreeOptions): Promise<Workspace> {
  const recipe = await checkedRecipe(options.git, cwd, options.roots, options.signal);
  const { repository, settings, version } = recipe;
  const held: { places?: WorktreePlaces } = {};
  // Once the sub-agent has run, its `.git` is untrusted: cleanup removes only the places recorded before it started.
  const cleanup = once(async () => {
    if (held.places) await removeWorktree(held.places.base, held.places.worktree, options.logger);
  });
  const setUp = await setUpWorktree(recipe, options, held, cleanup);
  const { base, worktree, gitDir: trustedGitDir } = setUp.places;
  const workingDir = await checkedWorkingDir(cwd, repository, worktree, cleanup);

  const notes = setUpNotes(repository, setUp);
  // Link or copy the dependency directories; collectPatch keeps them out of the patch.
  let excludedPaths: string[] = [];
  if (setUp.plannedDeps) {
    notes.push(...setUp.plannedDeps.notes);
    try {
      const installed = await installDeps(setUp.plannedDeps.deps, worktree, { copyMaxBytes: options.depsCopyMaxBytes, signal: options.signal });
      excludedPaths = installed.excluded;
      notes.push(...installed.notes);
    } catch (error) {
      await cleanup();
      throw error;
    }
  }
  // Keep a spare ready for the next delegation on this repository (made in the background).
  options.spares?.replenish(recipe);
  if (settings.filterDrivers.length > 0) {
    notes.push(
      `git filter drivers (${settings.filterDrivers.join(", ")}) were not run in the worktree, for safety: ` +
        `files they manage (e.g. Git LFS objects) appear as stored in git, such as LFS pointer files.`,
    );
  }

  let cleanedUp = false;
  return {
    mode: "worktree",
    workingDir,
    notes: Object.freeze(notes),
    collectPatch: async (collectOptions = {}) => {
      if (cleanedUp) throw new WorkspaceError("the worktree was already removed", { hint: "collect the patch before cleanup" });
      return collectPatch({ git: options.git, repository, version, base, worktree, worktreeGitDir: trustedGitDir, carried: settings.carried, redact: collectOptions.redact, excludedPaths });
    },
    cleanup: async () => {
      cleanedUp = true;
      await cleanup();
    },
  };
}

/** What setting a worktree up found out, for its notes and the steps after it. */
interface WorktreeSetUp {
  places: Required<WorktreePlaces>;
  dirty: DirtyState;
  spareNote: string | undefined;
  plannedDeps: Awaited<ReturnType<typeof planDeps>> | undefined;
}

/**
 * Plan the dependencies, then take a spare or check HEAD out, checking the user's tree for changes meanwhile.
 * `held.places` is filled in as soon as a worktree exists, so `cleanup` finds it after a failure.
 */
async function setUpWorktree(
  recipe: WorktreeRecipe,
  options: CreateWorktreeOptions,
  held: { places?: WorktreePlaces },
  cleanup: () => Promise<void>,
): Promise<WorktreeSetUp> {
  const { repository, settings, version } = recipe;
  const { signal } = options;
  // The dirty check (and the dependency check) run against a private git directory of their own, in baseDir.
  const setupGitDir = await privateGitDirAtHead(options.baseDir, repository, settings);
  const privateEnv = { ...isolatedConfigEnv(version), GIT_DIR: setupGitDir };
  const userTreeEnv = { ...privateEnv, GIT_WORK_TREE: repository.topLevel, GIT_INDEX_FILE: join(repository.gitDir, "index") };
  let dirty: DirtyState;
  let spareNote: string | undefined;
  let plannedDeps: WorktreeSetUp["plannedDeps"];
  try {
    // Dependency directories are checked before any worktree exists, so a refusal costs nothing.
    // `check-ignore` runs hermetically, against the private git directory and the user's index.
    if (options.deps) plannedDeps = await planDeps(options.deps, repository, { git: recipe.git, env: userTreeEnv, signal });
    // The dirty check reads the user's tree while git brings a spare to HEAD or writes a new checkout: neither waits
    // for the other. Both settle before any cleanup, so a cancel cannot remove the worktree while git still writes it.
    const [madeWorktree, checked] = await Promise.allSettled([
      (async () => {
        // A spare made ahead of time, brought to HEAD by checking out only what changed.
        const spare = await options.spares?.take(recipe, signal);
        if (spare) {
          held.places = spare.places;
          spareNote = spare.note;
          return;
        }
        const base = await realpath(await mkdtemp(join(options.baseDir, "codex-subagents-worktree-")));
        held.places = { base, worktree: join(base, "wt") };
        await checkOutWorktree(recipe, held.places, { signal, checkoutWorkers: options.checkoutWorkers });
      })(),
      uncommittedPaths(recipe.git, repository, userTreeEnv, signal),
    ]);
    if (madeWorktree.status === "rejected") throw madeWorktree.reason;
    if (checked.status === "rejected") throw checked.reason;
    dirty = checked.value;
  } catch (error) {
    await cleanup();
    if (error instanceof GitCommandError) {
      throw new WorkspaceError(
        `could not create a git worktree of "${repository.topLevel}": ${error.result.stderr.trim() || error.message}`,
        { hint: 'use isolation "none" or "mirror"' },
      );
    }
    throw error;
  } finally {
    await rm(setupGitDir, { recursive: true, force: true }).catch(() => undefined);
  }
  const { base, worktree, gitDir } = held.places ?? {};
  if (!base || !worktree || !gitDir) {
    await cleanup();
    throw new WorkspaceError(`the worktree of "${repository.topLevel}" could not be registered`, { hint: 'use isolation "none" or "mirror"' });
  }
  return { places: { base, worktree, gitDir }, dirty, spareNote, plannedDeps };
}

/** cwd's place in the worktree; refused (and the worktree removed) when HEAD has no such directory. */
async function checkedWorkingDir(cwd: string, repository: RepositoryInfo, worktree: string, cleanup: () => Promise<void>): Promise<string> {
  const workingDir = repository.prefix === "" ? worktree : join(worktree, repository.prefix.replace(/\/$/, ""));
  const isDirectory = await stat(workingDir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    await cleanup();
    throw new WorkspaceError(
      `cwd "${cwd}" is not in the commit HEAD of "${repository.topLevel}" (untracked or ignored directory), ` +
        `so a worktree of HEAD has no such directory`,
      { hint: 'commit it, pass `cwd` naming a tracked directory, or use isolation "mirror"' },
    );
  }
  return workingDir;
}

/** The notes every worktree set-up returns: what the sub-agent saw, the user's uncommitted changes, the spare. Pure. */
function setUpNotes(repository: RepositoryInfo, setUp: Pick<WorktreeSetUp, "dirty" | "spareNote">): string[] {
  const { dirty, spareNote } = setUp;
  const notes = [
    `isolation "worktree": the sub-agent worked in a fresh checkout of HEAD ${repository.headCommit.slice(0, 12)}, ` +
      `which is removed afterwards; your working tree was not touched.`,
    ...dirtyNotes(repository, dirty),
  ];
  if (spareNote) notes.push(spareNote);
  return notes;
}

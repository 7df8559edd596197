// isolation "worktree": a detached `git worktree` of cwd's repository at HEAD in a fresh temporary directory.
// The sub-agent's changes come back as a patch against that HEAD; the worktree is then removed.
//
// What we touch in the user's repository, and nothing else: `git worktree add` writes the worktree's admin
// directory `.git/worktrees/<name>/` (removed again by cleanup). The user's working tree, index, branches, stash
// and HEAD are never written; the dirty check runs with GIT_OPTIONAL_LOCKS=0 so `status` does not refresh the
// user's index, and collectPatch stages into a temporary index with a temporary object directory, so even the
// blobs it hashes never land in the user's object store.
import { copyFile, mkdir, mkdtemp, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { isAbsolute, join, resolve, sep } from "node:path";
import { filterNeutralisingArgs, gitOrThrow, GitCommandError, runGit } from "./git.ts";
import { excludePathspecs, installDeps, planDeps, type WorktreeDepsSetting } from "./deps.ts";
import type { SparePool } from "./spares.ts";
import { isInsideOrEqual, once, WorkspaceError, type Workspace, type WorkspaceLogger } from "./types.ts";

/** A patch larger than this is refused rather than cut (a cut patch would not apply). */
const MAX_PATCH_BYTES = 64 * 1024 * 1024;

/** What `git rev-parse` tells us about cwd's repository. */
export interface RepositoryInfo {
  topLevel: string;
  /** cwd relative to topLevel, "" at the top, with a trailing "/" otherwise (git's --show-prefix). */
  prefix: string;
  commonDir: string;
  headCommit: string;
}

export async function inspectRepository(cwd: string, signal?: AbortSignal): Promise<RepositoryInfo> {
  const args = [
    "rev-parse",
    "--show-toplevel",
    "--show-prefix",
    "--path-format=absolute",
    "--git-common-dir",
    "--verify",
    "-q",
    "HEAD^{commit}",
  ];
  const result = await runGit(args, { cwd, signal });
  const lines = result.stdout.toString("utf8").split("\n");
  const [topLevel, prefix, commonDir, headCommit] = lines;
  if (!topLevel || prefix === undefined || !commonDir) {
    const said = result.stderr.trim();
    if (/not a git repository/i.test(said) || said === "") {
      throw new WorkspaceError(
        `cwd "${cwd}" is not inside a git repository; use isolation "none" or "mirror", or run \`git init\``,
      );
    }
    throw new WorkspaceError(
      `cwd "${cwd}" cannot be used for isolation "worktree": git said "${said.split("\n")[0]}"; ` +
        `fix the repository, or use isolation "none" or "mirror"`,
    );
  }
  if (result.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(headCommit ?? "")) {
    throw new WorkspaceError(
      `the git repository at "${topLevel}" has no commits yet, so there is no HEAD to make a worktree of; ` +
        `commit first (\`git commit\`), or use isolation "none" or "mirror"`,
    );
  }
  return { topLevel, prefix, commonDir, headCommit: headCommit as string };
}

export interface CreateWorktreeOptions {
  signal?: AbortSignal;
  logger: WorkspaceLogger;
  checkoutWorkers?: number;
  /** Issue 13: the server's spare worktrees; set-up takes one (brought to HEAD) instead of `git worktree add`. */
  spares?: SparePool;
  /** Issue 13: ignored directories of the user's tree to link (or copy) into the worktree; see deps.ts. */
  deps?: WorktreeDepsSetting;
  depsCopyMaxBytes?: number;
}

export async function createWorktree(cwd: string, options: CreateWorktreeOptions): Promise<Workspace> {
  const { signal, logger } = options;
  const repository = await inspectRepository(cwd, signal);
  const filterConfig = await neutralisedFilters(repository.topLevel, signal);
  // Hook (issue 13): dependency directories are checked before any worktree exists, so a refusal costs nothing.
  const plannedDeps = options.deps ? await planDeps(options.deps, repository, signal) : undefined;

  // Hook (issue 13): a spare made ahead of time and already checked out at HEAD replaces `git worktree add`.
  const spare = await options.spares?.take(repository, filterConfig, signal);
  const base = spare?.base ?? (await realpath(await mkdtemp(join(tmpdir(), "codex-subagents-worktree-"))));
  const worktree = join(base, "wt");
  // Once the sub-agent has run, its `.git` is untrusted: cleanup uses the admin dir read before it started.
  let trustedAdminDir: string | undefined;
  const cleanup = once(() => removeWorktree(repository, base, worktree, logger, trustedAdminDir));

  let dirty: DirtyState;
  try {
    // The dirty check reads the user's tree while git writes the new one: neither waits for the other.
    [, dirty] = await Promise.all([
      spare ? undefined : addDetachedWorktree(repository, worktree, filterConfig, { signal, checkoutWorkers: options.checkoutWorkers }),
      uncommittedPaths(repository.topLevel, filterConfig, signal),
    ]);
  } catch (error) {
    await cleanup();
    if (error instanceof GitCommandError) {
      throw new WorkspaceError(
        `could not create a git worktree of "${repository.topLevel}": ${error.result.stderr.trim() || error.message}; ` +
          `use isolation "none" or "mirror"`,
      );
    }
    throw error;
  }

  // Security: read where git keeps this worktree's record now, before the sub-agent runs: afterwards `.git` in the
  // worktree is the sub-agent's to rewrite, and a git directory it plants there could define programs to run.
  const adminDir = await worktreeAdminDir(worktree);
  trustedAdminDir = adminDir;
  if (!adminDir) {
    await cleanup();
    throw new WorkspaceError(`git made a worktree of "${repository.topLevel}" without a .git file; use isolation "none" or "mirror"`);
  }
  const workingDir = repository.prefix === "" ? worktree : join(worktree, repository.prefix.replace(/\/$/, ""));
  const isDirectory = await stat(workingDir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    await cleanup();
    throw new WorkspaceError(
      `cwd "${cwd}" is not in the commit HEAD of "${repository.topLevel}" (untracked or ignored directory), ` +
        `so a worktree of HEAD has no such directory; commit it, pick a tracked cwd, or use isolation "mirror"`,
    );
  }

  const notes = [
    `isolation "worktree": the sub-agent worked in a fresh checkout of HEAD ${repository.headCommit.slice(0, 12)}; ` +
      `its changes are returned as a patch (apply with \`git apply\`); the worktree is removed afterwards.`,
  ];
  if (dirty.paths.length > 0) {
    const examples = dirty.paths.slice(0, 3).join(", ");
    const count = `${dirty.paths.length}${dirty.more ? "+" : ""} path${dirty.paths.length === 1 ? "" : "s"}`;
    notes.push(
      `"${repository.topLevel}" had uncommitted changes (${count}, e.g. ${examples}) that were NOT visible to ` +
        `the sub-agent; the patch is against HEAD and may conflict with them.`,
    );
  }
  if (spare) notes.push(spare.note);
  // Hook (issue 13): link or copy the dependency directories, and keep them out of the patch.
  let excludedPaths: string[] = [];
  if (plannedDeps) {
    notes.push(...plannedDeps.notes);
    try {
      const installed = await installDeps(plannedDeps.deps, worktree, { copyMaxBytes: options.depsCopyMaxBytes, signal });
      excludedPaths = installed.excluded;
      notes.push(...installed.notes);
    } catch (error) {
      await cleanup();
      throw error;
    }
  }
  // Hook (issue 13): keep a spare ready for the next delegation on this repository (made in the background).
  options.spares?.replenish(repository, filterConfig);
  if (filterConfig.length > 0) {
    notes.push(
      `git filter drivers (${filterDriverNames(filterConfig).join(", ")}) were not run in the worktree, for safety: ` +
        `files they manage (e.g. Git LFS objects) appear as stored in git, such as LFS pointer files.`,
    );
  }

  let cleanedUp = false;
  return {
    mode: "worktree",
    workingDir,
    notes,
    collectPatch: async () => {
      if (cleanedUp) throw new WorkspaceError("the worktree was already removed; collect the patch before cleanup");
      return collectPatch(repository, filterConfig, base, worktree, adminDir, notes, excludedPaths);
    },
    cleanup: async () => {
      cleanedUp = true;
      await cleanup();
    },
  };
}

/**
 * `git worktree add --detach <worktree> <HEAD>` in the user's repository, queued behind other worktree changes of that
 * repository. Shared by a cold set-up and the spare pool (spares.ts), so both make worktrees the same way.
 */
export async function addDetachedWorktree(
  repository: RepositoryInfo,
  worktree: string,
  filterConfig: string[],
  options: { signal?: AbortSignal; checkoutWorkers?: number },
): Promise<void> {
  const add = () =>
    gitOrThrow(["worktree", "add", "--detach", "-q", "--", worktree, repository.headCommit], {
      cwd: repository.topLevel,
      signal: options.signal,
      timeoutMs: 600_000,
      config: [...filterConfig, ...parallelCheckoutConfig(options.checkoutWorkers)],
    });
  await withRepositoryLock(repository.commonDir, () => retryAdminRace(add, worktree));
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

/** Blank every filter driver the repository's config defines (see git.ts, Security). */
async function neutralisedFilters(topLevel: string, signal?: AbortSignal): Promise<string[]> {
  const listing = await runGit(["config", "-z", "--get-regexp", "^filter\\."], { cwd: topLevel, signal });
  if (listing.exitCode === 1) return []; // no filter configured
  const pairs = listing.exitCode === 0 ? filterNeutralisingArgs(listing.stdout.toString("utf8")) : undefined;
  if (!pairs) {
    throw new WorkspaceError(
      `the git configuration of "${topLevel}" defines a filter driver this server cannot switch off ` +
        `(git config --get-regexp '^filter\\.' lists it); remove it, or use isolation "none" or "mirror"`,
    );
  }
  return pairs;
}

function filterDriverNames(filterConfig: string[]): string[] {
  const names = filterConfig.map((pair) => pair.slice("filter.".length, pair.lastIndexOf(".")));
  return [...new Set(names)];
}

const MAX_DIRTY_LISTED = 1000;

/** What `git status` reports in the user's tree: modified, staged, untracked paths (`more`: list cut short). */
interface DirtyState {
  paths: string[];
  more: boolean;
}

async function uncommittedPaths(topLevel: string, filterConfig: string[], signal?: AbortSignal): Promise<DirtyState> {
  const result = await runGit(["status", "--porcelain=v1", "-z", "--untracked-files=normal"], {
    cwd: topLevel,
    signal,
    config: filterConfig,
    maxOutputBytes: 256 * 1024,
  });
  if (result.exitCode !== 0 && !result.truncated) return { paths: [], more: false }; // advisory only
  const paths: string[] = [];
  const fields = result.stdout.toString("utf8").split("\0");
  for (let index = 0; index < fields.length && paths.length < MAX_DIRTY_LISTED; index += 1) {
    const field = fields[index] ?? "";
    if (field.length < 4) continue;
    paths.push(field.slice(3));
    if (field[0] === "R" || field[0] === "C") index += 1; // the rename's source path follows
  }
  return { paths, more: result.truncated || paths.length >= MAX_DIRTY_LISTED };
}

async function collectPatch(
  repository: RepositoryInfo,
  filterConfig: string[],
  base: string,
  worktree: string,
  adminDir: string,
  notes: string[],
  excludedPaths: readonly string[] = [],
): Promise<string> {
  // Issue 13: the dependency links and copies (deps.ts) are left out of the diff by pathspec, so never reach the patch,
  // even if the sub-agent un-ignored them. (Not on `git add`: an exclude pathspec naming an ignored path fails there.)
  const excludes = excludePathspecs(excludedPaths);
  // Stage into a copy of the worktree's index (its stat cache makes `add -A` hash only what changed) and write
  // new blobs into a temporary object directory that borrows the repository's objects as an alternate.
  const scratch = await mkdtemp(join(base, "patch-"));
  try {
    const index = join(scratch, "index");
    const objects = join(scratch, "objects");
    await mkdir(objects);
    await copyFile(join(adminDir, "index"), index).catch(() => undefined);
    // GIT_DIR and GIT_WORK_TREE name the repository outright: git never reads the worktree's own `.git`.
    const env = {
      GIT_DIR: adminDir,
      GIT_WORK_TREE: worktree,
      GIT_INDEX_FILE: index,
      GIT_OBJECT_DIRECTORY: objects,
      GIT_ALTERNATE_OBJECT_DIRECTORIES: resolve(repository.commonDir, "objects"),
    };
    await gitOrThrow(["add", "-A", "--", "."], { cwd: worktree, env, config: filterConfig, timeoutMs: 600_000 });

    const diffArgs = [
      "diff",
      "--cached",
      "--binary",
      "--no-color",
      "--no-ext-diff",
      "--no-textconv",
      "--no-renames",
      "--no-relative",
      "--src-prefix=a/",
      "--dst-prefix=b/",
      repository.headCommit,
      "--",
      ...(excludes.length > 0 ? [".", ...excludes] : []),
    ];
    const diffConfig = [...filterConfig, "diff.suppressBlankEmpty=false", "core.quotePath=true"];
    const diff = async (extraConfig: string[]) => {
      const result = await runGit(diffArgs, {
        cwd: worktree,
        env,
        config: [...diffConfig, ...extraConfig],
        maxOutputBytes: MAX_PATCH_BYTES,
        timeoutMs: 600_000,
      });
      if (result.truncated) {
        throw new WorkspaceError(
          `the sub-agent's changes make a patch larger than ${MAX_PATCH_BYTES / 1024 / 1024} MiB, too large to return; ` +
            `ask for a smaller change, or use isolation "none" to let it work in place`,
        );
      }
      if (result.exitCode !== 0) throw new GitCommandError(diffArgs, result);
      return result.stdout;
    };

    const patch = await diff([]);
    const text = decodeUtf8(patch);
    if (text !== undefined) return text;
    // A changed text file that is not UTF-8 cannot travel in a JSON string unchanged. Emit every file as a binary
    // (base85) patch instead: lossless and still `git apply`-able. In-tree .gitattributes that force `diff` on such
    // a file win over core.attributesFile; then we refuse rather than return a patch that would not apply.
    const attributes = join(scratch, "attributes");
    await writeFile(attributes, "* binary\n");
    const binaryText = decodeUtf8(await diff([`core.attributesFile=${attributes}`]));
    if (binaryText === undefined) {
      throw new WorkspaceError(
        `the sub-agent changed a text file that is not UTF-8 and the repository's .gitattributes force a text diff ` +
          `for it, so no lossless patch can be returned; use isolation "none" for this task`,
      );
    }
    notes.push("some changed files are not UTF-8 text, so the patch encodes every file in git's binary format.");
    return binaryText;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** The `gitdir:` a linked worktree's `.git` file points to (`<common>/worktrees/<name>`), if readable. */
export async function worktreeAdminDir(worktree: string): Promise<string | undefined> {
  const text = await readFile(join(worktree, ".git"), "utf8").catch(() => undefined);
  const match = text?.match(/^gitdir: (.+)$/m);
  if (!match?.[1]) return undefined;
  const gitdir = match[1].trim();
  return isAbsolute(gitdir) ? gitdir : resolve(worktree, gitdir);
}

/**
 * Remove the worktree and git's record of it. Never throws.
 * 1. Rename the worktree directory aside (instant, same file system): from here on the sub-agent's files are
 *    out of git's sight, and if we die mid-way the user's repository holds no half-removed worktree.
 * 2. `git worktree remove --force --force <path>`: with the directory gone it only drops the admin directory
 *    `.git/worktrees/<name>` (about 5 ms). If the rename failed, this also deletes the files.
 * 3. If git failed (repository moved, git missing), delete the admin directory ourselves, after checking that its
 *    `gitdir` names this worktree.
 * 4. Delete the temporary directory: the only step that grows with the tree (about 0.2-0.3 s for 20 000 files
 *    in memory; see bench/worktree.ts).
 * We never run `git worktree prune`: it would also drop the user's own worktrees that merely look stale
 * (e.g. on an unmounted drive).
 */
export async function removeWorktree(
  repository: RepositoryInfo,
  base: string,
  worktree: string,
  logger: WorkspaceLogger,
  knownAdminDir: string | undefined,
): Promise<void> {
  const adminDir = knownAdminDir ?? (await worktreeAdminDir(worktree));
  await rename(worktree, join(base, "removing")).catch(() => undefined);
  const removed = await withRepositoryLock(repository.commonDir, () =>
    runGit(["worktree", "remove", "--force", "--force", "--", worktree], {
      cwd: repository.topLevel,
      timeoutMs: 60_000,
    }),
  ).catch((error: Error) => ({ exitCode: -1, stderr: error.message }));
  if (removed.exitCode !== 0 && adminDir) {
    logger.debug(`workspace: git worktree remove failed (${removed.stderr.trim()}); removing "${adminDir}" by hand`);
    if (await isOurAdminDir(adminDir, repository, worktree)) {
      await rm(adminDir, { recursive: true, force: true }).catch((error: Error) =>
        logger.warn(`workspace: could not remove git's record "${adminDir}": ${error.message}; run \`git worktree prune\``),
      );
    }
  }
  await rm(base, { recursive: true, force: true, maxRetries: 3 }).catch((error: Error) =>
    logger.warn(`workspace: could not remove worktree "${base}": ${error.message}; remove it by hand`),
  );
}

async function isOurAdminDir(adminDir: string, repository: RepositoryInfo, worktree: string): Promise<boolean> {
  const worktreesDir = resolve(repository.commonDir, "worktrees");
  if (!isInsideOrEqual(resolve(adminDir), worktreesDir, sep) || resolve(adminDir) === worktreesDir) return false;
  const pointsAt = await readFile(join(adminDir, "gitdir"), "utf8").catch(() => "");
  return pointsAt.trim() === join(worktree, ".git");
}

// Concurrent `git worktree add`/`remove` on one repository race inside git: each lists the repository's
// worktrees and dies reading another's half-written admin directory ("failed to read .git/worktrees/wt/commondir").
// Within this process we queue them per repository; across processes (two servers on one repository) we retry.
// This map is the one piece of module state in src/workspace: a lock table must be shared by every caller.
const repositoryQueues = new Map<string, Promise<unknown>>();

async function withRepositoryLock<T>(commonDir: string, action: () => Promise<T>): Promise<T> {
  const previous = repositoryQueues.get(commonDir) ?? Promise.resolve();
  const current = previous.then(action, action);
  const tail = current.catch(() => undefined);
  repositoryQueues.set(commonDir, tail);
  try {
    return await current;
  } finally {
    if (repositoryQueues.get(commonDir) === tail) repositoryQueues.delete(commonDir);
  }
}

async function retryAdminRace<T>(action: () => Promise<T>, worktree: string): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      const racy = error instanceof GitCommandError && /worktrees\//.test(error.result.stderr);
      if (!racy || attempt >= 3) throw error;
      await rm(worktree, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

// isolation "worktree": a detached `git worktree` of cwd's repository at HEAD in a fresh directory below baseDir
// (the server's private run directory, see private-dir.ts).
// The sub-agent's changes come back as a patch against that HEAD; the worktree is then removed.
//
// What we write in the user's repository: nothing. The worktree's private git directory lives beside it in the
// private run directory; nothing is registered in `.git/worktrees` (so `git worktree list` does not show it). The
// user's working tree, index, branches, stash and HEAD are never written; the dirty check runs with
// GIT_OPTIONAL_LOCKS=0 so `status` does not refresh the user's index, and collectPatch stages into a temporary index with a temporary object directory, so even the
// blobs it hashes never land in the user's object store.
//
// Security: the files are checked out, the user's tree is checked for changes, and the patch is collected by git
// running against a private git directory (private-git.ts) with no configuration of the repository's, the user's or
// the system's: no filter, textconv or diff driver exists, so no attribute (at any depth, in `info/attributes`, in
// the sub-agent's worktree) can start a program, and no `includeIf` section that matches worktrees only, no
// `[include]` file and no `.git/modules/<name>/config` is read. Only `rev-parse` and `config --get-regexp` (values
// read as data) run in the repository itself: they consult no attributes and fire no hook, and the program keys
// are forced off on the command line anyway (git.ts SAFETY_CONFIG).
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "../once.ts";
import { isWithin } from "../policy/roots.ts";
import {
  filterNeutralisingArgs,
  GitCommandError,
  isolatedConfigEnv,
  type Git,
  type GitResult,
  type GitVersion,
} from "./git.ts";
import { readWholeRegularFile } from "../safe-fs.ts";
import { removePlantedGitEntries, removeTree } from "./hostile-tree.ts";
import { displayPath, isSecretShapedPath, isUtf8, literalPathspec, pathspecFile, splitPatch, type PatchPart } from "./patch-parts.ts";
import { CARRIED_KEYS, createPrivateGitDir, readSmallText, setPrivateAttributes } from "./private-git.ts";
import { excludePathspecs, installDeps, planDeps, type WorktreeDepsSetting } from "./deps.ts";
import type { Spares } from "./spares.ts";
import { WorkspaceError, type CollectedPatch, type Workspace, type WorkspaceLogger } from "./types.ts";

/** A patch larger than this is refused rather than cut (a cut patch would not apply). */
const MAX_PATCH_BYTES = 64 * 1024 * 1024;

/** What `git rev-parse` tells us about cwd's repository. */
export interface RepositoryInfo {
  topLevel: string;
  /** cwd relative to topLevel, "" at the top, with a trailing "/" otherwise (git's --show-prefix). */
  prefix: string;
  commonDir: string;
  /** This worktree's own git directory (the common one, or `<common>/worktrees/<name>` in a linked worktree). */
  gitDir: string;
  /** "sha1" or "sha256". */
  objectFormat: string;
  headCommit: string;
}

export async function inspectRepository(git: Git, cwd: string, signal?: AbortSignal): Promise<RepositoryInfo> {
  const args = [
    "rev-parse",
    "--show-toplevel",
    "--show-prefix",
    "--path-format=absolute",
    "--git-common-dir",
    "--absolute-git-dir",
    "--show-object-format",
    "--verify",
    "-q",
    "HEAD^{commit}",
  ];
  const result = await git.run(args, { cwd, signal });
  const lines = result.stdout.toString("utf8").split("\n");
  const [topLevel, prefix, commonDir, gitDir, objectFormat, headCommit] = lines;
  if (!topLevel || prefix === undefined || !commonDir || !gitDir || !objectFormat) {
    const said = result.stderr.trim();
    if (/not a git repository/i.test(said) || said === "") {
      throw new WorkspaceError(
        `cwd "${cwd}" is not inside a git repository; pass \`cwd\` naming a directory in one, use isolation "none" or "mirror", or run \`git init\` there`,
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
  return { topLevel, prefix, commonDir, gitDir, objectFormat, headCommit: headCommit as string };
}

/** What the repository's configuration says that matters to us: all data, read once before anything runs. */
export interface RepositorySettings {
  /** `core.worktree`, if set anywhere git looks (includes too): refused. */
  coreWorktree: string | undefined;
  /** Data-only keys carried into the private config (line endings, file modes). */
  carried: Map<string, string>;
  /** Filter driver names the repository's config defines (for the note; none of them is run). */
  filterDrivers: string[];
}

async function readRepositorySettings(git: Git, cwd: string, signal?: AbortSignal): Promise<RepositorySettings> {
  const keys = CARRIED_KEYS.map((key) => key.slice("core.".length)).join("|");
  const listing = await git.run(["config", "-z", "--get-regexp", `^(core\\.(worktree|${keys})|filter\\..*)$`], { cwd, signal });
  const settings: RepositorySettings = { coreWorktree: undefined, carried: new Map(), filterDrivers: [] };
  if (listing.exitCode !== 0) return settings; // 1: none of these keys is set
  const filterEntries: string[] = [];
  for (const entry of listing.stdout.toString("utf8").split("\0")) {
    if (entry === "") continue;
    const newline = entry.indexOf("\n");
    const key = (newline === -1 ? entry : entry.slice(0, newline)).toLowerCase();
    const value = newline === -1 ? "true" : entry.slice(newline + 1);
    if (key === "core.worktree") settings.coreWorktree = value;
    else if (key.startsWith("filter.")) filterEntries.push(entry);
    else settings.carried.set(key, value);
  }
  const pairs = filterNeutralisingArgs(filterEntries.join("\0")) ?? [];
  settings.filterDrivers = filterDriverNames(pairs);
  return settings;
}

/**
 * Security: a repository whose `core.worktree` points elsewhere, or whose working tree or git directory lies outside
 * the allowed roots (a `.git` file pointing out of them), would have git read or write outside what the caller
 * allowed. Refuse, naming the way out.
 */
async function checkRepositoryPlace(repository: RepositoryInfo, settings: RepositorySettings, roots: readonly string[] | undefined): Promise<void> {
  if (settings.coreWorktree !== undefined) {
    throw new WorkspaceError(
      `the git repository at "${repository.gitDir}" sets core.worktree ("${settings.coreWorktree}"), so its working tree ` +
        `is not where its git directory is; this server does not make worktrees of such repositories: ` +
        `use isolation "none" or "mirror", or remove core.worktree`,
    );
  }
  if (!roots) return;
  for (const [what, path] of [
    ["top level", repository.topLevel],
    ["git directory", repository.gitDir],
    ["common git directory", repository.commonDir],
  ] as const) {
    const real = await realpath(path).catch(() => path);
    if (!roots.some((root) => isWithin(real, root))) {
      throw new WorkspaceError(
        `the ${what} of the git repository at cwd is "${real}", outside the allowed roots; ` +
          `use isolation "none" or "mirror", or start the server with a --root that holds the whole repository`,
      );
    }
  }
}

export interface CreateWorktreeOptions {
  /** The git every command runs (workspace/git.ts). */
  git: Git;
  signal?: AbortSignal;
  logger: WorkspaceLogger;
  checkoutWorkers?: number;
  baseDir: string;
  roots?: readonly string[];
  /** Issue 13: the server's spare worktrees; set-up takes one (brought to HEAD) instead of checking out anew. */
  spares?: Spares;
  /** Issue 13: ignored directories of the user's tree to link (or copy) into the worktree; see deps.ts. */
  deps?: WorktreeDepsSetting;
  depsCopyMaxBytes?: number;
}

/** What making a worktree needs to know about its repository; a spare (spares.ts) is made from the same recipe. */
export interface WorktreeRecipe {
  /** The git that inspected the repository; every later command on its worktree runs the same one. */
  git: Git;
  repository: RepositoryInfo;
  settings: RepositorySettings;
  version: GitVersion;
}

/** A worktree's places: the directory holding it, the checkout, and our private git directory beside it. */
export interface WorktreePlaces {
  base: string;
  worktree: string;
  gitDir?: string;
}

export async function createWorktree(cwd: string, options: CreateWorktreeOptions): Promise<Workspace> {
  const recipe = await checkedRecipe(options.git, cwd, options.roots, options.signal);
  const { repository, settings, version } = recipe;
  const held: { places?: WorktreePlaces } = {};
  // Once the sub-agent has run, its `.git` is untrusted: cleanup uses the admin dir recorded before it started.
  const cleanup = once(async () => {
    if (held.places) await removeWorktree(held.places.base, held.places.worktree, options.logger);
  });
  const setUp = await setUpWorktree(recipe, options, held, cleanup);
  const { base, worktree, gitDir: trustedGitDir } = setUp.places;
  const workingDir = await checkedWorkingDir(cwd, repository, worktree, cleanup);

  const notes = setUpNotes(repository, setUp);
  // Hook (issue 13): link or copy the dependency directories; collectPatch keeps them out of the patch.
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
  // Hook (issue 13): keep a spare ready for the next delegation on this repository (made in the background).
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
      if (cleanedUp) throw new WorkspaceError("the worktree was already removed; collect the patch before cleanup");
      return collectPatch({ git: options.git, repository, version, base, worktree, worktreeGitDir: trustedGitDir, carried: settings.carried, redact: collectOptions.redact, excludedPaths });
    },
    cleanup: async () => {
      cleanedUp = true;
      await cleanup();
    },
  };
}

/** Inspect cwd's repository and read its settings, refusing one this server must not make a worktree of. */
async function checkedRecipe(git: Git, cwd: string, roots: readonly string[] | undefined, signal?: AbortSignal): Promise<WorktreeRecipe> {
  const version = await git.version();
  const repository = await inspectRepository(git, cwd, signal);
  const settings = await readRepositorySettings(git, cwd, signal);
  await checkRepositoryPlace(repository, settings, roots);
  return { git, repository, settings, version };
}

/** A private git directory under `parent` at the repository's HEAD, borrowing its objects and its `info/exclude`. */
async function privateGitDirAtHead(parent: string, repository: RepositoryInfo, settings: RepositorySettings): Promise<string> {
  return createPrivateGitDir(parent, {
    head: repository.headCommit,
    alternateObjects: resolve(repository.commonDir, "objects"),
    objectFormat: repository.objectFormat,
    carried: settings.carried,
    exclude: await readSmallText(join(repository.commonDir, "info", "exclude")),
  });
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
    // Hook (issue 13): dependency directories are checked before any worktree exists, so a refusal costs nothing.
    // `check-ignore` runs hermetically, against the private git directory and the user's index.
    if (options.deps) plannedDeps = await planDeps(options.deps, repository, { git: recipe.git, env: userTreeEnv, signal });
    // The dirty check reads the user's tree while git brings a spare to HEAD or writes a new checkout: neither waits
    // for the other. Both settle before any cleanup, so a cancel cannot remove the worktree while git still writes it.
    const [madeWorktree, checked] = await Promise.allSettled([
      (async () => {
        // Hook (issue 13): a spare made ahead of time, brought to HEAD by checking out only what changed.
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
        `could not create a git worktree of "${repository.topLevel}": ${error.result.stderr.trim() || error.message}; ` +
          `use isolation "none" or "mirror"`,
      );
    }
    throw error;
  } finally {
    await rm(setupGitDir, { recursive: true, force: true }).catch(() => undefined);
  }
  const { base, worktree, gitDir } = held.places ?? {};
  if (!base || !worktree || !gitDir) {
    await cleanup();
    throw new WorkspaceError(`the worktree of "${repository.topLevel}" could not be registered; use isolation "none" or "mirror"`);
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
        `so a worktree of HEAD has no such directory; commit it, pass \`cwd\` naming a tracked directory, or use isolation "mirror"`,
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
  ];
  if (dirty.paths.length > 0) {
    const examples = dirty.paths.slice(0, 3).join(", ");
    const count = `${dirty.paths.length}${dirty.more ? "+" : ""} path${dirty.paths.length === 1 ? "" : "s"}`;
    notes.push(
      `"${repository.topLevel}" had uncommitted changes (${count}, e.g. ${examples}) that were NOT visible to ` +
        `the sub-agent; the patch is against HEAD and may conflict with them.`,
    );
  }
  if (dirty.timedOut) {
    notes.push(
      `the check of "${repository.topLevel}" for uncommitted changes did not finish in ${DIRTY_CHECK_TIMEOUT_MS / 1000} s ` +
        `(a very large tree, or a FIFO where git expects a file), so uncommitted changes, if any, are not listed here.`,
    );
  }
  if (spareNote) notes.push(spareNote);
  return notes;
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
    cwd: places.worktree,
    signal,
    timeoutMs: 600_000,
    env: { ...isolatedConfigEnv(version), GIT_DIR: gitDir, GIT_WORK_TREE: places.worktree },
    config: parallelCheckoutConfig(options.checkoutWorkers),
  });
}

/**
 * Issue 13: bring a spare (checked out by `checkOutWorktree`, never touched by a sub-agent) to `recipe`'s HEAD with
 * the same hermetic one-tree `read-tree --reset -u`: git compares the index with the new tree and rewrites only the
 * files that differ (a tracked file changed behind our back is put back too). Then HEAD is recorded, in our private
 * git directory and in git's admin directory. The repository's `info/exclude` is copied again (it may have changed).
 */
export async function moveWorktreeToHead(recipe: WorktreeRecipe, places: Required<WorktreePlaces>, signal?: AbortSignal): Promise<void> {
  const { git, repository, version } = recipe;
  const exclude = await readSmallText(join(repository.commonDir, "info", "exclude"));
  await writeFile(join(places.gitDir, "info", "exclude"), exclude, { mode: 0o600 });
  await git.orThrow(["read-tree", "--reset", "-u", repository.headCommit], {
    cwd: places.worktree,
    signal,
    timeoutMs: 600_000,
    env: { ...isolatedConfigEnv(version), GIT_DIR: places.gitDir, GIT_WORK_TREE: places.worktree },
  });
  await writeFile(join(places.gitDir, "HEAD"), `${repository.headCommit}\n`, { mode: 0o600 });
}

/**
 * Issue 13: write a worktree's index again, a while after its checkout. Git wrote the files and the index within the
 * same second, so it must treat every entry as "racily clean" and re-read each file on the next checkout and on
 * patch collection (100 ms for 2 000 files, seconds for 20 000). Refreshed later, the index is trusted.
 */
export async function refreshWorktreeIndex(recipe: WorktreeRecipe, places: Required<WorktreePlaces>, signal?: AbortSignal): Promise<void> {
  await recipe.git.orThrow(["update-index", "-q", "--ignore-submodules", "--refresh", "--force-write-index"], {
    cwd: places.worktree,
    signal,
    timeoutMs: 600_000,
    env: { ...isolatedConfigEnv(recipe.version), GIT_DIR: places.gitDir, GIT_WORK_TREE: places.worktree },
  });
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

function filterDriverNames(filterConfig: string[]): string[] {
  const names = filterConfig.map((pair) => pair.slice("filter.".length, pair.lastIndexOf(".")));
  return [...new Set(names)];
}

const MAX_DIRTY_LISTED = 1000;

/** What `git status` reports in the user's tree: modified, staged, untracked paths (`more`: list cut short). */
interface DirtyState {
  paths: string[];
  more: boolean;
  /** The check did not finish in DIRTY_CHECK_TIMEOUT_MS. */
  timedOut?: boolean;
}

const DIRTY_CHECK_TIMEOUT_MS = 15_000;

/** `env` names the private git directory, the user's tree as GIT_WORK_TREE and the user's index (read only). */
async function uncommittedPaths(git: Git, repository: RepositoryInfo, env: Record<string, string>, signal?: AbortSignal): Promise<DirtyState> {
  const result = await git.run(["status", "--porcelain=v1", "-z", "--untracked-files=normal", "--ignore-submodules=all"], {
    cwd: repository.topLevel,
    signal,
    env,
    maxOutputBytes: 256 * 1024,
    // Security: git opens `HEAD` of every nested repository it meets in the untracked walk; one planted as a FIFO
    // (by an earlier sub-agent working in place) would block it. The check is advisory, so it gets a short bound.
    timeoutMs: DIRTY_CHECK_TIMEOUT_MS,
  });
  if (result.timedOut) return { paths: [], more: false, timedOut: true };
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

interface CollectInput {
  git: Git;
  repository: RepositoryInfo;
  version: GitVersion;
  base: string;
  worktree: string;
  /** The worktree's private git directory (inside git's admin directory): its index and any objects of its own. */
  worktreeGitDir: string;
  carried: ReadonlyMap<string, string>;
  redact?: (text: string) => string;
  /** Issue 13: the dependency links and copies (deps.ts), relative to the top level; never in the patch. */
  excludedPaths?: readonly string[];
}

/** Most files a patch re-encodes one by one before it falls back to encoding every file (argv stays small). */
const MAX_REENCODED_FILES = 500;
/** Binary files larger than this are not read to look for secrets (the note says they were not checked). */
const MAX_BINARY_SCAN_BYTES = 16 * 1024 * 1024;

/**
 * The sub-agent's changes as a patch against HEAD, plus notes for the caller. Treats the worktree as hostile: planted
 * `.git` entries are removed first (hostile-tree.ts), git runs against a fresh private git directory (no config but
 * ours), submodules are never entered, symlinks are recorded as links and never followed, secret-shaped files the
 * sub-agent added are left out, and binary content is named in the notes.
 */
async function collectPatch(input: CollectInput): Promise<CollectedPatch> {
  const { repository, worktree } = input;
  const notes: string[] = [];
  await refuseMovedWorktree(worktree);
  const scratch = await mkdtemp(join(input.base, "patch-"));
  try {
    // Issue 13: the dependency links (symlinks the server made) are not followed by the walk; a copy is walked like
    // any directory (its `.git` entries go too: git must not read them either), but what was removed there came
    // from the user's dependencies, not from the sub-agent, and is not reported.
    const excludedPaths = input.excludedPaths ?? [];
    const isExcluded = (path: string) => excludedPaths.some((dep) => path === dep || path.startsWith(`${dep}/`));
    const git = await openScratchGit(input, scratch);
    // Planted `.git` directories are moved here, out of the worktree, and deleted with it (removeWorktree).
    const trash = await mkdtemp(join(input.base, "planted-"));
    await stageWorktree(git, worktree, trash, isExcluded, notes);
    // Issue 13: the dependency links and copies are left out of every diff by pathspec, so they never reach the
    // patch, even if the sub-agent un-ignored them or replaced a link with files of its own. (Not on `git add`: an
    // exclude pathspec naming an ignored path makes it fail; a link git stages there is simply never diffed.)
    const excludes = excludePathspecs(excludedPaths);
    const diff = (pathspecs: string[]) => diffStaged(git, repository.headCommit, pathspecs, excludes);
    let patch = await patchWithoutSecrets(git, repository.headCommit, excludes, diff, notes);
    if (!isUtf8(patch)) patch = await reencodeNonUtf8(patch, diff, git.gitDir, notes);
    const parts = splitPatch(patch);
    if (parts) patch = await screenBinaryParts(parts, worktree, input.redact, notes);
    const text = patch.toString("utf8");
    if (!isUtf8(patch)) {
      throw new WorkspaceError(
        `the sub-agent changed a text file that is not UTF-8 and no lossless patch could be made of it; ` +
          `use isolation "none" for this task`,
      );
    }
    return { patch: text, notes: Object.freeze(notes) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Security: the sub-agent may write its worktree's parent (it lives in TMPDIR), so it can move the worktree aside
 * and leave a link to any directory in its place; git would then hand that directory back as the patch.
 */
async function refuseMovedWorktree(worktree: string): Promise<void> {
  const [info, real] = await Promise.all([lstat(worktree).catch(() => undefined), realpath(worktree).catch(() => "")]);
  if (!info?.isDirectory() || real !== worktree) {
    throw new WorkspaceError(
      `the worktree "${worktree}" was moved or replaced by a link while the sub-agent ran, so nothing was read from ` +
        `it; no patch is returned`,
    );
  }
}

/** Git pointed at a scratch private git directory and index, with the worktree as its working tree. */
interface ScratchGit {
  gitDir: string;
  run: (args: string[], extra?: { maxOutputBytes?: number; config?: string[] }) => Promise<GitResult>;
  /** Run with `specs` as NUL-separated pathspecs from a file (argv stays small); throws on a non-zero exit. */
  withSpecs: (args: string[], specs: Buffer[]) => Promise<Buffer>;
}

/**
 * Stage into a copy of the worktree's index (its stat cache makes `add -A` hash only what changed); new blobs go to
 * the private git directory's own objects, which borrow the repository's as an alternate.
 */
async function openScratchGit(input: CollectInput, scratch: string): Promise<ScratchGit> {
  const { repository, version, worktree } = input;
  const gitDir = await createPrivateGitDir(scratch, {
    head: repository.headCommit,
    // The worktree's own objects too: commits the sub-agent made there store their blobs in its git directory.
    alternateObjects: [resolve(repository.commonDir, "objects"), join(input.worktreeGitDir, "objects")],
    objectFormat: repository.objectFormat,
    carried: input.carried,
    // Security: the sub-agent's `.gitattributes` must not mark text as binary (base85 would hide it from the
    // redactor) or pick a diff driver: ours is the highest-precedence attributes file, and it leaves `diff` to
    // git's own text/binary detection.
    attributes: "* !diff\n",
  });
  const index = join(scratch, "index");
  await copyFile(join(input.worktreeGitDir, "index"), index).catch(() => undefined);
  // GIT_DIR and GIT_WORK_TREE name the repository outright: git never reads the worktree's own `.git`.
  const env = { ...isolatedConfigEnv(version), GIT_DIR: gitDir, GIT_WORK_TREE: worktree, GIT_INDEX_FILE: index };
  const run = (args: string[], extra: { maxOutputBytes?: number; config?: string[] } = {}) =>
    input.git.run(args, { cwd: worktree, env, timeoutMs: 600_000, ...extra });
  const specFile = join(scratch, "pathspecs");
  const withSpecs = async (args: string[], specs: Buffer[]) => {
    await writeFile(specFile, pathspecFile(specs));
    const result = await run([...args, `--pathspec-from-file=${specFile}`, "--pathspec-file-nul"]);
    if (result.exitCode !== 0) throw new GitCommandError(args, result);
    return result.stdout;
  };
  return { gitDir, run, withSpecs };
}

/** Remove planted `.git` entries, then stage the whole worktree except submodules; notes what was met on the way. */
async function stageWorktree(git: ScratchGit, worktree: string, trash: string, isExcluded: (path: string) => boolean, notes: string[]): Promise<void> {
  // The walk for planted `.git` entries and the listing of the index (which reads no file of the worktree) run
  // at once: on a 20 000-file tree each costs tens of milliseconds between the sub-agent's exit and the result.
  // Submodules (gitlinks in the index) are never entered: left out of `add`, so their paths stay as in HEAD.
  const [walked, listed] = await Promise.allSettled([
    removePlantedGitEntries(worktree, undefined, trash),
    git.run(["ls-files", "-s", "-z"], { maxOutputBytes: 256 * 1024 * 1024 }),
  ]);
  if (walked.status === "rejected") throw walked.reason;
  if (listed.status === "rejected") throw listed.reason;
  const planted = walked.value;
  const plantedBySubAgent = planted.removed.filter((path) => !isExcluded(path));
  if (plantedBySubAgent.length > 0) {
    notes.push(
      `the sub-agent created git metadata inside its worktree (${listSome(plantedBySubAgent)}); it was removed unread ` +
        `before the patch was collected, and the files beside it are in the patch as ordinary files.`,
    );
  }
  const staged = listed.value;
  if (staged.exitCode !== 0) throw new GitCommandError(["ls-files"], staged);
  const gitlinks = nulFields(staged.stdout)
    .filter((entry) => entry.subarray(0, 7).toString("latin1") === "160000 ")
    .map((entry) => entry.subarray(entry.indexOf(9) + 1));
  await git.withSpecs(["add", "-A"], [Buffer.from(":(top)"), ...gitlinks.map((path) => literalPathspec(path, true))]);
  const touchedSubmodules: string[] = [];
  for (const path of gitlinks.slice(0, 100)) {
    const entries = await readdir(Buffer.concat([Buffer.from(worktree + "/"), path])).catch(() => []);
    if (entries.length > 0) touchedSubmodules.push(displayPath(path));
  }
  if (touchedSubmodules.length > 0) {
    notes.push(
      `the sub-agent wrote inside submodule path(s) (${listSome(touchedSubmodules)}); submodules are never entered, ` +
        `so nothing there is in the patch.`,
    );
  }
}

const DIFF_ARGS: readonly string[] = [
  "diff",
  "--cached",
  "--binary",
  "--no-color",
  "--no-ext-diff",
  "--no-textconv",
  "--no-renames",
  "--no-relative",
  "--ignore-submodules=all",
  "--src-prefix=a/",
  "--dst-prefix=b/",
];

/** The staged changes under `pathspecs` (minus `excludes`) as a patch against `head`; refused past MAX_PATCH_BYTES. */
async function diffStaged(git: ScratchGit, head: string, pathspecs: string[], excludes: string[]): Promise<Buffer> {
  const args = [...DIFF_ARGS, head, "--", ...pathspecs, ...excludes];
  const result = await git.run(args, { maxOutputBytes: MAX_PATCH_BYTES, config: ["diff.suppressBlankEmpty=false", "core.quotePath=true"] });
  if (result.truncated) {
    throw new WorkspaceError(
      `the sub-agent's changes make a patch larger than ${MAX_PATCH_BYTES / 1024 / 1024} MiB, too large to return; ` +
        `ask for a smaller change, or use isolation "none" to let it work in place`,
    );
  }
  if (result.exitCode !== 0) throw new GitCommandError(args, result);
  return result.stdout;
}

/**
 * The patch of everything staged. A secret-shaped file (private key, `.env*`, credential store) the sub-agent added
 * stays out of the patch.
 */
async function patchWithoutSecrets(
  git: ScratchGit,
  head: string,
  excludes: string[],
  diff: (pathspecs: string[]) => Promise<Buffer>,
  notes: string[],
): Promise<Buffer> {
  // The list of changes and the patch are made at once (both only read the index); the patch is made again only
  // when a secret-shaped file had to be taken out of the index first.
  // Security: the list is read whole or not at all. Capped at 1 MiB (the default here), a list cut short would end
  // before the paths that sort last, and a `zz/.env` among many changed files would pass as not secret-shaped; past
  // the patch's own cap the patch is refused anyway.
  const [changes, firstPatch] = await Promise.all([
    git.run(["diff", "--cached", "--name-status", "-z", "--no-renames", "--ignore-submodules=all", head, "--", ":(top)", ...excludes], {
      maxOutputBytes: MAX_PATCH_BYTES,
    }),
    diff([":(top)"]).then((bytes) => ({ bytes }), (error: unknown) => ({ error })),
  ]);
  if (changes.truncated) {
    throw new WorkspaceError(
      `the sub-agent changed so many files that their list alone passes ${MAX_PATCH_BYTES / 1024 / 1024} MiB, too large to return; ` +
        `ask for a smaller change, or use isolation "none" to let it work in place`,
    );
  }
  if (changes.exitCode !== 0) throw new GitCommandError(["diff", "--name-status"], changes);
  const fields = nulFields(changes.stdout);
  const secretFiles: Buffer[] = [];
  for (let at = 0; at + 1 < fields.length; at += 2) {
    const path = fields[at + 1] as Buffer;
    if (fields[at]?.toString("latin1") === "A" && isSecretShapedPath(path.toString("utf8"))) secretFiles.push(path);
  }
  if (secretFiles.length === 0) {
    if ("error" in firstPatch) throw firstPatch.error;
    return firstPatch.bytes;
  }
  await git.withSpecs(["rm", "--cached", "-f", "-q", "--ignore-unmatch"], secretFiles.map((path) => literalPathspec(path)));
  notes.push(
    `left out of the patch: ${secretFiles.length} file(s) the sub-agent added whose names mark them as secrets ` +
      `(${listSome(secretFiles.map(displayPath))}); they were not returned.`,
  );
  return diff([":(top)"]);
}

/**
 * A changed text file that is not UTF-8 cannot travel in a JSON string unchanged. Only those files go in git's
 * lossless binary (base85) format; every other file stays text, where the redactor can see it.
 */
async function reencodeNonUtf8(
  patch: Buffer,
  diff: (pathspecs: string[]) => Promise<Buffer>,
  gitDir: string,
  notes: string[],
): Promise<Buffer> {
  const parts = splitPatch(patch);
  const bad = parts ? [...new Map(parts.filter((part) => !part.utf8).map((part) => [part.path.toString("latin1"), part.path])).values()] : undefined;
  const asPathspec = (path: Buffer, exclude = false) => literalPathspec(path, exclude).toString("utf8");
  const expressible = bad?.every((path) => isUtf8(path) && !path.includes(0)) && (bad?.length ?? 0) <= MAX_REENCODED_FILES;
  await setPrivateAttributes(gitDir, "* binary\n");
  try {
    if (!bad || !expressible) {
      notes.push("some changed files are not UTF-8 text, so the patch encodes every file in git's binary format.");
      return await diff([":(top)"]);
    }
    const binaryPart = await diff(bad.map((path) => asPathspec(path)));
    await setPrivateAttributes(gitDir, "* !diff\n");
    const textPart = await diff([":(top)", ...bad.map((path) => asPathspec(path, true))]);
    notes.push(
      `${bad.length} changed file(s) are not UTF-8 text (${listSome(bad.map(displayPath))}), so only they are in git's ` +
        `binary format in the patch; every other file is text.`,
    );
    return Buffer.concat([textPart, binaryPart]);
  } finally {
    await setPrivateAttributes(gitDir, "* !diff\n");
  }
}

/**
 * Security: base85 is not a hiding place. Every binary part is named in the notes; when the file's new content holds
 * something the redactor recognises, the part is left out of the patch (a redacted base85 hunk would not decode).
 */
async function screenBinaryParts(
  parts: PatchPart[],
  worktree: string,
  redact: ((text: string) => string) | undefined,
  notes: string[],
): Promise<Buffer> {
  const binary = parts.filter((part) => part.binary);
  if (binary.length === 0) return Buffer.concat(parts.map((part) => part.bytes));
  const dropped = new Set<PatchPart>();
  const unchecked: string[] = [];
  for (const part of binary) {
    if (!redact) break;
    const file = Buffer.concat([Buffer.from(worktree + "/"), part.path]);
    const info = await lstat(file).catch(() => undefined);
    if (!info?.isFile()) continue; // deleted or not a regular file: nothing new to leak
    const bytes = await readWholeRegularFile(file, MAX_BINARY_SCAN_BYTES);
    if (!bytes) {
      unchecked.push(displayPath(part.path));
      continue;
    }
    const content = bytes.toString("latin1");
    if (redact(content) !== content) dropped.add(part);
  }
  const kept = binary.filter((part) => !dropped.has(part));
  if (kept.length > 0) {
    notes.push(
      `binary content in the patch (git's base85 format, not readable as text; review before applying): ` +
        `${listSome(kept.map((part) => displayPath(part.path)), 20)}.` +
        (unchecked.length > 0 ? ` Not checked for secrets (over 16 MiB or unreadable): ${listSome(unchecked)}.` : ""),
    );
  }
  if (dropped.size > 0) {
    notes.push(
      `left out of the patch: binary file(s) holding a secret-looking value (${listSome([...dropped].map((part) => displayPath(part.path)))}).`,
    );
  }
  return Buffer.concat(parts.filter((part) => !dropped.has(part)).map((part) => part.bytes));
}

function nulFields(bytes: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const end = bytes.indexOf(0, at);
    fields.push(bytes.subarray(at, end === -1 ? bytes.length : end));
    at = end === -1 ? bytes.length : end + 1;
  }
  return fields;
}

function listSome(items: readonly string[], limit = 5): string {
  const shown = items.slice(0, limit).join(", ");
  return items.length > limit ? `${shown} and ${items.length - limit} more` : shown;
}

/**
 * Remove the worktree. Never throws.
 * 1. Rename the worktree directory aside (instant, same file system): from here on the sub-agent's files are
 *    out of sight of any git pointed at the old path.
 * 2. Delete the temporary directory (our private git directory with it): the only step that grows with the tree
 *    (about 0.2-0.3 s for 20 000 files in memory; see bench/worktree.ts). The repository is not touched: nothing of
 *    ours was registered in it.
 */
export async function removeWorktree(base: string, worktree: string, logger: WorkspaceLogger): Promise<void> {
  await rename(worktree, join(base, "removing")).catch(() => undefined);
  // Security: not `rm -r`: a sub-agent's tree with its owner's bits taken away, or a chain of directories thousands
  // deep, made that fail (the worktree stayed behind) or run for hours. removeTree gives the bits back and stays linear.
  await removeTree(base).catch((error: Error) =>
    logger.warn(`workspace: could not remove worktree "${base}": ${error.message}; remove it by hand`),
  );
}

// Worktree stage 1, the recipe: what cwd's repository is (`rev-parse`), what its configuration says that matters
// (`config --get-regexp`, values read as data), and whether this server may make a worktree of it at all. Every later
// stage, and every spare made for the repository (spares.ts), works from this recipe.
//
// Security: these two are the only git commands that run in the repository itself. They consult no attributes and
// fire no hook, and the program keys are forced off on the command line anyway (git.ts SAFETY_CONFIG).
import { realpath } from "node:fs/promises";
import { isWithin } from "../policy/roots.ts";
import { filterNeutralisingArgs, type Git, type GitVersion } from "./git.ts";
import { CARRIED_KEYS } from "./private-git.ts";
import { WorkspaceError } from "./types.ts";

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
        `cwd "${cwd}" is not inside a git repository`,
        { hint: 'pass `cwd` naming a directory in one, use isolation "none" or "mirror", or run `git init` there' },
      );
    }
    throw new WorkspaceError(
      `cwd "${cwd}" cannot be used for isolation "worktree": git said "${said.split("\n")[0]}"`,
      { hint: 'fix the repository, or use isolation "none" or "mirror"' },
    );
  }
  if (result.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(headCommit ?? "")) {
    throw new WorkspaceError(
      `the git repository at "${topLevel}" has no commits yet, so there is no HEAD to make a worktree of`,
      { hint: 'commit first (`git commit`), or use isolation "none" or "mirror"' },
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
        `is not where its git directory is; this server does not make worktrees of such repositories`,
      { hint: 'use isolation "none" or "mirror", or remove core.worktree' },
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
        `the ${what} of the git repository at cwd is "${real}", outside the allowed roots`,
        { hint: 'use isolation "none" or "mirror", or start the server with a --root that holds the whole repository' },
      );
    }
  }
}

/** What making a worktree needs to know about its repository; a spare (spares.ts) is made from the same recipe. */
export interface WorktreeRecipe {
  /** The git that inspected the repository; every later command on its worktree runs the same one. */
  git: Git;
  repository: RepositoryInfo;
  settings: RepositorySettings;
  version: GitVersion;
}

/** Inspect cwd's repository and read its settings, refusing one this server must not make a worktree of. */
export async function checkedRecipe(git: Git, cwd: string, roots: readonly string[] | undefined, signal?: AbortSignal): Promise<WorktreeRecipe> {
  const version = await git.version();
  const repository = await inspectRepository(git, cwd, signal);
  const settings = await readRepositorySettings(git, cwd, signal);
  await checkRepositoryPlace(repository, settings, roots);
  return { git, repository, settings, version };
}

function filterDriverNames(filterConfig: string[]): string[] {
  const names = filterConfig.map((pair) => pair.slice("filter.".length, pair.lastIndexOf(".")));
  return [...new Set(names)];
}

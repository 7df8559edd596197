// Which repository codex's own git sees (issue 8, "a repository planted for a later call").
//
// Security: codex (0.169, 0.171) runs `git status` (and a few other read commands) in its --cd directory at every
// turn start, OUTSIDE its sandbox, with the user's git and config. Git finds the repository by walking up from that
// directory, so whichever `.git` it meets first decides which config is read, and a repository's config can name
// programs (`filter.<x>.clean`, `core.fsmonitor`, `diff.<x>.textconv` ...) that this `git status` runs unsandboxed.
// Codex's workspace-write sandbox makes only the `.git` of the sub-agent's own cwd read-only, so a sub-agent with
// isolation "none" can `git init` any subdirectory of its cwd and define a filter there; a later call whose cwd is in
// that subdirectory would then run the planted program outside every sandbox.
//
// So the server, not git's discovery, decides which repository codex sees, and hands it over explicitly:
// - cwd's enclosing repository is found with the server's hermetic git (git.ts createGit: no program-valued key, no
//   hooks, no fsmonitor), as `rev-parse --show-toplevel --absolute-git-dir --git-common-dir`.
// - A repository whose git directory or common directory lies inside a root's subtree, other than in `<root>/.git`
//   itself, could have been planted or rewritten by a sub-agent working in that root: it is refused for isolation
//   "none" (worktree and mirror never let codex see it). `<root>/.git` (and what is below it: a linked worktree's or
//   a submodule's admin directory) is writable only by a sub-agent whose cwd is the root itself, and codex makes
//   exactly that `.git` read-only. A root nested inside another root is inside the outer root's subtree, so its
//   `.git` counts as plantable (a writer in the outer root can write it).
// - An accepted repository is passed as GIT_DIR and GIT_WORK_TREE, so git never discovers a `.git` planted anywhere
//   below; with no repository, GIT_DIR names a path that does not exist (inside the run's private directory), so
//   codex's git finds none (codex runs with --skip-git-repo-check, so "not a git repository" is fine).
// These two variables also reach the commands the sub-agent runs (inside its sandbox): its `git` works on the
// repository the server chose, whatever directory it runs in.
import { realpath } from "node:fs/promises";
import path from "node:path";
import { isWithin } from "../policy/roots.ts";
import type { Git } from "./git.ts";
import { WorkspaceError } from "./types.ts";

/** What rev-parse said about cwd's repository, or null when cwd is in none. */
export interface FoundRepository {
  topLevel: string;
  gitDir: string;
  commonDir: string;
}

/**
 * Pure: the root whose subtree makes `repo` plantable, or undefined when codex may see it. A git directory (or common
 * directory) strictly inside a root and not within `<root>/.git` could have been written by a sandboxed sub-agent.
 */
export function plantableBy(repo: FoundRepository, roots: readonly string[]): { root: string; dir: string } | undefined {
  for (const dir of [repo.gitDir, repo.commonDir]) {
    for (const root of roots) {
      if (dir !== root && isWithin(dir, root) && !isWithin(dir, path.join(root, ".git"))) return { root, dir };
    }
  }
  return undefined;
}

/** The environment that shows codex's git no repository at all: GIT_DIR at a path that does not exist. */
export function noRepositoryEnv(runDir: string): Record<string, string> {
  return { GIT_DIR: path.join(runDir, "no-repository-here") };
}

/** The environment that shows codex's git exactly `repo`. */
export function repositoryEnv(repo: FoundRepository): Record<string, string> {
  return { GIT_DIR: repo.gitDir, GIT_WORK_TREE: repo.topLevel };
}

/** cwd's enclosing repository, found with the hermetic git; null when there is none (or git cannot tell). */
export async function findRepository(git: Git, cwd: string, signal?: AbortSignal): Promise<FoundRepository | null> {
  const result = await git.run(
    ["rev-parse", "--path-format=absolute", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"],
    { cwd, signal, timeoutMs: 30_000 },
  );
  if (result.exitCode !== 0) return null; // not a repository, a bare one, or one git refuses (safe.directory)
  const [topLevel, gitDir, commonDir] = result.stdout.toString("utf8").split("\n");
  if (!topLevel || !gitDir || !commonDir) return null;
  const real = (p: string) => realpath(p).catch(() => path.resolve(p));
  return { topLevel: await real(topLevel), gitDir: await real(gitDir), commonDir: await real(commonDir) };
}

/**
 * For isolation "none": the GIT_DIR/GIT_WORK_TREE codex gets. Throws a WorkspaceError (shown to the caller) for a
 * repository a sub-agent could have planted. When git is missing, codex's git cannot run either: no repository.
 */
export async function codexGitEnvForNone(options: { git: Git; cwd: string; roots: readonly string[]; runDir: string; signal?: AbortSignal }): Promise<Record<string, string>> {
  let repo: FoundRepository | null;
  try {
    repo = await findRepository(options.git, options.cwd, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    repo = null;
  }
  if (repo === null) return noRepositoryEnv(options.runDir);
  const plantable = plantableBy(repo, options.roots);
  if (plantable) {
    throw new WorkspaceError(
      `cwd "${options.cwd}" is in the git repository "${repo.topLevel}", whose git directory "${plantable.dir}" lies inside the root "${plantable.root}" ` +
        `but is not "${path.join(plantable.root, ".git")}": a sub-agent working in that root could have made it, and codex runs git there ` +
        `outside its sandbox, so isolation "none" is refused. Use isolation "worktree" or "mirror", or make that repository its own --root (not inside another root)`,
    );
  }
  return repositoryEnv(repo);
}

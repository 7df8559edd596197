// Which repository codex's own git sees, against the threat of a repository planted for a later call.
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
// - It is refused for isolation "none" (worktree and mirror never let codex see it) only when a sub-agent could have
//   planted or rewritten its git directory or common directory. Who can write a place is known: an in-place writer
//   (isolation "none", a writable sandbox) writes below its own cwd, except `<cwd>/.git` and `<cwd>/.codex`, which
//   codex keeps read-only for its run (even when they do not exist yet: measured with 0.169 and 0.171); worktree and
//   mirror runs write only in private copies; and every workspace-write sandbox writes /tmp and $TMPDIR. Every
//   in-place writer's cwd is on record before its codex starts, in the never-pruned ledger that every server and `run`
//   on this CODEX_HOME share (runs/writer-ledger.ts). So a git directory is refused when the directory that holds its
//   `.git` lies strictly below a recorded writer cwd (a git directory not inside any `.git`, such as a
//   `--separate-git-dir`, when it lies anywhere within one). Nothing else is: a project below a root that no writer
//   ever worked above is served, which is the README's own set-up (a root that is the parent of the user's projects).
// - In /tmp and $TMPDIR any sub-agent may write, whatever its cwd, so the ledger cannot vouch for anything there; only
//   a root's own `<root>/.git` is accepted there (roots there are warned about at start-up and by doctor).
// - An accepted repository is passed as GIT_DIR and GIT_WORK_TREE, so git never discovers a `.git` planted anywhere
//   below; with no repository, GIT_DIR names a path that does not exist (inside the run's private directory), so
//   codex's git finds none (codex runs with --skip-git-repo-check, so "not a git repository" is fine).
// These two variables also reach the commands the sub-agent runs (inside its sandbox): its `git` works on the
// repository the server chose, whatever directory it runs in.
import { realpath } from "node:fs/promises";
import path from "node:path";
import { isWithin } from "../policy/roots.ts";
import { sandboxTmpDirs } from "../policy/tmp-roots.ts";
import type { Git } from "./git.ts";
import { plantableIn, type WriterLedger } from "../runs/writer-ledger.ts";
import { WorkspaceError } from "./types.ts";

/** What rev-parse said about cwd's repository, or null when cwd is in none. */
export interface FoundRepository {
  topLevel: string;
  gitDir: string;
  commonDir: string;
}

/** What may have planted a repository's git directory: the directory, and why (a sentence for the refusal). */
export interface Plantable {
  dir: string;
  why: string;
}

/**
 * Pure: why `dir` (a git directory) may have been written by a sub-agent, or null. `writers` are the recorded
 * in-place writer cwds, `tmpDirs` the real /tmp and $TMPDIR, `roots` the real roots; all real paths.
 */
export function plantableGitDir(dir: string, places: { writers: readonly string[]; tmpDirs: readonly string[]; roots: readonly string[] }): string | null {
  const parts = dir.split(path.sep);
  const dotGit = parts.indexOf(".git");
  // `<holder>/.git` (and the admin directories below it) is read-only for a writer whose cwd is `<holder>` itself.
  const byWriter = dotGit > 0
    ? plantableIn(parts.slice(0, dotGit).join(path.sep) || path.sep, places.writers, [])
    : plantableIn(dir, places.writers, [], { writerCwdItself: true });
  if (byWriter) return byWriter;
  const inTmp = plantableIn(dir, [], places.tmpDirs);
  if (inTmp && !places.roots.some((root) => isWithin(dir, path.join(root, ".git")))) return `${inTmp}, and it is not a root's own .git`;
  return null;
}

/** Pure: the first of `repo`'s git directory and common directory that may have been planted, or undefined. */
export function plantableRepository(repo: FoundRepository, places: Parameters<typeof plantableGitDir>[1]): Plantable | undefined {
  for (const dir of [repo.gitDir, repo.commonDir]) {
    const why = plantableGitDir(dir, places);
    if (why) return { dir, why };
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
export async function codexGitEnvForNone(options: {
  git: Git;
  cwd: string;
  roots: readonly string[];
  runDir: string;
  /** The in-place writers ledger (runs/writer-ledger.ts); a ledger that cannot be read refuses the run. */
  writers: Pick<WriterLedger, "cwds">;
  /** The TMPDIR codex gets (the server's own). */
  tmpDir: string | undefined;
  signal?: AbortSignal;
}): Promise<Record<string, string>> {
  let repo: FoundRepository | null;
  try {
    repo = await findRepository(options.git, options.cwd, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    repo = null;
  }
  if (repo === null) return noRepositoryEnv(options.runDir);
  const places = { writers: await options.writers.cwds(), tmpDirs: await sandboxTmpDirs(options.tmpDir), roots: options.roots };
  const plantable = plantableRepository(repo, places);
  if (plantable) {
    throw new WorkspaceError(
      `cwd "${options.cwd}" is in the git repository "${repo.topLevel}", whose git directory "${plantable.dir}" a sub-agent may have made or rewritten: ` +
        `${plantable.why}; codex runs git there outside its sandbox, so isolation "none" is refused`,
      { hint: `use isolation "worktree" or "mirror" (codex then sees a copy the server made), or look at "${path.join(plantable.dir, "config")}" for programs you did not put there before you trust it` },
    );
  }
  return repositoryEnv(repo);
}

// Worktree stage 2, beside the checkout: the check of the user's own tree for uncommitted changes, which the
// sub-agent does not see (it works on HEAD). Advisory: it only adds a note, and it never writes the user's index
// (GIT_OPTIONAL_LOCKS=0, and git runs against a private git directory with the user's index read as data).
import type { Git } from "./git.ts";
import type { RepositoryInfo } from "./recipe.ts";

const MAX_DIRTY_LISTED = 1000;

/** What `git status` reports in the user's tree: modified, staged, untracked paths (`more`: list cut short). */
export interface DirtyState {
  paths: string[];
  more: boolean;
  /** The check did not finish in DIRTY_CHECK_TIMEOUT_MS. */
  timedOut?: boolean;
}

const DIRTY_CHECK_TIMEOUT_MS = 15_000;

/** `env` names the private git directory, the user's tree as GIT_WORK_TREE and the user's index (read only). */
export async function uncommittedPaths(git: Git, repository: RepositoryInfo, env: Record<string, string>, signal?: AbortSignal): Promise<DirtyState> {
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

/** The notes about the user's uncommitted changes, and about a check that did not finish. Pure. */
export function dirtyNotes(repository: RepositoryInfo, dirty: DirtyState): string[] {
  const notes: string[] = [];
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
  return notes;
}

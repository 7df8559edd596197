// After the sub-agent ran, its worktree is hostile: any entry may be a symlink, a FIFO, or a git directory planted
// to steer the git the server runs next. This walks it without following a single link and takes out what git would
// otherwise act on.
//
// Security: a `.git` directory or file below the top (at a submodule path, or at any depth) makes `git add -A` treat
// that directory as an embedded repository and read it: a `.git/HEAD` that is a FIFO hangs `add` until its timeout,
// one with no commit makes `add` fail (the patch is lost), and a `gitdir:` file points git at a directory of the
// sub-agent's choosing. We remove every such entry before git looks (the worktree is thrown away afterwards anyway)
// and say so in a note; the files beside it then come back in the patch as ordinary files. The top-level `.git`
// file is never read: the patch names GIT_DIR and GIT_WORK_TREE outright.
import { opendir, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { WorkspaceError } from "./types.ts";

export interface PlantedGitEntries {
  /** Relative paths (with `/`) of the `.git` entries removed. */
  removed: string[];
  /** Entries seen in the walk. */
  entries: number;
}

/**
 * Remove every entry named `.git` (any case: case-insensitive file systems) below the top of `root`, except the
 * top-level one. Never follows symlinks (a symlink named `.git` is removed as a link, not followed). Refuses past
 * `maxEntries` entries rather than walk for ever.
 */
export async function removePlantedGitEntries(root: string, maxEntries = 1_000_000): Promise<PlantedGitEntries> {
  const removed: string[] = [];
  let entries = 0;
  const pending: string[] = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      continue; // vanished or unreadable: git will not read it either
    }
    for await (const entry of handle) {
      entries += 1;
      if (entries > maxEntries) {
        throw new WorkspaceError(
          `the sub-agent left more than ${maxEntries} entries in its worktree, too many to collect a patch from; ` +
            `ask for a smaller change, or use isolation "none"`,
        );
      }
      const path = join(dir, entry.name);
      if (entry.name.toLowerCase() === ".git") {
        if (dir === root) continue;
        await rm(path, { recursive: true, force: true });
        removed.push(relative(root, path).split("\\").join("/"));
        continue;
      }
      if (entry.isDirectory()) pending.push(path); // a Dirent of a symlink is never a directory: links are not followed
    }
  }
  return { removed: removed.sort(), entries };
}

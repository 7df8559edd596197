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
//
// Speed: this walk lies between the sub-agent's exit and the result. One `readdirSync` per directory costs a tenth of
// an entry-by-entry async `opendir` iteration (bench/worktree.ts: 20 000 files, 1 000 directories, 14 ms against
// 140 ms), so directories are read synchronously, in slices of a few milliseconds between which other calls run.
import { readdirSync, rmSync, type Dirent } from "node:fs";
import { join, relative } from "node:path";
import { WorkspaceError } from "./types.ts";

/** How long the walk holds the event loop at a time before letting other work run. */
const SLICE_MS = 5;

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
  let sliceStart = performance.now();
  while (pending.length > 0) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    const dir = pending.pop() as string;
    let listing: Dirent[];
    try {
      listing = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // vanished or unreadable: git will not read it either
    }
    for (const entry of listing) {
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
        rmSync(path, { recursive: true, force: true });
        removed.push(relative(root, path).split("\\").join("/"));
        continue;
      }
      if (entry.isDirectory()) pending.push(path); // a Dirent of a symlink is never a directory: links are not followed
    }
  }
  return { removed: removed.sort(), entries };
}

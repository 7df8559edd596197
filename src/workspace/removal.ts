// Worktree stage 5, removal: no git command, nothing in the user's repository to undo (nothing of ours was
// registered there), only our own directory to delete, which a sub-agent may have built to resist deletion.
import { rename } from "node:fs/promises";
import { join } from "node:path";
import { removeTree } from "./hostile-tree.ts";
import type { WorkspaceLogger } from "./types.ts";

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

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
// Speed: this walk lies between the sub-agent's exit and the result. One `readdirSync` (and a few `lstat`s) per
// directory costs a seventh of an entry-by-entry async `opendir` iteration (20 000 files in 1 000 directories, in
// memory, on a loaded 2-core machine: 20 ms against 140 ms), so directories are read synchronously, in slices of a
// few milliseconds between which other calls run.
import { chmodSync, lstatSync, readdirSync, renameSync, rmdirSync, unlinkSync, type Stats } from "node:fs";
import { displayPath } from "./patch-parts.ts";
import { WorkspaceError } from "./types.ts";

/** How long the walk holds the event loop at a time before letting other work run. */
const SLICE_MS = 5;

const SLASH = Buffer.from("/");
const DOT_GIT = Buffer.from(".git");
/**
 * Files git opens by name in every directory it walks (`add -A`): a FIFO there blocks the open, and git with it.
 * Security: `.gitignore` and `.gitattributes` are opened with a plain blocking `open` (git 2.39: `open_nofollow`,
 * which refuses a link but not a FIFO), so a FIFO under either name, at any depth, hung `git add -A` until its
 * 10-minute timeout. Any entry there that is not a regular file, a directory or a link (git never stages one) goes.
 */
const GIT_OPENED = [Buffer.from(".gitignore"), Buffer.from(".gitattributes")];

export interface PlantedGitEntries {
  /** Relative paths (with `/`) of the `.git` entries removed (as displayPath writes a name that is not UTF-8). */
  removed: string[];
  /** Entries seen in the walk. */
  entries: number;
}

/** A name git would take for `.git` on a case-insensitive file system. */
function isGitName(name: Buffer): boolean {
  return name.length === 4 && name.toString("latin1").toLowerCase() === ".git";
}

/** What one directory holds that the walk acts on: its `.git`-like entries, its subdirectories (not links). */
interface Listing {
  count: number;
  gitNames: Buffer[];
  directories: Buffer[];
}

/**
 * The entries of `dir` the walk acts on (unreadable or vanished: none; git cannot list it either). A runtime that
 * cannot read back a name that is not UTF-8 (Deno) gets a refusal, not a skipped entry.
 */
function listDirectory(dir: Buffer): Listing {
  let read: ReturnType<typeof entriesOf>;
  try {
    read = entriesOf(dir);
  } catch {
    return { count: 0, gitNames: [], directories: [] };
  }
  if (read.lost) {
    throw new WorkspaceError(
      `the sub-agent left an entry whose name is not UTF-8 (${displayPath(read.lost)} in ${displayPath(dir)}), and this ` +
        `runtime cannot read such names back, so the worktree cannot be checked before git reads it; no patch is returned`,
      { hint: 'run the server as the standalone executable (or under Bun or Node), or use isolation "none"' },
    );
  }
  const listing: Listing = { count: read.entries.length, gitNames: [], directories: [] };
  for (const entry of read.entries) {
    if (isGitName(entry.name)) listing.gitNames.push(entry.name);
    else if (entry.directory) listing.directories.push(entry.name);
  }
  return listing;
}

/**
 * Security: a directory its owner (the sub-agent, the server's own user) cannot list or enter hides what lies below
 * from this walk, but not from git: git still reaches a tracked path below it by name (`lstat`), and a tracked file
 * there turned into a directory holding a planted `.git` (a FIFO as its HEAD) hung `git add -A`; such a directory
 * also made the worktree unremovable. The worktree is thrown away afterwards, so the owner's bits are given back.
 */
function letOwnerIn(dir: Buffer, info: Stats | undefined): void {
  if (!info?.isDirectory() || (info.mode & 0o700) === 0o700) return;
  try {
    chmodSync(dir, (info.mode & 0o7777) | 0o700);
  } catch {
    // not ours to change: listing it fails below, as it would for git
  }
}

/**
 * Remove every entry named `.git` (any case: case-insensitive file systems) below the top of `root`, except the
 * top-level one. Never follows symlinks (a symlink named `.git` is removed as a link, not followed). Refuses past
 * `maxEntries` entries rather than walk for ever.
 *
 * Security: paths are handled as bytes, so a directory whose name is not UTF-8 is walked too (decoded, its name
 * would not be found again, and git would meet the `.git` inside it unseen). And in each directory the file system is
 * asked for `.git` by name, the lookup git itself makes: a name that differs in bytes but that the file system takes
 * for `.git` (case folding, Unicode normalisation, ignorable code points) is found, as is one in a directory the walk
 * may enter but not list.
 */
export async function removePlantedGitEntries(root: string, maxEntries = 1_000_000, trash?: string): Promise<PlantedGitEntries> {
  const removed: Buffer[] = [];
  const top = Buffer.from(root);
  let moved = 0;
  const remove = async (relativePath: Buffer) => {
    const absolute = Buffer.concat([top, SLASH, relativePath]);
    try {
      const info = lstatSync(absolute, { throwIfNoEntry: false });
      if (!info) return;
      if (!info.isDirectory()) unlinkSync(absolute);
      else if (trash !== undefined) {
        // Security: a planted `.git` directory can hold a chain of directories thousands deep, which a recursive
        // rmSync takes minutes to hours to delete (quadratic in the depth), holding the event loop, so every call of
        // the server, the whole time. Moved out of the worktree it is out of git's sight at once; it is deleted with
        // the worktree's directory (`trash`, outside the worktree, on the same file system), off the call's path.
        letOwnerIn(absolute, info); // moving a directory rewrites its `..`, which needs its write bit
        renameSync(absolute, Buffer.concat([Buffer.from(trash), SLASH, Buffer.from(`planted-git-${moved++}`)]));
      } else await removeTree(absolute);
    } catch (error) {
      // Git must not read what is left of it (a directory made read-only, say): no patch rather than a hang.
      throw new WorkspaceError(
        `the sub-agent created git metadata at ${displayPath(relativePath)} in its worktree that could not be removed ` +
          `(${(error as NodeJS.ErrnoException).code ?? (error as Error).message}), so git cannot safely read the worktree; ` +
          `no patch is returned`,
      );
    }
    removed.push(relativePath);
  };
  let entries = 0;
  const pending: Buffer[] = [Buffer.alloc(0)]; // paths relative to root; empty: the top
  let sliceStart = performance.now();
  while (pending.length > 0) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    const dir = pending.pop() as Buffer;
    const absolute = dir.length === 0 ? top : Buffer.concat([top, SLASH, dir]);
    const below = (name: Buffer) => (dir.length === 0 ? name : Buffer.concat([dir, SLASH, name]));
    letOwnerIn(absolute, lstatSync(absolute, { throwIfNoEntry: false }));
    const listing = listDirectory(absolute);
    entries += listing.count;
    if (entries > maxEntries) {
      throw new WorkspaceError(
        `the sub-agent left more than ${maxEntries} entries in its worktree, too many to collect a patch from`,
        { hint: 'ask for a smaller change, or use isolation "none"' },
      );
    }
    for (const name of listing.gitNames) if (dir.length > 0) await remove(below(name));
    for (const name of listing.directories) pending.push(below(name));
    if (dir.length > 0 && lstatSync(Buffer.concat([absolute, SLASH, DOT_GIT]), { throwIfNoEntry: false })) await remove(below(DOT_GIT));
    for (const name of GIT_OPENED) {
      const info = lstatSync(Buffer.concat([absolute, SLASH, name]), { throwIfNoEntry: false });
      if (info && !info.isFile() && !info.isDirectory() && !info.isSymbolicLink()) await remove(below(name));
    }
  }
  return { removed: removed.map(displayPath).sort(), entries };
}

/**
 * Past this many bytes of path below the top, a directory being removed is first moved up to the top (see
 * `removeTree`). Short, because the kernel walks every component of a path at each call: 512 bytes keeps a chain
 * 50 000 deep to seconds. More than a name (255 bytes) plus the prefix a move gives, so a moved one never moves again.
 */
const FLATTEN_AT = 512;

/**
 * Every entry of `dir` by its real name (bytes), and whether it is a directory (never a link, whose Dirent is never a
 * directory). Throws if `dir` cannot be listed. Names come back decoded; one that is not UTF-8 decodes to U+FFFD and
 * would not be found again, so such a directory is read again as raw bytes and each entry looked at by its real name.
 * `lost`: a name this runtime cannot read back (Deno gives U+FFFD even as bytes).
 */
function entriesOf(dir: Buffer): { entries: { name: Buffer; directory: boolean }[]; lost?: Buffer } {
  const decoded = readdirSync(dir, { withFileTypes: true });
  if (!decoded.some((entry) => entry.name.includes("\uFFFD"))) {
    return { entries: decoded.map((entry) => ({ name: Buffer.from(entry.name), directory: entry.isDirectory() })) };
  }
  const entries: { name: Buffer; directory: boolean }[] = [];
  for (const name of readdirSync(dir, { encoding: "buffer" }) as Buffer[]) {
    const info = lstatSync(Buffer.concat([dir, SLASH, name]), { throwIfNoEntry: false });
    if (!info) return { entries, lost: name };
    entries.push({ name, directory: info.isDirectory() });
  }
  return { entries };
}

/**
 * Delete `path` and everything below it, never following a link; throws what stopped it. For trees a sub-agent made.
 *
 * Security: a sub-agent's tree is built to resist removal. A directory with its owner's bits taken away (`chmod 500`)
 * made a recursive `rm` fail, and the worktree stayed in the private work directory for good; a chain of directories
 * tens of thousands deep, cheap to make with relative paths, kept `rm`'s recursive removal busy for hours (its cost
 * grows with the square of the depth) and past PATH_MAX no path reaches the bottom at all. Here the owner's bits are
 * given back first, names are bytes, and a directory whose path grows past FLATTEN_AT bytes is moved up to the top
 * (one rename) and deleted from there, so no path is ever long and the cost is linear. Runs in slices of a few
 * milliseconds, so other calls go on meanwhile.
 */
export async function removeTree(path: string | Buffer): Promise<void> {
  const top = Buffer.from(path);
  const info = lstatSync(top, { throwIfNoEntry: false });
  if (!info) return;
  if (!info.isDirectory()) return unlinkSync(top);
  const stack: Buffer[] = [top];
  let flattened = 0;
  const freeName = (): Buffer => {
    for (;;) {
      const candidate = Buffer.concat([top, SLASH, Buffer.from(`.flattened-${flattened++}`)]);
      if (!lstatSync(candidate, { throwIfNoEntry: false })) return candidate;
    }
  };
  let sliceStart = performance.now();
  while (stack.length > 0) {
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    const dir = stack[stack.length - 1] as Buffer;
    letOwnerIn(dir, lstatSync(dir, { throwIfNoEntry: false }));
    let descended = false;
    const { entries, lost } = entriesOf(dir);
    if (lost) throw new Error(`cannot read back the name ${displayPath(lost)} in ${displayPath(dir)} on this runtime`);
    for (const entry of entries) {
      const child = Buffer.concat([dir, SLASH, entry.name]);
      if (!entry.directory) unlinkSync(child);
      else if (child.length - top.length > FLATTEN_AT) {
        letOwnerIn(child, lstatSync(child, { throwIfNoEntry: false })); // moving a directory rewrites its `..`
        renameSync(child, freeName()); // listed again when the top is
      } else {
        stack.push(child);
        descended = true;
      }
    }
    // Emptied (its subdirectories are gone once it is on top of the stack again, then listed empty).
    if (!descended) {
      rmdirSync(dir);
      stack.pop();
    }
  }
}

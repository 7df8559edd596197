// Opening what the mirror copies, when someone may be changing the tree meanwhile.
// Security: the copy runs while other sub-agents (a workspace-write run with isolation "none" in the same root)
// may write the tree. An entry the directory listing called a file can be a FIFO by the time it is opened (opening it
// would block the set-up, and the call, forever) or a symlink (following it would copy a file from outside cwd into
// the mirror, where the sub-agent reads it); a directory on the path can become a symlink out of cwd. So:
// - every entry is opened with O_NOFOLLOW | O_NONBLOCK (a symlink fails with ELOOP, a FIFO opens without waiting), and
//   what was opened is checked by fstat on the handle: only a regular file is copied, from that handle;
// - directories are opened with O_DIRECTORY | O_NOFOLLOW and listed through the handle;
// - on Linux, the handle's real path (/proc/self/fd/N) must lie inside cwd, which also catches a directory higher up
//   the path swapped for a symlink after it was listed. Elsewhere the path is resolved again and compared with the
//   handle's device and inode (a narrower window, named in SECURITY.md).
import { constants, type Stats } from "node:fs";
import { open, readlink, realpath, stat, type FileHandle } from "node:fs/promises";
import { isWithin } from "../policy/roots.ts";

export type Opened =
  | { kind: "file" | "directory"; handle: FileHandle; info: Stats; procPath: string | null }
  | { kind: "changed"; why: string };

const NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Open `source` as the `expected` kind without following a link or blocking, and check it lies inside `root`. */
export async function openInside(source: string, expected: "file" | "directory", root: string): Promise<Opened> {
  let handle: FileHandle;
  try {
    handle = await open(source, NO_FOLLOW | (expected === "directory" ? constants.O_DIRECTORY : 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "ENOTDIR" || code === "EMLINK") return { kind: "changed", why: "became a symlink" };
    throw error;
  }
  try {
    const info = await handle.stat();
    const isKind = expected === "file" ? info.isFile() : info.isDirectory();
    if (!isKind) {
      await handle.close();
      return { kind: "changed", why: `is no longer a ${expected}` };
    }
    const procPath = process.platform === "linux" ? `/proc/self/fd/${handle.fd}` : null;
    const real = procPath ? await readlink(procPath) : await realpath(source);
    if (!procPath) {
      const again = await stat(real);
      if (again.dev !== info.dev || again.ino !== info.ino) {
        await handle.close();
        return { kind: "changed", why: "was replaced while it was opened" };
      }
    }
    if (!isWithin(real, root)) {
      await handle.close();
      return { kind: "changed", why: "resolves outside cwd (a directory on its path was swapped for a symlink)" };
    }
    return { kind: expected, handle, info, procPath };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/** Copy at most `size` bytes of an opened regular file into a new file `target` (mode from `mode`). */
export async function copyFromHandle(handle: FileHandle, size: number, target: string, mode: number, checkAbort: () => void): Promise<void> {
  const out = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode & 0o777);
  try {
    const buffer = Buffer.allocUnsafe(Math.min(Math.max(size, 1), 1024 * 1024));
    let done = 0;
    while (done < size) {
      checkAbort();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - done), done);
      if (bytesRead === 0) break; // the file shrank meanwhile: copy what there is
      await out.write(buffer, 0, bytesRead);
      done += bytesRead;
    }
    await out.chmod(mode & 0o777);
  } finally {
    await out.close();
  }
}

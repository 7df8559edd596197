/**
 * Opening files a sub-agent (or anything else) could have replaced: the last-message file codex writes, the run
 * record's files, a worktree's files and the repository's small git files. The one place that reads "at most N bytes
 * of a file". Security: every open here is O_NOFOLLOW (a symlink planted at the name is refused, not followed to a
 * file of the user's) and O_NONBLOCK (a FIFO planted at the name opens at once instead of blocking the server for ever,
 * holding its slot), then fstat must say "regular file" before one byte is read or written. A refused file is data
 * (`problem`), so the caller can fail the run with a note rather than hang or throw.
 */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";

// Windows has neither flag; there a planted FIFO or symlink is not a thing a sandbox can make in our directories.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

export type SafeRead = { text: string; truncated: boolean } | { missing: true } | { problem: string };

/** What stands at `file` instead of a regular file, in words, from an open error or an fstat. */
function describeRefusal(file: string | Buffer, what: string): string {
  return `"${file}" is ${what}, not a regular file; it was not used`;
}

async function openChecked(file: string | Buffer, flags: number): Promise<{ handle: FileHandle; size: number } | { missing: true } | { problem: string }> {
  let handle: FileHandle;
  try {
    handle = await open(file, flags | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { missing: true };
    // ELOOP: the name is a symlink (O_NOFOLLOW). ENXIO: a FIFO opened for writing with no reader (O_NONBLOCK).
    if (code === "ELOOP" || code === "EMLINK") return { problem: describeRefusal(file, "a symbolic link") };
    if (code === "ENXIO") return { problem: describeRefusal(file, "a FIFO or device") };
    if (code === "EISDIR") return { problem: describeRefusal(file, "a directory") };
    return { problem: `"${file}" could not be opened (${code ?? (error as Error).message})` };
  }
  const info = await handle.stat().catch(() => null);
  if (!info?.isFile()) {
    await handle.close().catch(() => {});
    const kind = !info ? "unreadable" : info.isFIFO() ? "a FIFO" : info.isDirectory() ? "a directory" : info.isSocket() ? "a socket" : "a device or special file";
    return { problem: describeRefusal(file, kind) };
  }
  return { handle, size: info.size };
}

/** At most `limit` bytes from the start of an open file of `size` bytes; `truncated` when it holds more. */
async function readAtMost(handle: FileHandle, size: number, limit: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  // One byte past the limit, so a file that grew since fstat is still seen to be over it.
  const buffer = Buffer.alloc(Math.min(size, limit) + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return { bytes: buffer.subarray(0, Math.min(filled, limit)), truncated: filled > limit || size > limit };
}

/** Read at most `limit` bytes of a regular file as UTF-8; a missing file is `{ missing }`, anything else `{ problem }`. */
export async function readRegularFile(file: string, limit: number): Promise<SafeRead> {
  const opened = await openChecked(file, constants.O_RDONLY);
  if (!("handle" in opened)) return opened;
  try {
    const { bytes, truncated } = await readAtMost(opened.handle, opened.size, limit);
    return { text: bytes.toString("utf8"), truncated };
  } catch (error) {
    return { problem: `"${file}" could not be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  } finally {
    await opened.handle.close().catch(() => {});
  }
}

/**
 * The whole of a regular file of at most `limit` bytes, or null when it is missing, larger, a link, a FIFO, a
 * directory or unreadable. For files that are of no use cut short: JSON, a thread id, git's small files.
 */
export async function readWholeRegularFile(file: string | Buffer, limit: number): Promise<Buffer | null> {
  const opened = await openChecked(file, constants.O_RDONLY);
  if (!("handle" in opened)) return null;
  try {
    if (opened.size > limit) return null;
    const { bytes, truncated } = await readAtMost(opened.handle, opened.size, limit);
    return truncated ? null : bytes;
  } catch {
    return null;
  } finally {
    await opened.handle.close().catch(() => {});
  }
}

/**
 * The bytes of a regular file from `offset` to its end, at most `limit` of them (for following a file that grows),
 * or null when it is missing, a link, a FIFO, a directory or unreadable.
 */
export async function readRegularFileFrom(file: string, offset: number, limit: number): Promise<Buffer | null> {
  const opened = await openChecked(file, constants.O_RDONLY);
  if (!("handle" in opened)) return null;
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buffer = Buffer.alloc(256 * 1024);
    while (total < limit) {
      const { bytesRead } = await opened.handle.read(buffer, 0, Math.min(buffer.length, limit - total), offset + total);
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
      total += bytesRead;
    }
    return Buffer.concat(chunks);
  } catch {
    return null;
  } finally {
    await opened.handle.close().catch(() => {});
  }
}

/**
 * Append to a regular file that already exists (the caller made it with O_EXCL). Never creates one: a file moved away
 * is a problem, not something to make again. Resolves to a problem text, or null.
 */
export async function appendRegularFile(file: string, data: string): Promise<string | null> {
  const opened = await openChecked(file, constants.O_WRONLY | constants.O_APPEND);
  if ("missing" in opened) return `"${file}" no longer exists; it was moved or removed while the run was recorded`;
  if ("problem" in opened) return opened.problem;
  try {
    await opened.handle.writeFile(data, "utf8");
    return null;
  } catch (error) {
    return `"${file}" could not be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  } finally {
    await opened.handle.close().catch(() => {});
  }
}

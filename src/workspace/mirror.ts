// isolation "mirror": a filtered copy of cwd in a fresh directory below baseDir (the server's private run directory,
// see private-dir.ts), removed afterwards.
//
// Symlinks (decided here): a link is recreated only when its fully resolved target (realpath in the user's tree,
// so chains of links are followed the way the kernel would) lies inside cwd and is not itself left out; it is
// written as a *relative* link to that target, so inside the mirror it points at the mirror's copy, never back
// into the user's tree. Links that resolve outside cwd, dangle, loop, or lead to an excluded entry are skipped.
// Security: an absolute or `..` link copied verbatim would let the sub-agent read or write the user's real files
// (or anything else the user can reach) through the mirror; following links while copying would copy outside
// files in. Neither happens: we never follow a link while walking, and never write one that leaves the mirror.
// Sockets, FIFOs and devices are skipped (opening a FIFO would block the copy forever). The tree may change while it
// is copied (another sub-agent writing in place): every entry is opened without following links or blocking, checked
// on its handle, and copied from it (mirror-open.ts); the whole set-up has a time limit (MIRROR_SETUP_LIMIT_MS).
import { mkdir, mkdtemp, opendir, realpath, rm, stat, symlink } from "node:fs/promises";
import { copyFromHandle, openInside } from "./mirror-open.ts";
import { basename, dirname, join, relative, sep } from "node:path";
import { once } from "../once.ts";
import { isWithin } from "../policy/roots.ts";
import { mirrorExcludesPath, mirrorExclusion, type MirrorExclusion } from "./mirror-filter.ts";
import {
  DEFAULT_MIRROR_LIMITS,
  WorkspaceError,
  type MirrorLimits,
  type Workspace,
  type WorkspaceLogger,
} from "./types.ts";

/** How many file-system operations run at once (copies, stats, directory reads). */
const CONCURRENCY = 64;
/** Security: the most a mirror's set-up may take; past it the call is refused rather than left hanging. */
export const MIRROR_SETUP_LIMIT_MS = 5 * 60 * 1000;

type SkipReason = MirrorExclusion | "symlink outside cwd" | "dangling or looping symlink" | "special file" | "unreadable" | "changed while copied";

interface CopyState {
  source: string;
  limits: MirrorLimits;
  signal: AbortSignal | undefined;
  entries: number;
  bytes: number;
  /** The first error that ends the copy; every task stops starting new work once it is set. */
  error: unknown;
  skipped: Map<SkipReason, { count: number; example: string }>;
  slots: Semaphore;
  /** Date.now() past which the set-up is abandoned, and the limit it came from. */
  deadline: number;
  setupLimitMs: number;
}

export async function createMirror(
  cwd: string,
  options: { signal?: AbortSignal; limits?: Partial<MirrorLimits>; logger: WorkspaceLogger; baseDir: string; setupLimitMs?: number },
): Promise<Workspace> {
  const limits = { ...DEFAULT_MIRROR_LIMITS, ...options.limits };
  const base = await realpath(await mkdtemp(join(options.baseDir, "codex-subagents-mirror-")));
  // The copy gets cwd's own name, so the sub-agent (and codex's prompt) sees "myproject", not a random name.
  const root = join(base, basename(cwd) || "root");
  const cleanup = once(async () => {
    try {
      await rm(base, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      options.logger.warn(`workspace: could not remove mirror "${base}": ${(error as Error).message}; remove it by hand`);
    }
  });

  const state: CopyState = {
    source: cwd,
    limits,
    signal: options.signal,
    entries: 0,
    bytes: 0,
    error: undefined,
    skipped: new Map(),
    slots: new Semaphore(CONCURRENCY),
    deadline: Date.now() + (options.setupLimitMs ?? MIRROR_SETUP_LIMIT_MS),
    setupLimitMs: options.setupLimitMs ?? MIRROR_SETUP_LIMIT_MS,
  };
  try {
    await mkdir(root);
    await copyDirectory(state, cwd, root);
    if (state.error === undefined && options.signal?.aborted) state.error = abortError(options.signal);
    if (state.error !== undefined) throw state.error;
  } catch (error) {
    await cleanup();
    throw error;
  }

  return {
    mode: "mirror",
    workingDir: root,
    notes: mirrorNotes(cwd, state),
    collectPatch: async () => undefined,
    cleanup,
  };
}

async function copyDirectory(state: CopyState, sourceDir: string, targetDir: string): Promise<void> {
  const children: Promise<void>[] = [];
  await state.slots.run(async () => {
    if (state.error !== undefined) return;
    let opened;
    try {
      opened = await openInside(sourceDir, "directory", state.source);
    } catch (error) {
      if (isCode(error, "EACCES", "EPERM")) return skip(state, "unreadable", sourceDir);
      if (isCode(error, "ENOENT")) return; // vanished while we copied
      throw error;
    }
    if (opened.kind === "changed") return skip(state, "changed while copied", sourceDir);
    try {
      // Listed through the handle (Linux: /proc/self/fd/N), so a swap of the path after the open does not matter.
      const directory = await opendir(opened.procPath ?? sourceDir);
      for await (const entry of directory) {
        if (state.error !== undefined) break;
        children.push(copyEntry(state, entry, join(sourceDir, entry.name), join(targetDir, entry.name)));
      }
    } finally {
      await opened.handle.close();
    }
  }).catch((error: unknown) => fail(state, error));
  await Promise.all(children);
}

type Entry = { name: string; isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean };

async function copyEntry(state: CopyState, entry: Entry, source: string, target: string): Promise<void> {
  if (state.error !== undefined) return;
  const isLink = entry.isSymbolicLink();
  const excludedBy = isLink
    ? (mirrorExclusion(entry.name, false) ?? mirrorExclusion(entry.name, true))
    : mirrorExclusion(entry.name, entry.isDirectory());
  if (excludedBy) return skip(state, excludedBy, source);

  try {
    if (entry.isDirectory()) {
      count(state, 0, source);
      await state.slots.run(() => mkdir(target));
      await copyDirectory(state, source, target);
    } else if (entry.isFile()) {
      await state.slots.run(async () => {
        if (state.error !== undefined) return;
        const opened = await openInside(source, "file", state.source);
        if (opened.kind === "changed") return skip(state, "changed while copied", source);
        try {
          count(state, opened.info.size, source);
          await copyFromHandle(opened.handle, opened.info.size, target, opened.info.mode, () => checkTime(state));
        } finally {
          await opened.handle.close();
        }
      });
    } else if (isLink) {
      await state.slots.run(() => copySymlink(state, source, target));
    } else {
      skip(state, "special file", source);
    }
  } catch (error) {
    if (isCode(error, "EACCES", "EPERM")) return skip(state, "unreadable", source);
    if (isCode(error, "ENOENT")) return; // vanished while we copied
    fail(state, error);
  }
}

async function copySymlink(state: CopyState, source: string, target: string): Promise<void> {
  let resolved: string;
  try {
    resolved = await realpath(source);
  } catch {
    return skip(state, "dangling or looping symlink", source);
  }
  if (!isWithin(resolved, state.source)) return skip(state, "symlink outside cwd", source);
  const fromRoot = relative(state.source, resolved);
  const excludedBy = fromRoot === "" ? undefined : firstExclusion(fromRoot);
  if (excludedBy) return skip(state, excludedBy, source);
  count(state, 0, source);
  // Relative through real directories only (we never descend into links), so `..` cannot climb out of the mirror.
  const linkText = relative(dirname(source), resolved) || ".";
  const isDirectory = (await stat(resolved)).isDirectory();
  await symlink(linkText, target, isDirectory ? "dir" : "file");
}

function firstExclusion(relativePath: string): MirrorExclusion | undefined {
  if (!mirrorExcludesPath(relativePath)) return undefined;
  for (const segment of relativePath.split(sep)) {
    const reason = mirrorExclusion(segment, true) ?? mirrorExclusion(segment, false);
    if (reason) return reason;
  }
  return "credentials";
}

function checkTime(state: CopyState): void {
  if (state.signal?.aborted) throw abortError(state.signal);
  if (Date.now() > state.deadline) {
    throw new WorkspaceError(
      `mirroring cwd "${state.source}" took longer than the set-up limit of ${Math.round(state.setupLimitMs / 1000)} s (is something changing the tree?)`,
      { hint: 'choose a smaller cwd, or use isolation "worktree" or "none"' },
    );
  }
}

function count(state: CopyState, bytes: number, source: string): void {
  checkTime(state);
  state.entries += 1;
  state.bytes += bytes;
  const { maxEntries, maxBytes } = state.limits;
  if (state.entries > maxEntries || state.bytes > maxBytes) {
    const what = state.entries > maxEntries ? `more than ${maxEntries} entries` : `more than ${formatBytes(maxBytes)}`;
    throw new WorkspaceError(
      `cwd "${state.source}" is too large to mirror: ${what} (reached at "${relative(state.source, source)}"); ` +
        `the mirror limit is ${maxEntries} entries and ${formatBytes(maxBytes)}`,
      { hint: 'choose a smaller cwd, or use isolation "worktree" (a git checkout) or "none"' },
    );
  }
}

function skip(state: CopyState, reason: SkipReason, source: string): void {
  const seen = state.skipped.get(reason);
  if (seen) seen.count += 1;
  else state.skipped.set(reason, { count: 1, example: relative(state.source, source) });
}

function fail(state: CopyState, error: unknown): void {
  if (state.error === undefined) state.error = error;
}

function mirrorNotes(cwd: string, state: CopyState): string[] {
  const notes = [
    `isolation "mirror": the sub-agent worked on a copy of "${cwd}" (${state.entries} entries, ` +
      `${formatBytes(state.bytes)}); its changes to that copy were discarded.`,
  ];
  if (state.skipped.size > 0) {
    const parts = [...state.skipped].map(
      ([reason, { count, example }]) => `${reason}: ${count}${count > 1 ? ` (e.g. ${example})` : ` (${example})`}`,
    );
    notes.push(`left out of the mirror: ${parts.join("; ")}.`);
  }
  return notes;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return typeof error === "object" && error !== null && codes.includes((error as { code?: string }).code ?? "");
}

function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const error = new Error("workspace set-up was cancelled");
  error.name = "AbortError";
  return error;
}

/** At most `limit` operations in flight. */
class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await operation();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

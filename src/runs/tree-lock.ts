// The tree lock: runs that could swap a directory under one another never run at the same time, in any process.
//
// Security: codex is handed the real path of its cwd as --cd, but resolves that path again itself when it starts, and
// its sandbox's writable root is whatever the path then names. A run that can write in place (isolation "none" with a
// sandbox other than read-only) may rename any directory below its own cwd and put a symlink out of the roots in its
// place; a concurrent call whose cwd lies below would then start codex in (and make writable) the directory the link
// names. No check made by the server can close that window, because codex's own resolution comes after the last one.
// So such runs never overlap: a run that writes in place conflicts with every run whose cwd is strictly inside its
// cwd, in either order, and a conflicting run waits until the other has ended. (The writer's own cwd cannot be
// swapped by it: its parent is outside its sandbox. Roots under /tmp or $TMPDIR are writable by every sandbox; the
// server warns about those at start-up and in doctor.)
//
// The runs that must not overlap may belong to different processes: two client sessions each start a server, and
// `codex-subagents run` is a process of its own. So the claims are files, in `<work dir>/tree-locks/` (the private work
// directory of this CODEX_HOME, mode 700, out of every sandbox's reach), one a claim, held while the run runs:
//
//   <16-digit sequence>-<32 hex>.claim   {"v":1,"cwd","writesInPlace","label","owner":{pid,host,boot?,start?}}
//
// Taking a place in the queue: the file is written under a temporary name (O_CREAT|O_EXCL|O_NOFOLLOW, 0600) and
// renamed to its final name, so a reader sees a whole claim or none; its sequence is one more than the highest in the
// directory, the random part keeps names unique. Names sort in arrival order, and a claim counts only once no later
// name was there when it looked again after renaming (else it takes a new place at the end): so of any two claims,
// the later one was written after the earlier one was, and sees it. A claim waits while an earlier claim (held or
// waiting, in any process) conflicts with it; so claims are granted in arrival order, a waiting one is never overtaken
// by a later one it conflicts with, and a writer is not starved by a stream of readers. A waiting claim looks again
// when a claim of its own process ends and every 100 ms; cancelled, it leaves the queue. Released, its file is removed,
// and the directory too once it is empty (a process that finds it gone makes it again), so nothing stays behind.
// A claim whose process is known to be gone (runs/owner.ts: pid, host, and on Linux boot and start time, so a pid used
// again is not mistaken for the owner) is removed by whoever meets it; a claim of another machine (a shared
// CODEX_HOME) is never judged gone, and one that cannot be read is honoured: both fail closed.
//
// Not covered: processes using another CODEX_HOME (another work directory, so other claims), other users, other
// machines, and writers that are not runs of this program (SECURITY.md "Known limits").
import { randomBytes } from "node:crypto";
import { constants, rmdirSync, unlinkSync } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import path from "node:path";
import type { IsolationMode } from "../agents/schema.ts";
import { isWithin, PolicyError } from "../policy/roots.ts";
import type { SandboxMode } from "../policy/sandbox.ts";
import { readRegularFile } from "../safe-fs.ts";
import { currentUid, ensurePrivateDir, PRIVATE_DIR_MODE } from "../workspace/private-dir.ts";
import { WorkspaceError } from "../workspace/types.ts";
import { currentOwner, ownerGone, thisHost } from "./owner.ts";

/** What a run holds while it runs: its real cwd, and whether it can write there in place. */
export interface TreeClaim {
  cwd: string;
  writesInPlace: boolean;
  /** For the message a waiting run shows (e.g. the agent's name). */
  label: string;
}

export function writesInPlace(isolation: IsolationMode, sandbox: SandboxMode): boolean {
  return isolation === "none" && sandbox !== "read-only";
}

function strictlyInside(candidate: string, parent: string): boolean {
  return candidate !== parent && isWithin(candidate, parent);
}

/** Two claims conflict when one writes in place and the other's cwd lies strictly inside its cwd. */
export function claimsConflict(a: TreeClaim, b: TreeClaim): boolean {
  return (a.writesInPlace && strictlyInside(b.cwd, a.cwd)) || (b.writesInPlace && strictlyInside(a.cwd, b.cwd));
}

/** Why `claim` has to wait for `other` (of the process `otherPid`, when not this one), in words for the run's steps. */
export function waitReason(claim: TreeClaim, other: TreeClaim, otherPid?: number): string {
  const writer = other.writesInPlace && strictlyInside(claim.cwd, other.cwd) ? other : claim;
  const inner = writer === other ? claim : other;
  const elsewhere = otherPid === undefined ? "" : ` (in another codex-subagents process, pid ${otherPid})`;
  // The run's steps keep 200 characters: who is waited for comes first.
  return `waiting for "${other.label}"${elsewhere} to end: "${writer.label}" can write in place in ${writer.cwd} and "${inner.label}" works in ${inner.cwd} below it, ` +
    `so they do not run at the same time (a writer could swap the directory for a symlink)`;
}

/** The claims' directory inside the private work directory. */
export const TREE_LOCK_DIR = "tree-locks";
const CLAIM_NAME = /^\d{16}-[0-9a-f]{32}\.claim$/;
const TEMPORARY_PREFIX = ".tmp-";
const MAX_CLAIM_BYTES = 16 * 1024;
const POLL_MS = 100;
/** Places in the queue tried before giving up (each retry means another claim arrived in the same instant). */
const MAX_ENQUEUE_ATTEMPTS = 64;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** An earlier claim in the queue, as read from its file. */
interface QueuedClaim {
  claim: TreeClaim;
  owner: unknown;
  file: string;
}

function parseClaim(text: string, file: string): QueuedClaim | null {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (value?.v !== 1 || typeof value.cwd !== "string" || !path.isAbsolute(value.cwd) || typeof value.writesInPlace !== "boolean") return null;
    return { claim: { cwd: value.cwd, writesInPlace: value.writesInPlace, label: typeof value.label === "string" ? value.label : "another run" }, owner: value.owner, file };
  } catch {
    return null;
  }
}

export interface TreeLockOptions {
  /** How often a waiting claim looks at the queue again (a release in this process wakes it at once). */
  pollMs?: number;
}

/**
 * The tree lock of every process that uses the work directory `workDir` (`$CODEX_HOME/subagents/work`). Constructing
 * it touches nothing on disk; the directory is made (or checked) when a run first takes a claim.
 */
export class TreeLock {
  private readonly pollMs: number;
  private directory: Promise<string> | undefined;
  /** Claims read so far, by file name (a claim file never changes once it has its name). */
  private readonly read = new Map<string, QueuedClaim>();
  /** Waiting claims of this process, woken when one of this process's claims ends. */
  private readonly wakers = new Set<() => void>();
  /** This process's claims join the queue one at a time, in the order hold() was called. */
  private joining: Promise<unknown> = Promise.resolve();
  private held = 0;

  constructor(private readonly workDir: string, options: TreeLockOptions = {}) {
    this.pollMs = options.pollMs ?? POLL_MS;
  }

  /**
   * Hold `claim` until the returned release is called; wait first while an earlier claim, of any process, conflicts
   * with it. `onWait` is told why (once). Rejects with the signal's reason when aborted while waiting.
   */
  async hold(claim: TreeClaim, opts: { signal?: AbortSignal; onWait?: (reason: string) => void } = {}): Promise<() => void> {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const joined = this.joining.then(async () => {
      const dir = await this.ready();
      return { dir, file: await this.enqueue(dir, claim) };
    });
    this.joining = joined.catch(() => {});
    const { dir, file } = await joined;
    try {
      let told = false;
      for (;;) {
        const blocker = await this.blockerOf(dir, path.basename(file), claim);
        if (!blocker) break;
        if (!told) opts.onWait?.(await this.reasonFor(claim, blocker));
        told = true;
        await this.pause(opts.signal);
      }
    } catch (error) {
      this.remove(file);
      throw error;
    }
    this.held += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= 1;
      this.remove(file);
    };
  }

  /** Claims this process holds now (for tests). */
  get holding(): number {
    return this.held;
  }

  /**
   * The claims' directory: ours, mode 700, a real directory inside the private work directory, made when missing
   * (another process removes it when it leaves it empty). `again`: it was found gone since it was last checked.
   */
  private ready(again = false): Promise<string> {
    if (again) this.directory = undefined;
    this.directory ??= (async () => {
      const work = await ensurePrivateDir(this.workDir);
      const dir = path.join(work, TREE_LOCK_DIR);
      for (let attempt = 0; ; attempt += 1) {
        await mkdir(dir, { mode: PRIVATE_DIR_MODE }).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "EEXIST") throw error;
        });
        const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
          // Removed (empty) by another process between the two calls: make it again.
          if (error.code === "ENOENT" && attempt < 16) return null;
          throw error;
        });
        if (info === null) continue;
        const uid = currentUid();
        if (info.isSymbolicLink() || !info.isDirectory() || (uid !== undefined && info.uid !== uid)) {
          throw new WorkspaceError(`the tree lock's directory "${dir}" is not a directory of this user's`, { hint: "remove it (the server makes it again)" });
        }
        if (process.platform !== "win32" && (info.mode & 0o077) !== 0) await chmod(dir, PRIVATE_DIR_MODE);
        return dir;
      }
    })();
    // A directory that could not be made is tried again by the next claim.
    this.directory.catch(() => { this.directory = undefined; });
    return this.directory;
  }

  /** The claim files in the directory, in arrival order; the cache forgets those that are gone. */
  private async queue(dir: string): Promise<string[]> {
    const names = (await readdir(dir)).filter((name) => CLAIM_NAME.test(name)).sort();
    const present = new Set(names);
    for (const name of this.read.keys()) if (!present.has(name)) this.read.delete(name);
    return names;
  }

  /** Take a place at the end of the queue: a claim file no later one had overtaken when it looked again. */
  private async enqueue(dir: string, claim: TreeClaim): Promise<string> {
    const body = `${JSON.stringify({ v: 1, cwd: claim.cwd, writesInPlace: claim.writesInPlace, label: claim.label, owner: await currentOwner() })}\n`;
    for (let attempt = 0; attempt < MAX_ENQUEUE_ATTEMPTS; attempt += 1) {
      // The temporary file keeps the directory from being removed (it is not empty) until the claim is in place.
      const temporary = path.join(dir, `${TEMPORARY_PREFIX}${process.pid}-${randomBytes(8).toString("hex")}`);
      const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return null;
        throw error;
      });
      if (handle === null) {
        dir = await this.ready(true);
        continue;
      }
      if (attempt === 0) await this.removeLeftovers(dir);
      const last = (await this.queue(dir)).at(-1);
      const sequence = (last === undefined ? 0 : Number(last.slice(0, 16))) + 1;
      const name = `${String(sequence).padStart(16, "0")}-${randomBytes(16).toString("hex")}.claim`;
      try {
        try {
          await handle.writeFile(body, "utf8");
        } finally {
          await handle.close();
        }
        await rename(temporary, path.join(dir, name));
      } catch (error) {
        await unlink(temporary).catch(() => {});
        throw error;
      }
      if ((await this.queue(dir)).at(-1) === name) return path.join(dir, name);
      // A claim with a later name was there already: it may have looked before this one existed. Go to the end.
      this.remove(path.join(dir, name));
    }
    throw new WorkspaceError(`could not take a place in the tree lock's queue in "${dir}" after ${MAX_ENQUEUE_ATTEMPTS} tries (claims kept arriving at the same instant); nothing ran`, { hint: "retry" });
  }

  /** The claim in file `name`, "unreadable", or undefined when it is gone; a claim read once is remembered. */
  private async claimIn(dir: string, name: string): Promise<QueuedClaim | "unreadable" | undefined> {
    const known = this.read.get(name);
    if (known) return known;
    const file = path.join(dir, name);
    const text = await readRegularFile(file, MAX_CLAIM_BYTES);
    if ("missing" in text) return undefined;
    const claim = "text" in text && !text.truncated ? parseClaim(text.text, file) : null;
    if (!claim) return "unreadable";
    this.read.set(name, claim);
    return claim;
  }

  /** The first earlier claim that conflicts with `claim` and whose process may still run; gone owners' are removed. */
  private async blockerOf(dir: string, mine: string, claim: TreeClaim): Promise<QueuedClaim | "unreadable" | undefined> {
    for (const name of await this.queue(dir)) {
      if (name >= mine) return undefined;
      const other = await this.claimIn(dir, name);
      if (other === undefined) continue;
      // Security: fail closed; a claim that cannot be read may be a writer's.
      if (other === "unreadable") return other;
      if (!claimsConflict(claim, other.claim)) continue;
      if (await ownerGone(other.owner)) {
        await unlink(other.file).catch(() => {});
        this.read.delete(name);
        continue;
      }
      return other;
    }
    return undefined;
  }

  private async reasonFor(claim: TreeClaim, blocker: QueuedClaim | "unreadable"): Promise<string> {
    if (blocker === "unreadable") {
      return `waiting: the tree lock in "${this.workDir}" holds a claim file that cannot be read; this call starts once it is gone (remove files in tree-locks/ only when no codex-subagents process is running)`;
    }
    const owner = blocker.owner as { pid?: unknown } | null;
    const pid = typeof owner?.pid === "number" ? owner.pid : undefined;
    return waitReason(claim, blocker.claim, pid !== undefined && pid !== process.pid ? pid : undefined);
  }

  /** Until the next look: the poll interval, a release in this process, or the signal (which rejects). */
  private pause(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        signal?.removeEventListener("abort", onAbort);
      };
      const wake = () => {
        finish();
        resolve();
      };
      const onAbort = () => {
        finish();
        reject(signal?.reason);
      };
      const timer = setTimeout(wake, this.pollMs);
      this.wakers.add(wake);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Remove a claim file (synchronously: a release must not be lost to an exit right after it), and the directory if
   * that left it empty; then wake our waiters.
   */
  private remove(file: string): void {
    try {
      unlinkSync(file);
    } catch {
      // already gone (removed as a gone owner's claim by another process: cannot happen while we run)
    }
    try {
      rmdirSync(path.dirname(file));
    } catch {
      // not empty: other claims, or a claim being written (its temporary file)
    }
    this.read.delete(path.basename(file));
    for (const wake of [...this.wakers]) wake();
  }

  /**
   * What processes that are gone left: their claims (whatever they conflict with, so the directory empties), and
   * temporary files of a claim that was never renamed into place.
   */
  private async removeLeftovers(dir: string): Promise<void> {
    for (const name of await readdir(dir)) {
      if (CLAIM_NAME.test(name)) {
        const claim = await this.claimIn(dir, name);
        if (claim && claim !== "unreadable" && (await ownerGone(claim.owner))) {
          await unlink(claim.file).catch(() => {});
          this.read.delete(name);
        }
        continue;
      }
      if (!name.startsWith(TEMPORARY_PREFIX)) continue;
      const pid = Number(name.slice(TEMPORARY_PREFIX.length).split("-")[0]);
      if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
      if (await ownerGone({ pid, host: thisHost() })) await unlink(path.join(dir, name)).catch(() => {});
    }
  }
}

/**
 * Hold the claim for the directory a run will really use. The claim is taken for the cwd as last checked, then the
 * cwd is resolved again under it: a writer that swapped the path before the claim was granted may have left it
 * naming another directory, and then the claim is taken again for that one (a few times at most). Errors from
 * `resolve` pass through, with nothing held.
 */
export async function holdResolvedCwd(
  lock: Pick<TreeLock, "hold">,
  checkedCwd: string,
  resolve: () => Promise<string>,
  claimFor: (cwd: string) => TreeClaim,
  opts: { signal?: AbortSignal; onWait?: (reason: string) => void } = {},
): Promise<{ cwd: string; release: () => void }> {
  let claimed = checkedCwd;
  for (let attempt = 0; ; attempt += 1) {
    const release = await lock.hold(claimFor(claimed), opts);
    let cwd: string;
    try {
      cwd = await resolve();
    } catch (error) {
      release();
      throw error;
    }
    if (cwd === claimed || attempt >= 3) {
      if (cwd === claimed) return { cwd, release };
      release();
      throw new PolicyError(`cwd kept changing while the call waited (it resolved to "${claimed}", now to "${cwd}": a directory on the path is being replaced); nothing ran`, { hint: "retry when nothing is moving directories there" });
    }
    release();
    claimed = cwd;
  }
}

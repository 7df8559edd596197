// The tree lock of the run table (issue 8, security review finding B: "the cwd can be swapped after the last check").
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
// Pure apart from timers and promises: claims are granted in arrival order (a waiting claim is never overtaken by a
// later one it conflicts with, so a writer is not starved by a stream of readers).
import type { IsolationMode } from "../agents/schema.ts";
import { isWithin, PolicyError } from "../policy/roots.ts";
import type { SandboxMode } from "../policy/sandbox.ts";

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

/** Why `claim` has to wait for `other`, in words for the run's steps. */
export function waitReason(claim: TreeClaim, other: TreeClaim): string {
  const writer = other.writesInPlace && strictlyInside(claim.cwd, other.cwd) ? other : claim;
  const inner = writer === other ? claim : other;
  return `waiting: "${writer.label}" can write in place in ${writer.cwd} and "${inner.label}" works in ${inner.cwd} below it, ` +
    `so they do not run at the same time (a writer could swap the directory for a symlink); this call starts when "${other.label}" ends`;
}

interface Waiter {
  claim: TreeClaim;
  grant: () => void;
}

export class TreeLock {
  private readonly held = new Set<TreeClaim>();
  private readonly waiting: Waiter[] = [];

  /**
   * Hold `claim` until the returned release is called; wait first while a held claim, or an earlier waiting one,
   * conflicts with it. `onWait` is told why (once). Rejects with the signal's reason when aborted while waiting.
   */
  hold(claim: TreeClaim, opts: { signal?: AbortSignal; onWait?: (reason: string) => void } = {}): Promise<() => void> {
    const release = () => {
      if (this.held.delete(claim)) this.grantWaiting();
    };
    const blocker = this.blockerOf(claim, this.waiting.length);
    if (!blocker) {
      this.held.add(claim);
      return Promise.resolve(release);
    }
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    opts.onWait?.(waitReason(claim, blocker));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        claim,
        grant: () => {
          opts.signal?.removeEventListener("abort", onAbort);
          this.held.add(claim);
          resolve(release);
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index !== -1) this.waiting.splice(index, 1);
        this.grantWaiting();
        reject(opts.signal?.reason);
      };
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** A held claim, or one of the first `before` waiting ones, that conflicts with `claim`. */
  private blockerOf(claim: TreeClaim, before: number): TreeClaim | undefined {
    for (const other of this.held) if (claimsConflict(claim, other)) return other;
    for (const waiter of this.waiting.slice(0, before)) if (claimsConflict(claim, waiter.claim)) return waiter.claim;
    return undefined;
  }

  private grantWaiting(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const waiter = this.waiting[i]!;
      if (this.blockerOf(waiter.claim, i)) {
        i += 1;
        continue;
      }
      this.waiting.splice(i, 1);
      waiter.grant();
    }
  }

  /** Claims held now (for tests and get_run). */
  get holding(): number {
    return this.held.size;
  }
}

/**
 * Hold the claim for the directory a run will really use. The claim is taken for the cwd as last checked, then the
 * cwd is resolved again under it: a writer that swapped the path before the claim was granted may have left it
 * naming another directory, and then the claim is taken again for that one (a few times at most). Without a lock
 * (unit tests) it only resolves. Errors from `resolve` pass through, with nothing held.
 */
export async function holdResolvedCwd(
  lock: Pick<TreeLock, "hold"> | undefined,
  checkedCwd: string,
  resolve: () => Promise<string>,
  claimFor: (cwd: string) => TreeClaim,
  opts: { signal?: AbortSignal; onWait?: (reason: string) => void } = {},
): Promise<{ cwd: string; release: () => void }> {
  if (!lock) return { cwd: await resolve(), release: () => {} };
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
      throw new PolicyError(`cwd kept changing while the call waited (it resolved to "${claimed}", now to "${cwd}": a directory on the path is being replaced); nothing ran. Retry when nothing is moving directories there`);
    }
    release();
    claimed = cwd;
  }
}

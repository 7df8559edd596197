/**
 * Stage two: ending a child. The one process-group kill in codex-subagents: SIGTERM to the whole group, a grace
 * period, then SIGKILL to the group.
 */
import { OWN_PROCESS_GROUP } from "./spawn.ts";

/** After SIGTERM, how long a child gets before SIGKILL. Keeps "ended within 5 s" with room to spare. */
export const KILL_GRACE_MS = 2000;

/** Send `signal` to the process group `pid` leads (to `pid` alone on Windows). Never throws: gone is gone. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    // Security: a negative pid signals the whole process group the child leads (it was spawned detached), so the
    // commands it started die with it: a sub-agent's shell commands, git's checkout workers. Killing only the child
    // would leave them running, or writing into a worktree that is being removed.
    if (OWN_PROCESS_GROUP) process.kill(-pid, signal);
    else process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

export interface Terminator {
  /** SIGTERM to the group now, SIGKILL after the grace; a second call changes nothing. */
  terminate(): void;
  /** Whether terminate() was called. */
  readonly terminating: boolean;
  /** Stop the pending SIGKILL (the child is gone). */
  dispose(): void;
}

/**
 * A terminator for the group `pid` leads. SIGTERM first: git removes what it half-created (an `index.lock`, a
 * half-written worktree file) on SIGTERM, not on SIGKILL, and codex ends its own commands; SIGKILL follows for a child
 * that ignores SIGTERM or is still running when the grace is over.
 */
export function groupTerminator(pid: number | undefined, graceMs: number = KILL_GRACE_MS): Terminator {
  let forceKill: ReturnType<typeof setTimeout> | undefined;
  let terminating = false;
  return {
    terminate() {
      if (terminating) return;
      terminating = true;
      signalGroup(pid, "SIGTERM");
      forceKill = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
    },
    get terminating() {
      return terminating;
    },
    dispose() {
      clearTimeout(forceKill);
    },
  };
}

import type { IsolationMode } from "../agents/schema.ts";
import type { Logger } from "../log.ts";
import { Refusal } from "../errors.ts";

export interface Workspace {
  mode: IsolationMode;
  /** Where codex runs (passed as --cd). For "none" it is the given cwd. */
  workingDir: string;
  /** Human notes for the result, e.g. that the user's tree had uncommitted changes the sub-agent did not see. */
  readonly notes: readonly string[];
  /** Variables codex's environment gets on top of the allow-list (policy/env.ts): GIT_DIR and GIT_WORK_TREE naming
   *  the one repository codex's own git may see (workspace/codex-git.ts). undefined: none added. */
  readonly codexEnv?: Readonly<Record<string, string>>;
  /** worktree: unified diff (git apply-able onto HEAD, new and deleted files and binary included) of everything the
   *  sub-agent changed ("" when nothing changed), with notes about it (files left out, binary content).
   *  none/mirror: undefined. Must not touch the user's repo, index or stash. */
  collectPatch(options?: CollectPatchOptions): Promise<CollectedPatch | undefined>;
  /** Idempotent, never throws (logs instead); removes temp dirs; for worktree: the worktree and its private git
   *  directory (no git command runs; nothing of ours is in the repository). Safe to call after a failure, timeout
   *  or cancel. */
  cleanup(): Promise<void>;
}

export interface CollectPatchOptions {
  /** The result's redactor: a binary file whose content it would change is left out of the patch. */
  redact?: (text: string) => string;
}

/** What collecting a worktree's changes gives: the patch, and what the caller should know about it. */
export interface CollectedPatch {
  readonly patch: string;
  readonly notes: readonly string[];
}

/** A refusal the user must act on. The message names the value, the rule, and what to do instead. */
export class WorkspaceError extends Refusal {
  override name = "WorkspaceError";
}

/** Where workspace code reports what it could not do (cleanup never throws). Defaults to stderr. */
export type WorkspaceLogger = Pick<Logger, "warn" | "debug">;

export const stderrLogger: WorkspaceLogger = {
  warn: (message) => void process.stderr.write(`codex-subagents: warn: ${message.replace(/\r?\n/g, "\\n")}\n`),
  debug: () => {},
};

/** Bounds on a mirror copy. */
export interface MirrorLimits {
  /** Most entries (files, directories, symlinks) copied. */
  maxEntries: number;
  /** Most file bytes copied. */
  maxBytes: number;
}

export const DEFAULT_MIRROR_LIMITS: MirrorLimits = { maxEntries: 100_000, maxBytes: 2 * 1024 * 1024 * 1024 };

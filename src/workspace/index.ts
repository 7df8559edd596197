// The isolation layer behind `delegate`: where a sub-agent works, what comes back, and cleaning up after it.
//   none      work in cwd itself; nothing to prepare or remove.
//   worktree  a checkout of cwd's repository at HEAD (worktree.ts); changes come back as a patch.
//   mirror    a filtered copy of cwd in a temporary directory (mirror.ts); changes are discarded.
// Every git command goes through git.ts; what a mirror leaves out is listed in mirror-filter.ts.
import { tmpdir } from "node:os";
import { codexGitEnvForNone, noRepositoryEnv } from "./codex-git.ts";
import { createMirror } from "./mirror.ts";
import type { IsolationMode } from "../agents/schema.ts";
import { stderrLogger, WorkspaceError, type MirrorLimits, type Workspace, type WorkspaceLogger } from "./types.ts";
import type { WorktreeDepsSetting } from "./deps.ts";
import type { Spares } from "./spares-interface.ts";
import { createWorktree } from "./worktree.ts";
import type { Git } from "./git.ts";
import type { WriterLedger } from "../runs/writer-ledger.ts";

export interface PrepareWorkspaceOptions {
  mode: IsolationMode;
  /** The git every command runs (git.ts createGit): the delegation context's, found at start-up. */
  git: Git;
  /** Already validated by the caller: absolute, realpath'ed, inside an allowed root, a directory. */
  cwd: string;
  /** Aborts set-up (kills git, stops copying) and removes whatever was made; the promise rejects. */
  signal?: AbortSignal;
  /** Where cleanup problems are reported (cleanup never throws). Default: stderr. */
  logger?: WorkspaceLogger;
  /**
   * Where the worktree or mirror directory is made. The server passes its private run directory (private-dir.ts),
   * which no sandbox can write; the default, os.tmpdir(), is for tests and benchmarks only.
   */
  baseDir?: string;
  /** worktree: the allowed roots (real paths). The repository's top level and git directories must lie inside one;
   *  undefined skips that check (the caller checked already). delegate always passes them. */
  roots?: readonly string[];
  /** mirror: bounds on the copy. Default DEFAULT_MIRROR_LIMITS (100 000 entries, 2 GiB). */
  mirrorLimits?: Partial<MirrorLimits>;
  /** worktree: the server's spare worktrees (spares.ts); one is taken and brought to HEAD instead of a new checkout. */
  spares?: Spares;
  /** worktree: dependency directories to make available (deps.ts); checked by `checkDepsUse` first. */
  worktreeDeps?: WorktreeDepsSetting;
  /**
   * none: the in-place writers ledger (runs/writer-ledger.ts), which decides whether codex may see cwd's repository
   * (codex-git.ts). Without it every repository counts as planted by a writer in its parent directory, so it is refused.
   */
  writers?: Pick<WriterLedger, "cwds">;
  /** none: the TMPDIR codex gets (every workspace-write sandbox may write it). */
  tmpDir?: string;
}

/** Fail closed when no ledger was given: the filesystem root counts as a writer's cwd, so every repository is refused. */
const EVERY_PARENT_A_WRITER: Pick<WriterLedger, "cwds"> = { cwds: async () => ["/"] };

/** Make the directory a sub-agent works in. Throws WorkspaceError (user-facing text) when the mode cannot apply. */
export async function prepareWorkspace(options: PrepareWorkspaceOptions): Promise<Workspace> {
  const logger = options.logger ?? stderrLogger;
  switch (options.mode) {
    case "none":
      return {
        mode: "none",
        workingDir: options.cwd,
        notes: [],
        // Security: codex's own unsandboxed `git status` sees only the repository chosen here (codex-git.ts).
        codexEnv: await codexGitEnvForNone({
          git: options.git, cwd: options.cwd, roots: options.roots ?? [], runDir: options.baseDir ?? tmpdir(), signal: options.signal,
          writers: options.writers ?? EVERY_PARENT_A_WRITER, tmpDir: options.tmpDir,
        }),
        collectPatch: async () => undefined,
        cleanup: async () => {},
      };
    case "mirror": {
      const mirror = await createMirror(options.cwd, { signal: options.signal, limits: options.mirrorLimits, logger, baseDir: options.baseDir ?? tmpdir() });
      // Security: the mirror has no `.git`; one the sub-agent makes there must not be found by codex's own git.
      return Object.assign(mirror, { codexEnv: noRepositoryEnv(options.baseDir ?? tmpdir()) });
    }
    case "worktree":
      return createWorktree(options.cwd, {
        git: options.git, signal: options.signal, logger, baseDir: options.baseDir ?? tmpdir(), roots: options.roots,
        spares: options.spares, deps: options.worktreeDeps,
      });
    default:
      throw new WorkspaceError(
        `isolation "${String(options.mode satisfies never)}" is not a mode`,
        { hint: 'use "none", "worktree" or "mirror"' },
      );
  }
}

// The one place in codex-subagents that runs git. Everything in src/workspace calls a Git (createGit); a reviewer who
// searches for `runProcess(` (the child-process layer, src/process) finds git started here and nowhere else.
//
// Security: the repository we run in may be untrusted (a clone from anywhere, or a directory handed over whole,
// `.git/` included), and git is full of configuration that starts programs. Threats, and what stops each:
// - Hooks (`post-checkout` on a checkout, `reference-transaction` on any ref update) running attacker code in
//   our process tree: `-c core.hooksPath=/dev/null` on every call, so no hook directory exists; and no command we
//   run in the repository itself fires a hook event at all, so hooks defined in configuration (git 2.54+,
//   `hook.<name>.command`, not gated by core.hooksPath) cannot run either (no `git worktree add`: checkout.ts writes the
//   worktree's `.git` file and private git directory itself).
// - `core.fsmonitor` naming a program (or `true`, which starts a daemon that outlives us): `-c core.fsmonitor=false`.
// - Attribute-driven programs (`filter.<x>.clean/smudge/process`, `diff.<x>.textconv/command`, `merge.<x>.driver`),
//   named by `.gitattributes` at any depth, `info/attributes` or `core.attributesFile`, and defined in any config
//   file, `[include]` files and `includeIf` sections that match inside worktrees only included. Git has no switch for
//   "no drivers", and listing drivers from one config file misses the conditional ones. So every command that reads
//   or writes a working tree (the checkout, the dirty check, the patch) runs against a git directory the server
//   wrote itself (private-git.ts) with system and global config switched off (`isolatedConfigEnv`): no config defines a driver of
//   any name, so nothing an attribute names can run. Diffs also pass `--no-ext-diff --no-textconv`.
// - Program-valued keys (`core.fsmonitor`, `core.hooksPath`, `core.sshCommand`, `core.pager`, `core.editor`,
//   `diff.external`, `gpg.program`, `core.askPass`, `credential.helper`, ...): forced off with `-c` on every call
//   (SAFETY_CONFIG); a `-c` outranks every file.
// - Submodules: never entered (`submodule.recurse=false`, `--ignore-submodules=all`, never `--recurse-submodules`).
// - Automatic `gc`/`maintenance` repacking the user's repository and leaving a detached child behind:
//   `-c gc.auto=0 -c maintenance.auto=false`.
// - Network access (submodule fetches, LFS, `protocol.*` helpers): `-c protocol.allow=never`,
//   `-c submodule.recurse=false`, and `GIT_TERMINAL_PROMPT=0` so nothing waits for a password.
// - A pager or editor: `--no-pager`; stdin is closed, so nothing can wait for input.
// - The caller's environment redirecting git at another repository or config (`GIT_DIR`, `GIT_WORK_TREE`,
//   `GIT_INDEX_FILE`, `GIT_CONFIG*`, `GIT_EXEC_PATH`, `GIT_SSH*`, `GIT_ASKPASS`, ...): every `GIT_*` variable is
//   dropped; only the few this module sets on purpose are passed.
// - A shell interpreting arguments: an argument array and `shell: false` (src/process/spawn.ts); paths follow `--`.
// - A hung or flooding git: a timeout (SIGTERM, then SIGKILL, to git's whole process group: src/process/terminate.ts)
//   and an output cap.
// What is NOT covered: a `git` on PATH that is itself malicious.
import type { RefusalParts } from "../errors.ts";
import { runProcess } from "../process/index.ts";
import { WorkspaceError } from "./types.ts";

/** The refusal when no git was found at start-up. */
export const GIT_MISSING: RefusalParts = {
  message: 'isolation "worktree" needs git, and no git executable was found in an absolute PATH directory when codex-subagents ' +
    "started (relative PATH entries are ignored)",
  hint: 'install git and start it again, or use isolation "none" or "mirror"',
};

/** Options for one git invocation. */
export interface GitOptions {
  /** Directory git runs in (`-C` is not used, so relative paths in output are relative to this). */
  cwd: string;
  /** Kill git after this long. Default 120 000 ms. */
  timeoutMs?: number;
  /** Stop capturing (and kill git) once stdout passes this many bytes; `truncated` is set. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Extra `-c key=value` pairs placed before the subcommand (after the safety settings). */
  config?: string[];
  /** Variables set for this call on top of the scrubbed environment (e.g. a temporary GIT_INDEX_FILE). */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** What one git invocation produced. A non-zero exit is data here; `Git.orThrow` turns it into an error. */
export interface GitResult {
  exitCode: number | null;
  stdout: Buffer;
  stderr: string;
  /** stdout passed `maxOutputBytes`; git was killed and `stdout` holds only the first bytes. */
  truncated: boolean;
  timedOut: boolean;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const MAX_STDERR_BYTES = 16 * 1024;

/**
 * Settings that keep git from starting other programs or touching the network, on every call. A `-c` on the command
 * line outranks every configuration file (system, global, the repository's, `[include]` and `includeIf` files alike)
 * and reaches the git children a command starts (through GIT_CONFIG_PARAMETERS), so these hold whatever any file
 * says. An empty program value makes git run nothing (`credential.helper=` also empties the helper list); `:` is
 * git's own "no editor". See the Security comment above and SECURITY.md ("Git that reads only what we trust").
 */
export const SAFETY_CONFIG: readonly string[] = [
  "core.hooksPath=/dev/null",
  "core.fsmonitor=false",
  "core.sshCommand=",
  "core.askPass=",
  "core.pager=cat",
  "core.editor=:",
  "sequence.editor=:",
  "credential.helper=",
  "diff.external=",
  "diff.submodule=short",
  "status.submoduleSummary=false",
  "gpg.program=",
  "gpg.ssh.program=",
  "gpg.x509.program=",
  "commit.gpgSign=false",
  "log.showSignature=false",
  "gc.auto=0",
  "maintenance.auto=false",
  "protocol.allow=never",
  "submodule.recurse=false",
  "fetch.recurseSubmodules=false",
];

/** A git version as three numbers, e.g. [2, 39, 5]. */
export type GitVersion = readonly [number, number, number];

/** `git version 2.39.5` (or `2.39.5.windows.1`, `2.40.0.rc1`) → [2, 39, 5]; undefined when it is not a version. */
export function parseGitVersion(text: string): GitVersion | undefined {
  const match = /git version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function versionAtLeast(version: GitVersion, major: number, minor: number): boolean {
  return version[0] > major || (version[0] === major && version[1] >= minor);
}

/**
 * Environment for a git call that must read no configuration but the git directory the server wrote itself (see
 * private-git.ts): no system config (GIT_CONFIG_NOSYSTEM, every version), no global config (GIT_CONFIG_GLOBAL,
 * git 2.32 and later; before that HOME and XDG_CONFIG_HOME point at a directory that does not exist), no system
 * attributes file (GIT_ATTR_NOSYSTEM).
 * Security: the user's global config may define filter drivers (Git LFS puts `filter.lfs.process` there) that the
 * sub-agent's `.gitattributes` could name; with no config file of anyone else read, no driver of any name exists.
 */
export function isolatedConfigEnv(version: GitVersion): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_NOSYSTEM: "1", GIT_ATTR_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  if (!versionAtLeast(version, 2, 32)) {
    env.HOME = "/nonexistent/codex-subagents-no-home";
    env.XDG_CONFIG_HOME = "/nonexistent/codex-subagents-no-home";
  }
  return env;
}

/** The environment every git child gets: ours minus every `GIT_*` variable, plus a few fixed settings. */
export function gitEnvironment(base: NodeJS.ProcessEnv, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined) continue;
    // Security: GIT_DIR/GIT_WORK_TREE/GIT_INDEX_FILE/GIT_CONFIG*/GIT_EXEC_PATH/GIT_SSH*/GIT_ASKPASS and friends
    // would point git at other repositories, config or programs. Windows spells variable names case-insensitively.
    if (name.toUpperCase().startsWith("GIT_")) continue;
    env[name] = value;
  }
  env.GIT_TERMINAL_PROMPT = "0";
  env.GIT_OPTIONAL_LOCKS = "0"; // read-only commands (status) must not rewrite the user's index
  env.LC_ALL = "C"; // stable messages to quote in errors
  return { ...env, ...extra };
}

/**
 * The git every workspace command runs. Security: which git runs is decided once, at start-up, as an absolute path
 * found in the absolute PATH entries only (codex/find.ts findGit): a bare "git" looked up at each spawn would
 * find a repository's own `git` through a relative PATH entry. It is handed to every caller explicitly (the delegation
 * context holds it), never kept in module state, so no command can run a git nobody chose.
 */
export interface Git {
  /** The executable every call runs (an absolute path), or null when none was found: every call then fails. */
  readonly program: string | null;
  /** Run `git <safety -c> <args>`. Never throws for a git failure; throws only if git cannot be started. */
  run(args: readonly string[], options: GitOptions): Promise<GitResult>;
  /** Run git and return stdout as text; throw `GitCommandError` on a non-zero exit, timeout or truncation. */
  orThrow(args: readonly string[], options: GitOptions): Promise<string>;
  /** `git --version`, asked once (the file does not change while we run); throws if git cannot be started. */
  version(): Promise<GitVersion>;
}

/** A Git running `program` (an absolute path), or one that refuses every call (null: no git was found). */
export function createGit(program: string | null): Git {
  let detectedVersion: Promise<GitVersion> | undefined;
  return {
    program,
    run: (args, options) => runGit(program, args, options),
    orThrow: async (args, options) => {
      const result = await runGit(program, args, options);
      if (result.exitCode !== 0 || result.timedOut || result.truncated) throw new GitCommandError(args, result);
      return result.stdout.toString("utf8");
    },
    version: () => {
      detectedVersion ??= runGit(program, ["--version"], { cwd: process.cwd(), timeoutMs: 30_000 }).then(
        (result) => parseGitVersion(result.stdout.toString("utf8")) ?? [0, 0, 0],
        (error: unknown) => {
          detectedVersion = undefined; // let a later call try again (git may be installed meanwhile)
          throw error;
        },
      );
      return detectedVersion;
    },
  };
}

async function runGit(program: string | null, args: readonly string[], options: GitOptions): Promise<GitResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const configArgs = [...SAFETY_CONFIG, ...(options.config ?? [])].flatMap((pair) => ["-c", pair]);
  const argv = ["--no-pager", ...configArgs, ...args];

  if (options.signal?.aborted) throw abortReason(options.signal);
  if (program === null) throw new WorkspaceError(GIT_MISSING.message, { hint: GIT_MISSING.hint });
  const result = await runProcess(program, argv, {
    cwd: options.cwd,
    env: gitEnvironment(process.env, options.env),
    // stdin is not connected: nothing git starts can wait for input.
    input: "ignore",
    // Security: git leads its own process group, so the kill reaches the children git starts (`read-tree -u` runs
    // parallel checkout workers): killing only the parent would leave them writing into a removed worktree. SIGTERM
    // first: git removes what it half-created (e.g. an `index.lock`) on SIGTERM, not on SIGKILL; SIGKILL follows if
    // it is still running 2 s later (src/process/terminate.ts).
    timeoutMs,
    signal: options.signal,
    // Past the cap git is stopped the same way, and `truncated` is set: a flooding git must not grow our memory.
    stdout: { maxBytes: maxOutputBytes, stopAtCap: true },
    stderr: { maxBytes: MAX_STDERR_BYTES },
  });
  if (result.spawnError) {
    throw new WorkspaceError(`cannot run git "${program}": ${result.spawnError.message}`, { hint: 'install git, or use isolation "none" or "mirror"' });
  }
  if (options.signal?.aborted) throw abortReason(options.signal);
  return {
    exitCode: result.exitCode,
    stdout: result.stdout.bytes,
    stderr: result.stderr.bytes.toString("utf8"),
    truncated: result.stdout.truncated,
    timedOut: result.timedOut,
  };
}

/** Thrown by `Git.orThrow` when git exits non-zero. `stderr` is git's own message. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: GitResult,
  ) {
    const why = result.timedOut ? "timed out" : `exited with ${result.exitCode}`;
    super(`git ${args.join(" ")} ${why}: ${result.stderr.trim() || "(no message)"}`);
    this.name = "GitCommandError";
  }
}

/**
 * `-c` pairs that blank every filter driver the repository's configuration defines, so checkout, status and add
 * run no clean/smudge/process program. `configListing` is the NUL-separated output of
 * `git config -z --get-regexp ^filter\.` (key, newline, value, NUL per entry).
 * Returns undefined for a driver name we cannot express as `-c` (contains `=` or a newline): refuse then.
 */
export function filterNeutralisingArgs(configListing: string): string[] | undefined {
  const drivers = new Set<string>();
  for (const entry of configListing.split("\0")) {
    if (entry === "") continue;
    const key = entry.split("\n", 1)[0] ?? "";
    const lastDot = key.lastIndexOf(".");
    if (!key.toLowerCase().startsWith("filter.") || lastDot <= "filter.".length) continue;
    drivers.add(key.slice("filter.".length, lastDot));
  }
  const pairs: string[] = [];
  for (const driver of drivers) {
    if (driver.includes("=") || driver.includes("\n")) return undefined;
    pairs.push(
      `filter.${driver}.clean=`,
      `filter.${driver}.smudge=`,
      `filter.${driver}.process=`,
      `filter.${driver}.required=false`,
    );
  }
  return pairs;
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error("workspace set-up was cancelled");
  error.name = "AbortError";
  return error;
}

/**
 * The one refusal type and the one exit-status table.
 *
 * A refusal is an error written for the user: its message names the thing and quotes the value, its hint says the
 * next step, and it carries the exit status the CLI ends with. A tool returns it as an `isError` text
 * (refusalText), the CLI prints it as `codex-subagents: error: …` then `hint: …` (cliErrorText), and the run table
 * records it as it is: never as "internal error … report this", which is kept for broken invariants.
 */

/** Exit statuses, the same for every command (README "Exit status", docs/OPERATIONS.md). */
export const EXIT_OK = 0;
/** A check failed, the sub-agent failed or timed out, or a request was refused. */
export const EXIT_FAILURE = 1;
/** Something named does not exist (a directory, an agent, a run), or --verify cannot verify. */
export const EXIT_NOT_FOUND = 2;
/** The command line is wrong (BSD sysexits EX_USAGE). */
export const EXIT_USAGE = 64;
/** `run` was interrupted by SIGINT or SIGTERM (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

export type ExitStatus = typeof EXIT_OK | typeof EXIT_FAILURE | typeof EXIT_NOT_FOUND | typeof EXIT_USAGE | typeof EXIT_INTERRUPTED;

/**
 * What is wrong and what to do, before it becomes a Refusal: what a helper returns for its caller to throw (often with
 * the caller's own prefix on the message, such as the agent's name).
 */
export interface RefusalParts {
  readonly message: string;
  readonly hint?: string | undefined;
}

export interface RefusalOptions {
  /** The next step, printed on its own `hint:` line; the message only says what is wrong. */
  hint?: string;
  /** A stable word for the kind of refusal ("usage", "policy", "not_found", …), for logs and tests. */
  code?: string;
  /** What the CLI exits with when this refusal ends a command. */
  exitStatus?: ExitStatus;
}

export class Refusal extends Error {
  override name = "Refusal";
  readonly hint: string | undefined;
  readonly code: string;
  readonly exitStatus: ExitStatus;

  constructor(message: string, options: RefusalOptions = {}) {
    super(message);
    this.hint = options.hint;
    this.code = options.code ?? "refused";
    this.exitStatus = options.exitStatus ?? EXIT_FAILURE;
  }
}

/** A wrong command line: exit 64, the message says what to write instead. */
export class UsageError extends Refusal {
  override name = "UsageError";
  constructor(message: string, options: Omit<RefusalOptions, "exitStatus"> = {}) {
    super(message, { code: "usage", ...options, exitStatus: EXIT_USAGE });
  }
}

/** Something the user named does not exist: exit 2. */
export class NotFoundError extends Refusal {
  override name = "NotFoundError";
  constructor(message: string, options: Omit<RefusalOptions, "exitStatus"> = {}) {
    super(message, { code: "not_found", ...options, exitStatus: EXIT_NOT_FOUND });
  }
}

export function isRefusal(error: unknown): error is Refusal {
  return error instanceof Refusal;
}

/**
 * What the caller is told when a call failed on a broken invariant (not a refusal: the caller logs its stack), with
 * the server still serving.
 */
export function internalError(error: unknown): RefusalParts {
  return { message: `internal error: ${(error as Error).message}; the server is still running`, hint: "retry, and report this if it repeats" };
}

/** The text a tool's `isError` result carries: the message, then the hint on its own line. */
export function refusalText(refusal: RefusalParts): string {
  return refusal.hint ? `${refusal.message}\nhint: ${refusal.hint}` : refusal.message;
}

/** What the CLI prints on stderr for a refusal (age's convention: prefixed, then a `hint:` line). */
export function cliErrorText(refusal: RefusalParts): string {
  return `codex-subagents: error: ${refusal.message}\n${refusal.hint ? `hint: ${refusal.hint}\n` : ""}`;
}

/**
 * Server options: flags and their environment variables (SPEC §2). The flag wins. Pure: argv + env in, options or a
 * usage error out.
 */
import os from "node:os";
import path from "node:path";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { isValidEnvName } from "./policy/env.ts";
import { SANDBOX_MODES, type SandboxMode } from "./policy/sandbox.ts";

export interface ServerOptions {
  agentsDir?: string;
  agentsDirEnv?: string;
  roots: string[];
  codex: string;
  timeoutS: number;
  maxConcurrency: number;
  maxSandbox: SandboxMode;
  passEnv: string[];
  maxDepth: number;
  runsDir: string;
  keepRuns: number;
  /** Spare worktrees kept per repository used in the last hour (issue 13); 0 disables them. */
  spareWorktrees: number;
  logLevel: LogLevel;
  /** --max-wait: the longest one get_run call waits, in seconds. */
  maxWaitS: number;
}

export class UsageError extends Error {
  override name = "UsageError";
}

interface OptionSpec {
  flag: string;
  env?: string;
  repeatable?: boolean;
  takesValue: boolean;
}

export const SERVER_OPTIONS: readonly OptionSpec[] = [
  { flag: "--agents-dir", env: "CODEX_SUBAGENTS_DIR", takesValue: true },
  { flag: "--root", env: "CODEX_SUBAGENTS_ROOTS", repeatable: true, takesValue: true },
  { flag: "--codex", env: "CODEX_SUBAGENTS_CODEX", takesValue: true },
  { flag: "--timeout", env: "CODEX_SUBAGENTS_TIMEOUT", takesValue: true },
  { flag: "--max-concurrency", env: "CODEX_SUBAGENTS_MAX_CONCURRENCY", takesValue: true },
  { flag: "--max-sandbox", env: "CODEX_SUBAGENTS_MAX_SANDBOX", takesValue: true },
  { flag: "--pass-env", env: "CODEX_SUBAGENTS_PASS_ENV", repeatable: true, takesValue: true },
  { flag: "--max-depth", env: "CODEX_SUBAGENTS_MAX_DEPTH", takesValue: true },
  { flag: "--runs-dir", env: "CODEX_SUBAGENTS_RUNS_DIR", takesValue: true },
  { flag: "--keep-runs", env: "CODEX_SUBAGENTS_KEEP_RUNS", takesValue: true },
  { flag: "--spare-worktrees", env: "CODEX_SUBAGENTS_SPARE_WORKTREES", takesValue: true },
  { flag: "--log-level", env: "CODEX_SUBAGENTS_LOG", takesValue: true },
  { flag: "--max-wait", env: "CODEX_SUBAGENTS_MAX_WAIT", takesValue: true },
];

/** Split argv into known option values; anything else is a usage error naming the word. */
export function collectFlags(argv: readonly string[], allowed: readonly string[], booleans: readonly string[] = []): {
  values: Map<string, string[]>;
  positionals: string[];
} {
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith("--")) {
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    const flag = eq === -1 ? word : word.slice(0, eq);
    if (booleans.includes(flag)) {
      if (eq !== -1) throw new UsageError(`${flag} takes no value; write just ${flag}`);
      values.set(flag, ["true"]);
      continue;
    }
    if (!allowed.includes(flag)) throw new UsageError(`unknown option "${flag}"; see codex-subagents --help`);
    let value: string | undefined;
    if (eq !== -1) value = word.slice(eq + 1);
    else {
      value = argv[i + 1];
      i += 1;
    }
    if (value === undefined) throw new UsageError(`${flag} needs a value, e.g. ${flag} VALUE`);
    values.set(flag, [...(values.get(flag) ?? []), value]);
  }
  return { values, positionals };
}

function parseInteger(raw: string, source: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`${source} must be a whole number from ${min} to ${max}, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new UsageError(`${source} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return value;
}

/** Codex's own home: $CODEX_HOME, else ~/.codex (profiles, auth.json and, by default, the run records live there). */
export function codexHomeOf(env: Readonly<Record<string, string | undefined>>): string {
  return env.CODEX_HOME && env.CODEX_HOME !== "" ? env.CODEX_HOME : path.join(env.HOME ?? os.homedir(), ".codex");
}

export function defaultRunsDir(env: Readonly<Record<string, string | undefined>>): string {
  return path.join(codexHomeOf(env), "subagents", "runs");
}

/** Server options from argv (after the `serve` word, if any) and the environment. */
export function parseServerOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd: string): ServerOptions {
  const { values, positionals } = collectFlags(argv, SERVER_OPTIONS.map((o) => o.flag));
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"; serve takes only options, see codex-subagents --help`);
  const one = (flag: string, envName: string): { raw: string; source: string } | undefined => {
    const fromFlag = values.get(flag);
    if (fromFlag && fromFlag.length > 1) throw new UsageError(`${flag} was given ${fromFlag.length} times; give it once`);
    if (fromFlag) return { raw: fromFlag[0]!, source: flag };
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== "") return { raw: fromEnv, source: envName };
    return undefined;
  };
  const listSeparator = process.platform === "win32" ? ";" : ":";
  const roots = values.get("--root") ?? (env.CODEX_SUBAGENTS_ROOTS ? env.CODEX_SUBAGENTS_ROOTS.split(listSeparator).filter(Boolean) : [cwd]);
  if (roots.length === 0) throw new UsageError(`CODEX_SUBAGENTS_ROOTS "${env.CODEX_SUBAGENTS_ROOTS}" names no directory; give directories separated by "${listSeparator}", or use --root DIR`);
  const passEnv = values.get("--pass-env") ?? (env.CODEX_SUBAGENTS_PASS_ENV ? env.CODEX_SUBAGENTS_PASS_ENV.split(",").map((s) => s.trim()).filter(Boolean) : []);
  for (const name of passEnv) {
    if (!isValidEnvName(name)) throw new UsageError(`--pass-env "${name}" is not a variable name; give names like MY_TOKEN`);
  }
  const sandbox = one("--max-sandbox", "CODEX_SUBAGENTS_MAX_SANDBOX");
  if (sandbox && !(SANDBOX_MODES as readonly string[]).includes(sandbox.raw)) {
    throw new UsageError(`${sandbox.source} "${sandbox.raw}" is not a sandbox mode; use one of ${SANDBOX_MODES.join(", ")}`);
  }
  let logLevel: LogLevel = env.DEBUG_MCP === "1" ? "debug" : "warn";
  const level = one("--log-level", "CODEX_SUBAGENTS_LOG");
  if (level) {
    if (!(LOG_LEVELS as readonly string[]).includes(level.raw)) throw new UsageError(`${level.source} "${level.raw}" is not a log level; use one of ${LOG_LEVELS.join(", ")}`);
    logLevel = level.raw as LogLevel;
  }
  const int = (flag: string, envName: string, fallback: number, min: number, max: number) => {
    const given = one(flag, envName);
    return given ? parseInteger(given.raw, given.source, min, max) : fallback;
  };
  const agentsFlag = values.get("--agents-dir");
  if (agentsFlag && agentsFlag.length > 1) throw new UsageError("--agents-dir was given more than once; give it once");
  const runs = one("--runs-dir", "CODEX_SUBAGENTS_RUNS_DIR");
  return {
    agentsDir: agentsFlag?.[0],
    agentsDirEnv: env.CODEX_SUBAGENTS_DIR || undefined,
    roots,
    codex: one("--codex", "CODEX_SUBAGENTS_CODEX")?.raw ?? "codex",
    timeoutS: int("--timeout", "CODEX_SUBAGENTS_TIMEOUT", 1800, 1, 7 * 24 * 3600),
    maxConcurrency: int("--max-concurrency", "CODEX_SUBAGENTS_MAX_CONCURRENCY", 4, 1, 64),
    maxSandbox: (sandbox?.raw ?? "workspace-write") as SandboxMode,
    passEnv,
    maxDepth: int("--max-depth", "CODEX_SUBAGENTS_MAX_DEPTH", 1, 0, 16),
    runsDir: path.resolve(cwd, runs?.raw ?? defaultRunsDir(env)),
    keepRuns: int("--keep-runs", "CODEX_SUBAGENTS_KEEP_RUNS", 100, 0, 100000),
    spareWorktrees: int("--spare-worktrees", "CODEX_SUBAGENTS_SPARE_WORKTREES", 1, 0, 8),
    logLevel,
    maxWaitS: int("--max-wait", "CODEX_SUBAGENTS_MAX_WAIT", 50, 1, 3600),
  };
}

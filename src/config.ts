/**
 * Server options: one table, SERVER_OPTIONS, drives parsing, `--help`, `doctor` (each value's source) and
 * the docs' tables (test/docs/options-table.test.ts checks README.md and docs/INTEGRATION.md against it). Adding an
 * option is one row here. The flag wins over its environment variable; an empty variable counts as unset.
 * Pure: argv + env in, options or a usage error out.
 */
import os from "node:os";
import path from "node:path";
import { parseFlags, type FlagTable, type ParsedFlags } from "./args.ts";
import { UsageError } from "./errors.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { ALL_MCP_SERVERS, MCP_SERVER_NAME_PATTERN, WEB_SEARCH_MODES, type CapabilityCeilings, type WebSearchMode } from "./policy/capabilities.ts";
import { isValidEnvName } from "./policy/env.ts";
import { SANDBOX_MODES, type SandboxMode } from "./policy/sandbox.ts";

type Env = Readonly<Record<string, string | undefined>>;

interface OptionContext {
  env: Env;
  cwd: string;
}

/** Where a value came from: the flag (`--codex`), its environment variable (`CODEX_SUBAGENTS_CODEX`), or the default. */
export type OptionSource = `--${string}` | `CODEX_SUBAGENTS_${string}` | "default";

export interface OptionRow<T> {
  flag: `--${string}`;
  /** What the value is, in `--help` and the docs: `--timeout SECONDS`. */
  metavar: string;
  env: `CODEX_SUBAGENTS_${string}`;
  /** The default as `--help` and the docs say it. */
  defaultText: string;
  /** The values allowed, as `--help` and the docs say them; "" when any text will do. */
  range: string;
  /** One sentence: what the option decides. */
  about: string;
  /** Given more than once, the values add up (`--root A --root B`); the variable holds a list. */
  repeatable?: boolean;
  /** A switch: the flag takes no value (`--allow-network`); its variable is `1`/`true` or `0`/`false`. */
  boolean?: boolean;
  /** A repeatable option's variable as a list. */
  splitEnv?: (text: string) => string[];
  /** The value from what was given (one text, or a repeatable option's list) and where it came from. */
  read: (texts: string[], source: OptionSource, ctx: OptionContext) => T;
  /** The value when neither the flag nor the variable is given. */
  fallback: (ctx: OptionContext) => T;
}

type Row<T> = Omit<OptionRow<T>, "read" | "fallback" | "range" | "defaultText"> & Partial<Pick<OptionRow<T>, "range" | "defaultText">>;

const text = (row: Row<string> & { fallback: string; read?: OptionRow<string>["read"] }): OptionRow<string> => ({
  range: "",
  defaultText: row.fallback,
  ...row,
  read: row.read ?? ((texts) => texts[0]!),
  fallback: () => row.fallback,
});

const integer = (row: Row<number> & { fallback: number; min: number; max: number }): OptionRow<number> => ({
  range: `${row.min} to ${row.max}`,
  defaultText: String(row.fallback),
  ...row,
  read: ([raw], source) => {
    const trimmed = raw!.trim();
    const value = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || value < row.min || value > row.max) {
      throw new UsageError(`${source} must be a whole number from ${row.min} to ${row.max}, got "${raw}"`);
    }
    return value;
  },
  fallback: () => row.fallback,
});

const choice = <T extends string>(row: Row<T> & { choices: readonly T[]; kind: string; fallback: (ctx: OptionContext) => T; defaultText: string }): OptionRow<T> => ({
  range: row.choices.join(", "),
  ...row,
  read: ([raw], source) => {
    if (!(row.choices as readonly string[]).includes(raw!)) throw new UsageError(`${source} "${raw}" is not a ${row.kind}`, { hint: `use one of ${row.choices.join(", ")}` });
    return raw as T;
  },
});

const ENV_TRUE = ["1", "true", "yes", "on"];
const ENV_FALSE = ["0", "false", "no", "off"];

/** A switch: off unless the flag is given or its variable says true. */
const flag = (row: Omit<Row<boolean>, "metavar"> & { about: string }): OptionRow<boolean> => ({
  metavar: "",
  range: "",
  defaultText: "off",
  boolean: true,
  ...row,
  read: ([raw], source) => {
    if (source.startsWith("--")) return true;
    const value = raw!.trim().toLowerCase();
    if (ENV_TRUE.includes(value)) return true;
    if (ENV_FALSE.includes(value)) return false;
    throw new UsageError(`${source} "${raw}" is not a yes or no`, { hint: "use 1 or 0 (true or false)" });
  },
  fallback: () => false,
});

const LIST_SEPARATOR = process.platform === "win32" ? ";" : ":";

/** The options of `serve` (and of `doctor` and `run`, which check or use exactly what `serve` would). */
export const SERVER_OPTIONS = {
  agentsDir: {
    flag: "--agents-dir", metavar: "DIR", env: "CODEX_SUBAGENTS_DIR", range: "",
    defaultText: "discovery",
    about: "where agent files live: ./agents, ./.codex-subagents/agents, agents/ beside the executable, ./.codex/agents, ./.claude/agents, with the embedded starters below a found one (not below one given here); must exist if given",
    read: (texts: string[]) => texts[0] as string | undefined,
    fallback: () => undefined as string | undefined,
  },
  roots: {
    flag: "--root", metavar: "DIR", env: "CODEX_SUBAGENTS_ROOTS", range: "", repeatable: true,
    defaultText: "the server's working directory",
    about: `the only directories (with their subdirectories) delegate may run in; repeatable, and the variable is a list separated by "${LIST_SEPARATOR}"`,
    splitEnv: (value: string) => value.split(LIST_SEPARATOR).filter(Boolean),
    read: (texts: string[], source: OptionSource, { env }: OptionContext) => {
      if (texts.length === 0) throw new UsageError(`${source} "${env[source] ?? ""}" names no directory`, { hint: `give directories separated by "${LIST_SEPARATOR}", or use --root DIR` });
      return texts;
    },
    fallback: ({ cwd }: OptionContext) => [cwd],
  },
  codex: text({ flag: "--codex", metavar: "PATH", env: "CODEX_SUBAGENTS_CODEX", fallback: "codex", defaultText: "codex on PATH", about: "the Codex CLI to run" }),
  timeoutS: integer({ flag: "--timeout", metavar: "SECONDS", env: "CODEX_SUBAGENTS_TIMEOUT", fallback: 1800, min: 1, max: 7 * 24 * 3600, about: "the longest a delegation may run; an agent or a call's timeout_s may only lower it" }),
  maxConcurrency: integer({ flag: "--max-concurrency", metavar: "N", env: "CODEX_SUBAGENTS_MAX_CONCURRENCY", fallback: 4, min: 1, max: 64, about: "delegations running at once; more calls wait their turn" }),
  maxSandbox: choice<SandboxMode>({
    flag: "--max-sandbox", metavar: "MODE", env: "CODEX_SUBAGENTS_MAX_SANDBOX", choices: SANDBOX_MODES, kind: "sandbox mode",
    defaultText: "workspace-write", fallback: () => "workspace-write", about: "the loosest sandbox any agent or call may get",
  }),
  passEnv: {
    flag: "--pass-env", metavar: "NAME", env: "CODEX_SUBAGENTS_PASS_ENV", range: "", repeatable: true,
    defaultText: "none",
    about: "extra environment variables codex may receive beyond the allow-list; repeatable, and the variable is a comma-separated list",
    splitEnv: (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean),
    read: (texts: string[]) => {
      for (const name of texts) if (!isValidEnvName(name)) throw new UsageError(`--pass-env "${name}" is not a variable name`, { hint: "give names like MY_TOKEN" });
      return texts;
    },
    fallback: () => [] as string[],
  },
  allowMcp: {
    flag: "--allow-mcp", metavar: "NAME", env: "CODEX_SUBAGENTS_ALLOW_MCP", range: "", repeatable: true,
    defaultText: "none",
    about: `an MCP server of your codex config that agents may be granted (their mcp_servers key); repeatable, the variable is a comma-separated list, and "${ALL_MCP_SERVERS}" allows every server`,
    splitEnv: (value: string) => value.split(",").map((s) => s.trim()).filter(Boolean),
    read: (texts: string[], source: OptionSource) => {
      for (const name of texts) {
        if (name !== ALL_MCP_SERVERS && !MCP_SERVER_NAME_PATTERN.test(name)) throw new UsageError(`${source} "${name}" is not an MCP server name`, { hint: `give a name from your codex config (letters, digits, _ . -), or "${ALL_MCP_SERVERS}" for all` });
      }
      return [...new Set(texts)];
    },
    fallback: () => [] as string[],
  },
  maxWebSearch: choice<WebSearchMode>({
    flag: "--max-web-search", metavar: "MODE", env: "CODEX_SUBAGENTS_MAX_WEB_SEARCH", choices: WEB_SEARCH_MODES, kind: "web search mode",
    defaultText: "cached", fallback: () => "cached", about: "the most web search any agent may be granted (its web_search key)",
  }),
  allowNetwork: flag({ flag: "--allow-network", env: "CODEX_SUBAGENTS_ALLOW_NETWORK", about: "let agents with network: true give their workspace-write commands outbound network; the variable is 1 or 0" }),
  maxDepth: integer({ flag: "--max-depth", metavar: "N", env: "CODEX_SUBAGENTS_MAX_DEPTH", fallback: 1, min: 0, max: 16, about: "how deeply sub-agents may nest" }),
  runsDir: {
    flag: "--runs-dir", metavar: "DIR", env: "CODEX_SUBAGENTS_RUNS_DIR", range: "",
    defaultText: "$CODEX_HOME/subagents/runs",
    about: "where run records are kept (~/.codex/subagents/runs when CODEX_HOME is unset)",
    read: ([dir]: string[], _source: OptionSource, { cwd }: OptionContext) => path.resolve(cwd, dir!),
    fallback: ({ env, cwd }: OptionContext) => path.resolve(cwd, defaultRunsDir(env)),
  },
  keepRuns: integer({ flag: "--keep-runs", metavar: "N", env: "CODEX_SUBAGENTS_KEEP_RUNS", fallback: 100, min: 0, max: 100000, about: "how many run records are kept; 0 keeps none" }),
  spareWorktrees: integer({ flag: "--spare-worktrees", metavar: "N", env: "CODEX_SUBAGENTS_SPARE_WORKTREES", fallback: 1, min: 0, max: 8, about: "spare worktrees made ahead of time per repository used in the last hour; 0 disables" }),
  maxWaitS: integer({ flag: "--max-wait", metavar: "SECONDS", env: "CODEX_SUBAGENTS_MAX_WAIT", fallback: 50, min: 1, max: 3600, about: "the longest one get_run call waits for a run to finish" }),
  logLevel: choice<LogLevel>({
    flag: "--log-level", metavar: "LEVEL", env: "CODEX_SUBAGENTS_LOG", choices: LOG_LEVELS, kind: "log level",
    defaultText: "warn", fallback: ({ env }) => (env.DEBUG_MCP === "1" ? "debug" : "warn"),
    about: "how much is logged, on stderr only; DEBUG_MCP=1 means debug",
  }),
} satisfies Record<string, OptionRow<any>>;

export type ServerOptionName = keyof typeof SERVER_OPTIONS;

type ValueOf<R> = R extends { read: (...args: any[]) => infer T } ? T : never;

export type ServerOptions = { [K in ServerOptionName]: ValueOf<(typeof SERVER_OPTIONS)[K]> } & {
  /** Where each value came from, for doctor and for `run` (whose --cwd is the root when none was named). */
  sources: Record<ServerOptionName, OptionSource>;
};

const SERVER_ROWS = Object.entries(SERVER_OPTIONS) as Array<[ServerOptionName, OptionRow<unknown>]>;

/** The flags of the server options, for parseFlags: the table of a command that also takes them. */
export const SERVER_FLAGS: FlagTable = Object.fromEntries(SERVER_ROWS.map(([, row]) => [row.flag.slice(2), { type: row.boolean ? "boolean" as const : "string" as const }]));

/** Server options from already parsed flags (a command's own flags may sit beside them) and the environment. */
export function resolveServerOptions(parsed: Pick<ParsedFlags, "values">, env: Env, cwd: string): ServerOptions {
  const ctx: OptionContext = { env, cwd };
  const values: Record<string, unknown> = {};
  const sources = {} as Record<ServerOptionName, OptionSource>;
  for (const [name, row] of SERVER_ROWS) {
    const fromFlag = parsed.values.get(row.flag);
    const fromEnv = env[row.env];
    let texts: string[] | undefined;
    let source: OptionSource = "default";
    if (fromFlag) {
      if (!row.repeatable && fromFlag.length > 1) throw new UsageError(`${row.flag} was given ${fromFlag.length} times`, { hint: "give it once" });
      [texts, source] = [fromFlag, row.flag];
    } else if (fromEnv !== undefined && fromEnv !== "") {
      [texts, source] = [row.splitEnv ? row.splitEnv(fromEnv) : [fromEnv], row.env];
    }
    values[name] = texts === undefined ? row.fallback(ctx) : row.read(texts, source, ctx);
    sources[name] = source;
  }
  return { ...(values as { [K in ServerOptionName]: ValueOf<(typeof SERVER_OPTIONS)[K]> }), sources };
}

/** Server options from argv (after the `serve` word, if any) and the environment. */
export function parseServerOptions(argv: readonly string[], env: Env, cwd: string): ServerOptions {
  const parsed = parseFlags(argv, SERVER_FLAGS);
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"; serve takes only options`, { hint: "see codex-subagents --help" });
  return resolveServerOptions(parsed, env, cwd);
}

/** What agent discovery needs: the directory named by the flag or by the variable (it names which in its messages). */
export function agentsDirsOf(options: Pick<ServerOptions, "agentsDir" | "sources">): { flagDir?: string; envDir?: string } {
  const source = options.sources.agentsDir;
  return source === SERVER_OPTIONS.agentsDir.flag ? { flagDir: options.agentsDir } : source === SERVER_OPTIONS.agentsDir.env ? { envDir: options.agentsDir } : {};
}

/** The "Server options" block of --help, from the table: flag, variable, then default; what it does (range). */
export function serverOptionsHelp(width = 118): string {
  const flagWidth = Math.max(...SERVER_ROWS.map(([, r]) => r.flag.length + 1 + r.metavar.length));
  const envWidth = Math.max(...SERVER_ROWS.map(([, r]) => r.env.length));
  const indent = 2 + flagWidth + 2 + envWidth + 2;
  const lines: string[] = [];
  for (const [, row] of SERVER_ROWS) {
    // The range stays on one line: "(1 to 64)" split over two reads badly.
    const words = [...`${row.defaultText}; ${row.about}`.split(" "), ...(row.range ? [`(${row.range})`] : [])];
    let line = `  ${`${row.flag} ${row.metavar}`.padEnd(flagWidth)}  ${row.env.padEnd(envWidth)}  `;
    let fresh = true;
    for (const word of words) {
      if (!fresh && line.length + 1 + word.length > width) {
        lines.push(line);
        line = " ".repeat(indent);
        fresh = true;
      }
      line += fresh ? word : ` ${word}`;
      fresh = false;
    }
    lines.push(line);
  }
  return lines.join("\n");
}

/** The capability ceilings the options set (policy/capabilities.ts). */
export function ceilingsOf(options: Pick<ServerOptions, "allowMcp" | "maxWebSearch" | "allowNetwork">): CapabilityCeilings {
  return { allowMcp: options.allowMcp, maxWebSearch: options.maxWebSearch, allowNetwork: options.allowNetwork };
}

/** Codex's own home: $CODEX_HOME, else ~/.codex (profiles, auth.json and, by default, the run records live there). */
export function codexHomeOf(env: Readonly<Record<string, string | undefined>>): string {
  return env.CODEX_HOME && env.CODEX_HOME !== "" ? env.CODEX_HOME : path.join(env.HOME ?? os.homedir(), ".codex");
}

export function defaultRunsDir(env: Readonly<Record<string, string | undefined>>): string {
  return path.join(codexHomeOf(env), "subagents", "runs");
}


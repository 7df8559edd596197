/**
 * doctor's look at the user's Codex entry for this server: Codex starts an MCP server with its own command, args,
 * environment and working directory, not the shell's. So when Codex's configuration (every layer, as `codex mcp list
 * --json` reports it: codex/mcp-servers.ts) has an entry that runs codex-subagents, doctor checks the server that
 * entry would start: its arguments parse, its roots exist, the variables it needs reach it (Codex passes only a few of
 * its own plus the entry's `env` and `env_vars`), and its tool timeout leaves room for a whole delegation.
 * Pure apart from the realpath and stat calls the checks make.
 */
import { realpath } from "node:fs/promises";
import path from "node:path";
import { parseFlags } from "../args.ts";
import type { McpServerEntry } from "../codex/mcp-servers.ts";
import { resolveServerOptions, SERVER_FLAGS, type ServerOptions } from "../config.ts";
import { isRefusal } from "../errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * What Codex hands a stdio MCP server from its own environment when the entry names nothing more (codex-rs
 * DEFAULT_ENV_VARS on Unix; on Windows the list is the OS basics, none of the variables doctor asks about either).
 */
export const CODEX_MCP_DEFAULT_ENV = ["HOME", "LOGNAME", "PATH", "SHELL", "USER", "__CF_USER_TEXT_ENCODING", "LANG", "LC_ALL", "TERM", "TMPDIR", "TZ"];

/** Codex's tool timeout when an entry sets none (codex's source names 300 s; a 75 s call was measured to complete). */
export const CODEX_DEFAULT_TOOL_TIMEOUT_S = 300;

/** An entry of Codex's config that starts codex-subagents, and whether it is this very file or another copy. */
export interface ServerEntry {
  entry: McpServerEntry;
  /** The program file the entry starts (the bundle for `node codex-subagents.mjs`). */
  program: string;
  thisExecutable: boolean;
}

async function real(file: string): Promise<string> {
  return realpath(file).catch(() => path.resolve(file));
}

/**
 * The entries that run codex-subagents: their command (or, for a runtime such as node, bun or deno, an argument) is
 * this executable, or a file named codex-subagents*. `self` is this program's file (undefined when run from source).
 */
export async function entriesRunningUs(servers: readonly McpServerEntry[], self: string | undefined): Promise<ServerEntry[]> {
  const selfReal = self === undefined ? undefined : await real(self);
  const found: ServerEntry[] = [];
  for (const entry of servers) {
    const command = entry.transport.command;
    if (entry.transport.type !== "stdio" || !command) continue;
    const candidates = [command, ...(/^(node|bun|deno)(\.exe)?$/i.test(path.basename(command)) ? (entry.transport.args ?? []).filter((a) => !a.startsWith("-")) : [])];
    for (const candidate of candidates) {
      const isPath = path.isAbsolute(candidate) || candidate.includes("/");
      const file = isPath ? await real(path.resolve(entry.transport.cwd ?? "/", candidate)) : candidate;
      const thisExecutable = selfReal !== undefined && isPath && file === selfReal;
      if (thisExecutable || /^codex-subagents/i.test(path.basename(file))) {
        found.push({ entry, program: file, thisExecutable });
        break;
      }
    }
  }
  return found;
}

/** The environment Codex starts the entry's server with: its defaults taken from `shell`, the entry's `env_vars`, then `env`. */
export function entryEnvironment(entry: McpServerEntry, shell: Env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...CODEX_MCP_DEFAULT_ENV, ...(entry.transport.env_vars ?? [])]) {
    const value = shell[name];
    if (value !== undefined && value !== "") env[name] = value;
  }
  return { ...env, ...(entry.transport.env ?? {}) };
}

/** The server options the entry's server would start with (its args after the program, its environment, its cwd). */
export function entryOptions(served: ServerEntry, shell: Env, cwd: string): { options: ServerOptions; env: Record<string, string>; cwd: string } | { problem: string; hint?: string | undefined } {
  const { entry, program } = served;
  const args = entry.transport.args ?? [];
  // For `node codex-subagents.mjs ARGS`, the server's own arguments follow the bundle's path.
  const at = args.findIndex((a) => path.basename(a) === path.basename(program));
  const own = at === -1 ? args : args.slice(at + 1);
  const words = own[0] === "serve" ? own.slice(1) : own;
  const env = entryEnvironment(entry, shell);
  const serverCwd = entry.transport.cwd ?? cwd;
  try {
    const parsed = parseFlags(words, SERVER_FLAGS);
    if (parsed.positionals.length > 0) return { problem: `its args have "${parsed.positionals[0]}", which the server does not take, so it would not start` };
    return { options: resolveServerOptions(parsed, env, serverCwd), env, cwd: serverCwd };
  } catch (error) {
    if (isRefusal(error)) return { problem: `its args or env would stop the server at start-up: ${error.message}`, hint: error.hint };
    throw error;
  }
}

/**
 * Variables set in the shell that the server or the codex it starts needs, which Codex would not hand to the entry's
 * server: CODEX_HOME, the OpenAI key and base URL, --pass-env names and any CODEX_SUBAGENTS_* setting.
 */
export function lostVariables(serverEnv: Env, passEnv: readonly string[], shell: Env): string[] {
  const wanted = ["CODEX_HOME", "OPENAI_API_KEY", "OPENAI_BASE_URL", ...passEnv, ...Object.keys(shell).filter((k) => k.startsWith("CODEX_SUBAGENTS_"))];
  return [...new Set(wanted)].filter((name) => shell[name] !== undefined && shell[name] !== "" && serverEnv[name] === undefined);
}

/** Why the entry's tool timeout would cut a delegation the server would still let run, or null. */
export function toolTimeoutProblem(entry: McpServerEntry, serverTimeoutS: number): string | null {
  const toolTimeoutS = entry.tool_timeout_sec ?? CODEX_DEFAULT_TOOL_TIMEOUT_S;
  if (toolTimeoutS > serverTimeoutS) return null;
  const said = entry.tool_timeout_sec === undefined || entry.tool_timeout_sec === null ? `sets no tool_timeout_sec (Codex then waits about ${CODEX_DEFAULT_TOOL_TIMEOUT_S} s)` : `has tool_timeout_sec = ${toolTimeoutS}`;
  return `it ${said}, but the server lets a delegation run ${serverTimeoutS} s (--timeout), so Codex cuts longer ones and the result is lost`;
}

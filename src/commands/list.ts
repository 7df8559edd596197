/**
 * `codex-subagents list [--agents-dir DIR] [--json]`: the agents the server would load, and from where. Exit 0, 2 when
 * a named agents directory is missing.
 */
import { EMBEDDED_AGENTS } from "../agents/embedded.ts";
import { discoverAgents, loadRegistry, type AgentsLocation } from "../agents/registry.ts";
import { formatListReport, listReport } from "../agents/report.ts";
import { jsonText } from "../escape.ts";
import { onceOf, parseFlags } from "../args.ts";
import type { CliIO } from "../cli-io.ts";
import { codexHomeOf } from "../config.ts";
import { EXIT_OK, UsageError } from "../errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** `list` and `validate` take these; the agents directory is read the way the server reads it. */
export const AGENTS_FLAGS = { "agents-dir": { type: "string" }, json: { type: "boolean" } } as const;

/** The agents directory the server would read (discovery order: agents/registry.ts discoverAgents). */
export async function locateAgents(flagDir: string | undefined, env: Env, cwd: string, programDir: string | undefined): Promise<AgentsLocation> {
  return discoverAgents({ flagDir, envDir: env.CODEX_SUBAGENTS_DIR, cwd, programDir });
}

/** `programDir`: the executable's own directory (cli.ts programDir), where agents beside it are found. */
export async function listCommand(argv: string[], io: CliIO, env: Env, cwd: string, programDir?: string): Promise<number> {
  const parsed = parseFlags(argv, AGENTS_FLAGS);
  const { values, positionals } = parsed;
  if (positionals.length) throw new UsageError(`list takes no arguments, got "${positionals[0]}"`, { hint: "to check a directory use: codex-subagents validate DIR" });
  const location = await locateAgents(onceOf(parsed, "--agents-dir"), env, cwd, programDir);
  const registry = await loadRegistry(location, EMBEDDED_AGENTS, codexHomeOf(env));
  const report = listReport(location, registry.files);
  io.out(values.has("--json") ? jsonText(report) : formatListReport(report, location.foundBy));
  return EXIT_OK;
}

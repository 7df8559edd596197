/**
 * `codex-subagents validate [DIR] [--agents-dir DIR] [--json]`: check agent files, every issue with its fix. With no DIR,
 * the directory the server would read. Exit 0 clean, 1 errors found, 2 no such directory.
 */
import path from "node:path";
import { EMBEDDED_AGENTS } from "../agents/embedded.ts";
import { addMcpServerWarnings, codexDeclaredServers } from "../agents/mcp-check.ts";
import { addEnvironmentWarnings, loadAgentsDir, loadRegistry } from "../agents/registry.ts";
import { formatValidateReport, validateReport } from "../agents/report.ts";
import { jsonText } from "../escape.ts";
import { onceOf, parseFlags } from "../args.ts";
import type { CliIO } from "../cli-io.ts";
import { codexHomeOf, SERVER_OPTIONS } from "../config.ts";
import { EXIT_FAILURE, EXIT_OK, NotFoundError, UsageError } from "../errors.ts";
import { AGENTS_FLAGS, locateAgents } from "./list.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** `programDir`: the executable's own directory (cli.ts programDir), where agents beside it are found. */
export async function validateCommand(argv: string[], io: CliIO, env: Env, cwd: string, programDir?: string): Promise<number> {
  const parsed = parseFlags(argv, AGENTS_FLAGS);
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`validate takes one directory, got ${positionals.length}`, { hint: "e.g. codex-subagents validate agents/" });
  let dir: string | null;
  let files;
  if (positionals[0] !== undefined) {
    dir = path.resolve(cwd, positionals[0]);
    files = await loadAgentsDir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return null;
      throw error;
    });
    if (files === null) {
      throw new NotFoundError(`no such directory "${positionals[0]}" (from ${cwd})`, {
        hint: "give the path of the directory that holds your agent files; codex-subagents list shows the one the server would use, and codex-subagents validate with no directory checks it",
      });
    }
    await addEnvironmentWarnings(files, codexHomeOf(env));
  } else {
    const location = await locateAgents(onceOf(parsed, "--agents-dir"), env, cwd, programDir);
    const registry = await loadRegistry(location, EMBEDDED_AGENTS, codexHomeOf(env));
    dir = location.dir;
    files = registry.files;
  }
  // A granted MCP server the user's codex config does not declare here is a warning (codex is asked:
  // agents/mcp-check.ts).
  const given = env[SERVER_OPTIONS.codex.env];
  const codex = given || SERVER_OPTIONS.codex.fallback({ env, cwd });
  await addMcpServerWarnings(files, codexDeclaredServers({ codex, source: given ? "CODEX_SUBAGENTS_CODEX" : "PATH", env, cwd }));
  const report = validateReport(dir, files);
  io.out(values.has("--json") ? jsonText(report) : formatValidateReport(report));
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

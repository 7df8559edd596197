/**
 * `codex-subagents doctor [--json] [server options]`: is this machine ready to serve delegations? The checks are
 * doctor/'s; this parses the flags and prints the report. Exit 0 healthy (warnings allowed), 1 any check failed.
 */
import { escapeControl, jsonText } from "../escape.ts";
import { parseFlags } from "../args.ts";
import type { CliIO } from "../cli-io.ts";
import { resolveServerOptions, SERVER_FLAGS } from "../config.ts";
import { runDoctor, type DoctorReport } from "../doctor/index.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "../errors.ts";

type Env = Readonly<Record<string, string | undefined>>;

export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${check.status} ${check.id}: ${check.detail}`);
    if (check.hint && check.status !== "PASS") lines.push(`hint: ${check.hint}`);
  }
  return lines.map(escapeControl).join("\n") + "\n";
}

/**
 * `doctor [--json] [server options]`; the options are the server's, so `doctor` checks exactly what `serve` would use.
 * `self`: this program's file (cli.ts selfPath), to tell Codex's entry for it from one for another copy.
 */
export async function doctorCommand(argv: string[], io: CliIO, env: Env, cwd: string, programDir?: string, self?: string): Promise<number> {
  const parsed = parseFlags(argv, { ...SERVER_FLAGS, json: { type: "boolean" } });
  if (parsed.positionals.length) throw new UsageError(`doctor takes only options, got "${parsed.positionals[0]}"`, { hint: "e.g. codex-subagents doctor --codex /path/to/codex --json" });
  const report = await runDoctor(resolveServerOptions(parsed, env, cwd), env, cwd, programDir, self);
  io.out(parsed.values.has("--json") ? jsonText(report) : formatDoctorReport(report));
  return report.healthy ? EXIT_OK : EXIT_FAILURE;
}

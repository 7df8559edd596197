/**
 * Reading run records back for `codex-subagents runs`: the newest first, one summary per run directory.
 */
import path from "node:path";
import { parseRunDirName, readRecordJson, RUN_FILES, runDirNames } from "./record.ts";

export type RunOutcome = "ok" | "failed" | "timed out" | "cancelled" | "incomplete";

export interface RunTokens {
  input_tokens: number | null;
  cached_input_tokens: number | null;
  output_tokens: number | null;
  reasoning_output_tokens: number | null;
}

export interface RunSummary {
  /** The run's id: its record directory's name, what `runs show`, `get_run` and `cancel_run` take. */
  run_id: string;
  /** When the run started (from the directory name), ISO 8601 UTC. */
  started_at: string;
  agent: string;
  dir: string;
  outcome: RunOutcome;
  exit_code: number | null;
  duration_ms: number | null;
  tokens: RunTokens | null;
  thread_id: string | null;
  isolation: string | null;
}

const numberOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const stringOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);

export function outcomeOf(result: Record<string, unknown> | null): RunOutcome {
  if (!result) return "incomplete";
  if (result.timed_out === true) return "timed out";
  if (result.cancelled === true) return "cancelled";
  return result.ok === true ? "ok" : "failed";
}

function tokensOf(usage: unknown): RunTokens | null {
  if (!usage || typeof usage !== "object") return null;
  const u = usage as Record<string, unknown>;
  return {
    input_tokens: numberOrNull(u.input_tokens),
    cached_input_tokens: numberOrNull(u.cached_input_tokens),
    output_tokens: numberOrNull(u.output_tokens),
    reasoning_output_tokens: numberOrNull(u.reasoning_output_tokens),
  };
}

/** The newest `limit` runs in `runsDir`; a directory that does not exist yet simply holds none. */
export async function listRuns(runsDir: string, limit: number): Promise<RunSummary[]> {
  const newest = (await runDirNames(runsDir)).reverse().slice(0, limit);
  const runs: RunSummary[] = [];
  for (const name of newest) {
    const parsed = parseRunDirName(name);
    if (!parsed) continue;
    const dir = path.join(runsDir, name);
    const result = await readRecordJson(path.join(dir, RUN_FILES.result));
    runs.push({
      run_id: name,
      started_at: parsed.startedAt.toISOString(),
      agent: stringOrNull(result?.agent) ?? parsed.agent,
      dir,
      outcome: outcomeOf(result),
      exit_code: numberOrNull(result?.exit_code),
      duration_ms: numberOrNull(result?.duration_ms),
      tokens: tokensOf(result?.usage),
      thread_id: stringOrNull(result?.thread_id),
      isolation: stringOrNull(result?.isolation),
    });
  }
  return runs;
}

function formatDuration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1000) return `${ms}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}

function formatTokens(tokens: RunTokens | null): string {
  if (!tokens || (tokens.input_tokens === null && tokens.output_tokens === null)) return "-";
  return `${tokens.input_tokens ?? "?"}/${tokens.output_tokens ?? "?"}`;
}

/**
 * Human text: where the records are, a header and one aligned row per run, the run id last (it is long; it is what
 * `runs show`, `get_run` and `cancel_run` take, and its record is `<runs dir>/<run id>`).
 */
export function formatRuns(runsDir: string, runs: readonly RunSummary[]): string {
  if (runs.length === 0) return `no run records in ${runsDir}\n`;
  const rows = runs.map((r) => [
    r.started_at.replace("T", " ").replace(/\.\d{3}Z$/, "Z"),
    r.agent,
    r.outcome,
    formatDuration(r.duration_ms),
    formatTokens(r.tokens),
    r.run_id,
  ]);
  const header = ["started (UTC)", "agent", "outcome", "duration", "tokens in/out", "run id"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [`run records in ${runsDir} (one step by step: codex-subagents runs show RUN_ID)`, line(header), ...rows.map(line)].join("\n") + "\n";
}

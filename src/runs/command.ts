/**
 * `codex-subagents runs [--json] [--limit N] [--runs-dir DIR]`: recent delegations from their run records;
 * `runs show RUN_ID [--follow] [--json]`: one of them step by step (show.ts).
 */
import path from "node:path";
import type { CliIO } from "../cli-io.ts";
import { collectFlags, defaultRunsDir, UsageError } from "../config.ts";
import { formatRuns, listRuns } from "./list.ts";
import { RunNotFound, showRun } from "./show.ts";

export const DEFAULT_RUNS_LIMIT = 20;

type Env = Readonly<Record<string, string | undefined>>;

function runsDirOf(values: Map<string, string[]>, env: Env, cwd: string): string {
  const given = values.get("--runs-dir")?.[0] ?? (env.CODEX_SUBAGENTS_RUNS_DIR || undefined);
  if (given === "") throw new UsageError("--runs-dir is empty; give the directory the server records runs in");
  return path.resolve(cwd, given ?? defaultRunsDir(env));
}

/** `runs show RUN_ID [--follow] [--json] [--runs-dir DIR]`. Exit 0 shown, 2 no such run, 64 usage. */
async function runsShowCommand(argv: string[], io: CliIO, env: Env, cwd: string, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = collectFlags(argv, ["--runs-dir"], ["--json", "--follow"]);
  if (positionals.length !== 1) throw new UsageError(`runs show takes one RUN_ID, got ${positionals.length}; e.g. codex-subagents runs show 20261125T031500.123Z-review-… (codex-subagents runs lists them)`);
  if ((values.get("--runs-dir")?.length ?? 0) > 1) throw new UsageError("--runs-dir was given more than once; give it once");
  const runsDir = runsDirOf(values, env, cwd);
  try {
    await showRun(runsDir, positionals[0]!, { follow: values.has("--follow"), json: values.has("--json"), out: io.out, signal });
    return 0;
  } catch (error) {
    if (!(error instanceof RunNotFound)) throw error;
    io.err(`codex-subagents: ${error.message}\n`);
    return 2;
  }
}

export async function runsCommand(argv: string[], io: CliIO, env: Env, cwd = process.cwd(), signal?: AbortSignal): Promise<number> {
  if (argv[0] === "show") return runsShowCommand(argv.slice(1), io, env, cwd, signal);
  const { values, positionals } = collectFlags(argv, ["--limit", "--runs-dir"], ["--json"]);
  if (positionals.length) throw new UsageError(`runs takes no arguments, got "${positionals[0]}"; e.g. codex-subagents runs --limit 10`);
  for (const flag of ["--limit", "--runs-dir"]) {
    if ((values.get(flag)?.length ?? 0) > 1) throw new UsageError(`${flag} was given more than once; give it once`);
  }
  let limit = DEFAULT_RUNS_LIMIT;
  const rawLimit = values.get("--limit")?.[0];
  if (rawLimit !== undefined) {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 100000) {
      throw new UsageError(`--limit must be a whole number from 1 to 100000, got "${rawLimit}"`);
    }
    limit = Number(rawLimit);
  }
  const given = values.get("--runs-dir")?.[0] ?? (env.CODEX_SUBAGENTS_RUNS_DIR || undefined);
  if (given === "") throw new UsageError("--runs-dir is empty; give the directory the server records runs in");
  const runsDir = path.resolve(cwd, given ?? defaultRunsDir(env));
  let runs;
  try {
    runs = await listRuns(runsDir, limit);
  } catch (error) {
    io.err(`codex-subagents: cannot read run records in ${runsDir}: ${(error as Error).message}\nhint: check the directory's permissions, or pass --runs-dir with the directory the server records runs in\n`);
    return 1;
  }
  io.out(values.has("--json") ? JSON.stringify({ runs_dir: runsDir, runs }, null, 2) + "\n" : formatRuns(runsDir, runs));
  return 0;
}

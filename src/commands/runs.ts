/**
 * `codex-subagents runs [--json] [--limit N] [--runs-dir DIR]`: recent delegations from their run records;
 * `runs show RUN_ID [--follow] [--json]`: one of them step by step (runs/show.ts);
 * `runs usage [--since SPAN] [--by agent|model|day] [--prices FILE] [--json]`: what they used (runs/usage.ts).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CliIO } from "../cli-io.ts";
import { onceOf, parseFlags, type ParsedFlags } from "../args.ts";
import { defaultRunsDir } from "../config.ts";
import { EXIT_FAILURE, EXIT_OK, Refusal, UsageError } from "../errors.ts";
import { formatRuns, listRuns } from "../runs/list.ts";
import { escapeJsonControl, jsonText, printable } from "../escape.ts";
import { showRun } from "../runs/show.ts";
import { runReference } from "../runs/id.ts";
import { formatUsage, parsePrices, parseSince, readRunUsage, summarizeUsage, USAGE_GROUPINGS, type PriceTable, type UsageGrouping } from "../runs/usage.ts";
import { didYouMean } from "../suggest.ts";

export const DEFAULT_RUNS_LIMIT = 20;

type Env = Readonly<Record<string, string | undefined>>;

function runsDirOf(parsed: ParsedFlags, env: Env, cwd: string): string {
  const given = onceOf(parsed, "--runs-dir") ?? (env.CODEX_SUBAGENTS_RUNS_DIR || undefined);
  if (given === "") throw new UsageError("--runs-dir is empty", { hint: "give the directory the server records runs in" });
  return path.resolve(cwd, given ?? defaultRunsDir(env));
}

/** The refusal for a runs directory `runs` or `runs usage` could not read. */
function unreadableRuns(runsDir: string, error: Error): Refusal {
  return new Refusal(`cannot read run records in ${runsDir}: ${error.message}`, {
    hint: "check the directory's permissions, or pass --runs-dir with the directory the server records runs in",
    exitStatus: EXIT_FAILURE,
  });
}

/**
 * `runs show RUN_ID [--follow] [--json] [--runs-dir DIR]`. Exit 0 shown, 1 followed a run whose server is gone (it
 * will never finish), 2 no such run, 64 usage.
 */
async function runsShowCommand(argv: string[], io: CliIO, env: Env, cwd: string, signal?: AbortSignal): Promise<number> {
  const parsed = parseFlags(argv, { "runs-dir": { type: "string" }, json: { type: "boolean" }, follow: { type: "boolean" } });
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`runs show takes one RUN_ID (or its record directory), got ${positionals.length}`, { hint: "e.g. codex-subagents runs show 20261125T031500.123Z-review-… (codex-subagents runs lists them)" });
  // A run id, or its record directory (a result's run_dir), which names its runs directory too.
  const ref = runReference(positionals[0]!, cwd);
  const runsDir = ref.runsDir ?? runsDirOf(parsed, env, cwd);
  // A run that does not exist is a RunNotFound refusal: exit 2, printed by cli.ts.
  const follow = values.has("--follow");
  const json = values.has("--json");
  // Security: the record holds the sub-agent's text; its human form is escaped by show.ts, its JSON here (DEL and C1).
  const show = await showRun(runsDir, ref.id, { follow, json, out: (text) => io.out(json ? escapeJsonControl(text) : text), signal });
  return follow && show.abandoned ? EXIT_FAILURE : EXIT_OK;
}

/** `runs usage`: the recorded token usage summed, by agent, model or day; money only from --prices. Exit 0, 64 usage. */
async function runsUsageCommand(argv: string[], io: CliIO, env: Env, cwd: string, now: Date): Promise<number> {
  const parsed = parseFlags(argv, { since: { type: "string" }, by: { type: "string" }, prices: { type: "string" }, "runs-dir": { type: "string" }, json: { type: "boolean" } });
  if (parsed.positionals.length) throw new UsageError(`runs usage takes no arguments, got "${parsed.positionals[0]}"`, { hint: "e.g. codex-subagents runs usage --since 7d --by agent" });
  const sinceText = onceOf(parsed, "--since");
  const since = sinceText === undefined ? null : parseSince(sinceText, now);
  const byText = onceOf(parsed, "--by");
  if (byText !== undefined && !(USAGE_GROUPINGS as readonly string[]).includes(byText)) {
    throw new UsageError(`--by "${byText}" is not a grouping${didYouMean(byText, USAGE_GROUPINGS)}`, { hint: `use one of ${USAGE_GROUPINGS.join(", ")}` });
  }
  const by = (byText ?? null) as UsageGrouping | null;
  const pricesFile = onceOf(parsed, "--prices");
  let prices: PriceTable | null = null;
  if (pricesFile !== undefined) {
    const text = await readFile(path.resolve(cwd, pricesFile), "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read --prices "${pricesFile}" (${error.code ?? error.message})`, { hint: "give a JSON file of prices per million tokens" });
    });
    prices = parsePrices(text, pricesFile);
  }
  const runsDir = runsDirOf(parsed, env, cwd);
  const runs = await readRunUsage(runsDir, since).catch((error: Error) => {
    throw unreadableRuns(runsDir, error);
  });
  const { groups, total } = summarizeUsage(runs, by, prices);
  // Security: agents and models come from the records; a record's text never reaches a terminal as control characters.
  if (parsed.values.has("--json")) {
    io.out(jsonText({ runs_dir: runsDir, since: since?.toISOString() ?? null, by, prices: pricesFile ?? null, groups, total }));
  } else {
    io.out(printable(formatUsage({ runsDir, since, by, groups, total, withPrices: prices !== null })));
  }
  return EXIT_OK;
}

export async function runsCommand(argv: string[], io: CliIO, env: Env, cwd = process.cwd(), signal?: AbortSignal): Promise<number> {
  if (argv[0] === "show") return runsShowCommand(argv.slice(1), io, env, cwd, signal);
  if (argv[0] === "usage") return runsUsageCommand(argv.slice(1), io, env, cwd, new Date());
  const parsed = parseFlags(argv, { limit: { type: "string" }, "runs-dir": { type: "string" }, json: { type: "boolean" } });
  const { values, positionals } = parsed;
  if (positionals.length) throw new UsageError(`runs takes no arguments, got "${positionals[0]}"`, { hint: "e.g. codex-subagents runs --limit 10" });
  let limit = DEFAULT_RUNS_LIMIT;
  const rawLimit = onceOf(parsed, "--limit");
  if (rawLimit !== undefined) {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 100000) {
      throw new UsageError(`--limit must be a whole number from 1 to 100000, got "${rawLimit}"`);
    }
    limit = Number(rawLimit);
  }
  const runsDir = runsDirOf(parsed, env, cwd);
  const runs = await listRuns(runsDir, limit).catch((error: Error) => {
    throw unreadableRuns(runsDir, error);
  });
  io.out(values.has("--json") ? jsonText({ runs_dir: runsDir, runs }) : printable(formatRuns(runsDir, runs)));
  return EXIT_OK;
}

/**
 * `codex-subagents runs usage`: what the recorded runs used, summed from their records (result.json's `usage`, the
 * token counts codex reported; request.json's `model`, the agent's model setting). Money only from prices the user
 * gives. No guesses: a run whose record holds no usage (codex never reported one, the run was refused or killed)
 * counts as unknown, never as zero, and a total that lacks some runs says so.
 */
import path from "node:path";
import { UsageError } from "../errors.ts";
import { parseRunDirName, readRecordJson, RUN_FILES, runDirNames } from "./record.ts";
import { type Usage, usageSchema } from "../shapes/usage.ts";

export const USAGE_GROUPINGS = ["agent", "model", "day"] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

/** The label of runs whose agent names no model: codex used the model its config chose. */
export const DEFAULT_MODEL = "(codex default)";

/** One recorded run, as far as its cost goes. */
export interface RunUsage {
  startedAt: Date;
  agent: string;
  /** The agent's model setting; DEFAULT_MODEL when it named none; null when the record does not say (older records). */
  model: string | null;
  /** null: the record holds no usage (unknown, not zero). */
  tokens: Usage | null;
}

/** Prices per million tokens, for one model; `cached_input` defaults to `input`. */
export interface ModelPrice {
  input: number;
  cached_input?: number;
  output: number;
}

/** Prices by model name; "*" is the price of every model not named (and of DEFAULT_MODEL runs). */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** A group's token counts are the sums of its runs' `Usage`. */
export interface UsageGroup extends Usage {
  key: string;
  runs: number;
  /** Runs whose record holds no usage: not counted in the sums below. */
  runs_without_usage: number;
  /** With prices: the cost of the runs with usage and a price; null when some run with usage has no price. */
  cost: number | null;
  /** Why cost is null, or what it leaves out. */
  cost_note?: string;
}

const COUNT_FIELDS = usageSchema.keyof().options;

function countsOf(usage: unknown): Usage | null {
  if (!usage || typeof usage !== "object") return null;
  const u = usage as Record<string, unknown>;
  const counts = {} as Usage;
  for (const field of COUNT_FIELDS) {
    const value = u[field];
    // A count that is not a whole number is not a count: the run's usage is unknown rather than half-known.
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) return null;
    counts[field] = value;
  }
  return counts;
}

/** Every run record in `runsDir` started at or after `since`, oldest first. */
export async function readRunUsage(runsDir: string, since: Date | null): Promise<RunUsage[]> {
  const runs: RunUsage[] = [];
  for (const name of await runDirNames(runsDir)) {
    const parsed = parseRunDirName(name);
    if (!parsed || (since && parsed.startedAt < since)) continue;
    const dir = path.join(runsDir, name);
    const [result, request] = await Promise.all([readRecordJson(path.join(dir, RUN_FILES.result)), readRecordJson(path.join(dir, RUN_FILES.request))]);
    const model = request && "model" in request ? (typeof request.model === "string" && request.model !== "" ? request.model : DEFAULT_MODEL) : null;
    runs.push({ startedAt: parsed.startedAt, agent: typeof result?.agent === "string" ? result.agent : parsed.agent, model, tokens: countsOf(result?.usage) });
  }
  return runs;
}

/** `7d`, `24h`, `30m` before `now`, or a date (`2026-11-01`, any ISO 8601 time); a usage error otherwise. */
export function parseSince(text: string, now: Date): Date {
  const relative = /^(\d{1,6})([dhm])$/.exec(text.trim());
  if (relative) {
    const unitMs = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as "d" | "h" | "m"];
    return new Date(now.getTime() - Number(relative[1]) * unitMs);
  }
  const absolute = /^\d{4}-\d{2}-\d{2}([T ].*)?$/.test(text.trim()) ? new Date(text.trim()) : new Date(Number.NaN);
  if (Number.isNaN(absolute.getTime())) throw new UsageError(`--since "${text}" is not a time`, { hint: "give a span such as 7d, 24h or 30m, or a date such as 2026-11-01" });
  return absolute;
}

/** A price table from a JSON file's text; every price a number of money per million tokens. Pure. */
export function parsePrices(text: string, file: string): PriceTable {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--prices "${file}" is not JSON (${(error as Error).message})`, { hint: 'give an object such as {"gpt-5": {"input": 1.25, "cached_input": 0.125, "output": 10}}' });
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`--prices "${file}" must hold a JSON object of models`, { hint: 'e.g. {"gpt-5": {"input": 1.25, "output": 10}}' });
  const table: Record<string, ModelPrice> = Object.create(null);
  for (const [model, value] of Object.entries(parsed)) {
    const price = value as Record<string, unknown> | null;
    const ok = (key: string, required: boolean) => (price?.[key] === undefined ? !required : typeof price[key] === "number" && Number.isFinite(price[key]) && (price[key] as number) >= 0);
    const unknownKeys = price && typeof price === "object" ? Object.keys(price).filter((k) => !["input", "cached_input", "output"].includes(k)) : [];
    if (!price || typeof price !== "object" || !ok("input", true) || !ok("output", true) || !ok("cached_input", false) || unknownKeys.length > 0) {
      throw new UsageError(`--prices "${file}": the price of "${model}" must be {"input": N, "output": N} with an optional "cached_input": N (money per million tokens, 0 or more)${unknownKeys.length ? `; unknown key "${unknownKeys[0]}"` : ""}`);
    }
    table[model] = { input: price.input as number, output: price.output as number, ...(price.cached_input !== undefined ? { cached_input: price.cached_input as number } : {}) };
  }
  return table;
}

/**
 * What one run cost at `price`: non-cached input, cached input and output at their prices. Reasoning tokens are part
 * of the output tokens as codex and the API report them, so they are not charged again.
 */
export function costOf(tokens: Usage, price: ModelPrice): number {
  const cached = Math.min(tokens.cached_input_tokens, tokens.input_tokens);
  return ((tokens.input_tokens - cached) * price.input + cached * (price.cached_input ?? price.input) + tokens.output_tokens * price.output) / 1_000_000;
}

function keyOf(run: RunUsage, by: UsageGrouping | null): string {
  if (by === "agent") return run.agent;
  if (by === "model") return run.model ?? "(not recorded)";
  if (by === "day") return run.startedAt.toISOString().slice(0, 10);
  return "total";
}

/** Sum `runs` into groups (in order of their keys), and their total. Pure. */
export function summarizeUsage(runs: readonly RunUsage[], by: UsageGrouping | null, prices: PriceTable | null): { groups: UsageGroup[]; total: UsageGroup } {
  const sum = (key: string, members: readonly RunUsage[]): UsageGroup => {
    const group: UsageGroup = { key, runs: members.length, runs_without_usage: 0, input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, cost: prices ? 0 : null };
    const unpriced = new Set<string>();
    for (const run of members) {
      if (!run.tokens) {
        group.runs_without_usage += 1;
        continue;
      }
      for (const field of COUNT_FIELDS) group[field] += run.tokens[field];
      if (!prices) continue;
      const model = run.model ?? "(not recorded)";
      const price = prices[model] ?? prices["*"];
      if (price && group.cost !== null) group.cost += costOf(run.tokens, price);
      else if (!price) unpriced.add(model);
    }
    if (unpriced.size > 0) {
      group.cost = null;
      group.cost_note = `no price for ${[...unpriced].map((m) => `"${m}"`).join(", ")}; add it (or "*") to the prices file`;
    } else if (prices && group.runs_without_usage > 0) {
      group.cost_note = `covers the ${group.runs - group.runs_without_usage} run(s) with recorded usage; ${group.runs_without_usage} without are unknown`;
    }
    return group;
  };
  const keys = [...new Set(runs.map((run) => keyOf(run, by)))].sort();
  const groups = by === null ? [] : keys.map((key) => sum(key, runs.filter((run) => keyOf(run, by) === key)));
  return { groups, total: sum("total", runs) };
}

function formatCost(group: UsageGroup, withPrices: boolean): string {
  if (!withPrices) return "";
  return group.cost === null ? "unknown" : group.cost.toFixed(4);
}

/** Human text: one row per group, then the total; unknown usage and what the cost leaves out said in words. */
export function formatUsage(report: { runsDir: string; since: Date | null; by: UsageGrouping | null; groups: UsageGroup[]; total: UsageGroup; withPrices: boolean }): string {
  const { total, withPrices } = report;
  const scope = `${report.since ? ` since ${report.since.toISOString()}` : ""}`;
  if (total.runs === 0) return `no run records in ${report.runsDir}${scope}\n`;
  const header = [report.by ?? "", "runs", "no usage", "input", "cached in", "output", "reasoning", ...(withPrices ? ["cost"] : [])];
  const row = (g: UsageGroup) => [g.key, String(g.runs), String(g.runs_without_usage), String(g.input_tokens), String(g.cached_input_tokens), String(g.output_tokens), String(g.reasoning_output_tokens), ...(withPrices ? [formatCost(g, true)] : [])];
  const rows = [...report.groups.map(row), row(total)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const lines = [`token usage of ${total.runs} run(s) in ${report.runsDir}${scope}`, line(header), ...rows.map(line)];
  if (total.runs_without_usage > 0) lines.push(`${total.runs_without_usage} run(s) have no recorded usage (refused, killed, or codex reported none): unknown, not counted as zero`);
  for (const group of [...report.groups, total]) if (group.cost_note) lines.push(`cost of ${group.key}: ${group.cost_note}`);
  if (!withPrices) lines.push("cost: give prices per million tokens with --prices FILE to see it");
  return lines.join("\n") + "\n";
}

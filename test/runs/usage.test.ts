// `runs usage` (src/runs/usage.ts): the recorded token usage summed, grouped, priced only from prices given; a run
// whose record holds no usage is unknown, never zero.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { costOf, DEFAULT_MODEL, formatUsage, parsePrices, parseSince, readRunUsage, summarizeUsage, type RunUsage } from "../../src/runs/usage.ts";
import { runDirName } from "../../src/runs/record.ts";

const at = (iso: string) => new Date(iso);
const run = (over: Partial<RunUsage>): RunUsage => ({ startedAt: at("2026-11-25T10:00:00Z"), agent: "review", model: DEFAULT_MODEL, tokens: { input_tokens: 1000, cached_input_tokens: 400, output_tokens: 100, reasoning_output_tokens: 60 }, ...over });

describe("summarizeUsage", () => {
  test("sums the four counts and the runs; a run without usage is counted as unknown, not as zero", () => {
    const { total } = summarizeUsage([run({}), run({ tokens: null }), run({ agent: "explain" })], null, null);
    expect(total).toMatchObject({ runs: 3, runs_without_usage: 1, input_tokens: 2000, cached_input_tokens: 800, output_tokens: 200, reasoning_output_tokens: 120, cost: null });
  });
  test("groups by agent, model or day, in order", () => {
    const runs = [run({}), run({ agent: "explain", model: "gpt-5", startedAt: at("2026-11-24T23:59:00Z") }), run({ model: null })];
    expect(summarizeUsage(runs, "agent", null).groups.map((g) => [g.key, g.runs])).toEqual([["explain", 1], ["review", 2]]);
    expect(summarizeUsage(runs, "model", null).groups.map((g) => g.key)).toEqual(["(codex default)", "(not recorded)", "gpt-5"]);
    expect(summarizeUsage(runs, "day", null).groups.map((g) => [g.key, g.runs])).toEqual([["2026-11-24", 1], ["2026-11-25", 2]]);
  });
  test("cost: cached input at its price, output at its; reasoning is part of output, not charged again", () => {
    expect(costOf({ input_tokens: 1_000_000, cached_input_tokens: 400_000, output_tokens: 100_000, reasoning_output_tokens: 60_000 }, { input: 1.25, cached_input: 0.125, output: 10 })).toBeCloseTo(0.75 + 0.05 + 1.0, 10);
    expect(costOf({ input_tokens: 1_000_000, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0 }, { input: 2, output: 8 })).toBe(2);
  });
  test("a model without a price makes the cost unknown and says which; * prices every other model", () => {
    const runs = [run({ model: "gpt-5" }), run({ model: "other" })];
    const unpriced = summarizeUsage(runs, null, { "gpt-5": { input: 1, output: 1 } }).total;
    expect(unpriced.cost).toBeNull();
    expect(unpriced.cost_note).toContain('no price for "other"');
    expect(summarizeUsage(runs, null, { "gpt-5": { input: 1, output: 1 }, "*": { input: 0, output: 0 } }).total.cost).toBeCloseTo(0.0011, 10);
    const partial = summarizeUsage([run({ model: "gpt-5" }), run({ model: "gpt-5", tokens: null })], null, { "gpt-5": { input: 1, output: 1 } }).total;
    expect(partial.cost).toBeCloseTo(0.0011, 10);
    expect(partial.cost_note).toContain("1 without are unknown");
  });
});

describe("parsing", () => {
  const now = at("2026-11-25T12:00:00Z");
  test("--since takes a span or a date; anything else is a usage error naming the forms", () => {
    expect(parseSince("7d", now).toISOString()).toBe("2026-11-18T12:00:00.000Z");
    expect(parseSince("24h", now).toISOString()).toBe("2026-11-24T12:00:00.000Z");
    expect(parseSince("30m", now).toISOString()).toBe("2026-11-25T11:30:00.000Z");
    expect(parseSince("2026-11-01", now).toISOString()).toBe("2026-11-01T00:00:00.000Z");
    let refused: unknown;
    try {
      parseSince("last week", now);
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ message: '--since "last week" is not a time', hint: expect.stringContaining("give a span such as 7d, 24h or 30m, or a date") });
  });
  test("prices: per model, per million tokens; a bad file is refused with the shape", () => {
    expect(parsePrices('{"gpt-5": {"input": 1.25, "cached_input": 0.125, "output": 10}}', "p.json")["gpt-5"]).toEqual({ input: 1.25, cached_input: 0.125, output: 10 });
    expect(() => parsePrices("{", "p.json")).toThrow('--prices "p.json" is not JSON');
    expect(() => parsePrices('{"gpt-5": {"input": -1, "output": 1}}', "p.json")).toThrow('the price of "gpt-5"');
    expect(() => parsePrices('{"gpt-5": {"input": 1, "output": 1, "outptu": 2}}', "p.json")).toThrow('unknown key "outptu"');
    expect(() => parsePrices("[]", "p.json")).toThrow("must hold a JSON object");
  });
});

describe("readRunUsage and formatUsage", () => {
  let runsDir: string;
  beforeAll(async () => {
    runsDir = await mkdtemp(path.join(os.tmpdir(), "cs-usage-"));
    const record = async (when: string, agent: string, result: unknown, request: unknown) => {
      const dir = path.join(runsDir, runDirName(agent, at(when), "ab".repeat(16)));
      await mkdir(dir);
      if (result !== undefined) await writeFile(path.join(dir, "result.json"), JSON.stringify(result));
      if (request !== undefined) await writeFile(path.join(dir, "request.json"), JSON.stringify(request));
    };
    await record("2026-11-20T10:00:00Z", "review", { agent: "review", usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 5, reasoning_output_tokens: 0 } }, { model: "gpt-5" });
    await record("2026-11-24T10:00:00Z", "review", { agent: "review", usage: null }, { model: null });
    await record("2026-11-25T10:00:00Z", "explain", undefined, { model: "gpt-5" });
    await record("2026-11-25T11:00:00Z", "explain", { agent: "explain", usage: { input_tokens: 20, cached_input_tokens: 10, output_tokens: 2, reasoning_output_tokens: 1 } }, {});
  });
  afterAll(async () => {
    await rm(runsDir, { recursive: true, force: true });
  });
  test("each record's usage and model; a record without result.json or usage has unknown usage", async () => {
    const runs = await readRunUsage(runsDir, null);
    expect(runs.map((r) => [r.agent, r.model, r.tokens?.input_tokens ?? null])).toEqual([
      ["review", "gpt-5", 10], ["review", DEFAULT_MODEL, null], ["explain", "gpt-5", null], ["explain", null, 20],
    ]);
    expect(await readRunUsage(runsDir, at("2026-11-25T00:00:00Z"))).toHaveLength(2);
    expect(await readRunUsage(path.join(runsDir, "none"), null)).toEqual([]);
  });
  test("the text says what is unknown and how to see cost", async () => {
    const runs = await readRunUsage(runsDir, null);
    const { groups, total } = summarizeUsage(runs, "agent", null);
    const text = formatUsage({ runsDir, since: null, by: "agent", groups, total, withPrices: false });
    expect(text).toContain(`token usage of 4 run(s) in ${runsDir}`);
    expect(text).toMatch(/\nexplain\s+2\s+1\s+20\s+10\s+2\s+1\n/);
    expect(text).toMatch(/\ntotal\s+4\s+2\s+30\s+10\s+7\s+1\n/);
    expect(text).toContain("2 run(s) have no recorded usage (refused, killed, or codex reported none): unknown, not counted as zero");
    expect(text).toContain("--prices FILE");
  });
});

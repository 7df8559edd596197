/**
 * Run records in process: the files a run leaves, their permissions, redaction of everything written, the cap on the
 * event stream, pruning to the newest N (never another run still being written, never a foreign file), and reading
 * them back for `runs`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "../../src/log.ts";
import { createRedactor } from "../../src/policy/redact.ts";
import { formatRuns, listRuns } from "../../src/runs/list.ts";
import { currentOwner } from "../../src/runs/owner.ts";
import { createRunRecords, parseRunDirName, pruneRuns, runDirName, RUN_DIR_PATTERN } from "../../src/runs/record.ts";

const SECRET = "pt-9f8e7d6c5b4a39281706";
const SHAPED = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
const redact = createRedactor([SECRET]);

let scratch: string;
let counter = 0;

beforeAll(async () => {
  scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-runs-")));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function collectingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, error: (m) => warnings.push(m), warn: (m) => warnings.push(m), info() {}, debug() {} };
}

async function freshDir(): Promise<string> {
  return path.join(scratch, `runs-${++counter}`);
}

/** A clock that moves one second per call, so records sort in the order they were made. */
function steppingClock(start = Date.UTC(2026, 10, 25, 3, 15, 0, 123)): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

const sampleResult = (over: Record<string, unknown> = {}) => ({
  ok: true, agent: "review", exit_code: 0, final_message: "all good", thread_id: "t-1",
  usage: { input_tokens: 10, cached_input_tokens: 0, output_tokens: 5, reasoning_output_tokens: 0 },
  duration_ms: 1234, working_dir: "/w", isolation: "none", stderr_tail: "", timed_out: false, cancelled: false, run_dir: null, notes: [],
  ...over,
});

describe("run records", () => {
  test("one directory per run, private, holding request, events, stderr, final message, patch and result", async () => {
    const runsDir = await freshDir();
    const start = createRunRecords({ runsDir, keepRuns: 10, redact, log: collectingLogger(), now: () => new Date(Date.UTC(2026, 10, 25, 3, 15, 0, 42)) });
    const record = (await start({ agent: "review", request: { agent: "review", task: "look", cwd: "/w" } }))!;
    expect(path.dirname(record.dir)).toBe(runsDir);
    expect(path.basename(record.dir)).toMatch(/^20261125T031500\.042Z-review-[0-9a-f]{32}$/);
    // Until finish, there is no result: `runs` shows such a run as incomplete.
    expect(await stat(path.join(record.dir, "result.json")).catch(() => null)).toBeNull();
    record.event('{"type":"thread.started","thread_id":"t-1"}');
    record.event('{"type":"turn.completed","usage":{"input_tokens":10}}');
    await record.finish({ result: sampleResult(), stderr: "some noise\n", patch: "diff --git a/x b/x\n", finalMessage: "all good" });

    expect((await readdir(record.dir)).sort()).toEqual(["events.jsonl", "final.md", "patch.diff", "request.json", "result.json", "server.json", "stderr.txt", "thread.txt"]);
    expect(await readFile(path.join(record.dir, "thread.txt"), "utf8")).toBe("t-1\n");
    expect(JSON.parse(await readFile(path.join(record.dir, "request.json"), "utf8"))).toEqual({ agent: "review", task: "look", cwd: "/w" });
    const events = (await readFile(path.join(record.dir, "events.jsonl"), "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual(["thread.started", "turn.completed"]);
    expect(await readFile(path.join(record.dir, "final.md"), "utf8")).toBe("all good\n");
    expect(await readFile(path.join(record.dir, "stderr.txt"), "utf8")).toBe("some noise\n");
    expect(await readFile(path.join(record.dir, "patch.diff"), "utf8")).toBe("diff --git a/x b/x\n");
    expect(JSON.parse(await readFile(path.join(record.dir, "result.json"), "utf8")).duration_ms).toBe(1234);
    expect((await stat(runsDir)).mode & 0o777).toBe(0o700);
    expect((await stat(record.dir)).mode & 0o777).toBe(0o700);
    for (const file of await filesUnder(record.dir)) expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  test("no patch.diff when the run changed nothing", async () => {
    const record = (await createRunRecords({ runsDir: await freshDir(), keepRuns: 5, redact, log: collectingLogger() })({ agent: "a", request: {} }))!;
    await record.finish({ result: sampleResult(), stderr: "", finalMessage: "" });
    expect(await readdir(record.dir)).not.toContain("patch.diff");
  });

  test("secrets never land on disk: events, request, stderr, final message, patch and result are all redacted", async () => {
    const runsDir = await freshDir();
    const record = (await createRunRecords({ runsDir, keepRuns: 5, redact, log: collectingLogger() })({
      agent: "review",
      request: { task: `use ${SECRET}`, nested: [{ token: SHAPED }] },
    }))!;
    record.event(JSON.stringify({ type: "item.completed", item: { type: "agent_message", text: `the key is ${SECRET}` } }));
    record.event(JSON.stringify({ type: "item.started", item: { type: "command_execution", command: `curl -H 'x: ${SHAPED}'` } }));
    // After a JSON escape (\n here) a shape has no word boundary in the raw line; the stored line must still be clean.
    record.event(JSON.stringify({ type: "item.completed", item: { type: "agent_message", text: `done\n${SHAPED}\n${SECRET}` } }));
    record.event(`not json: ${SECRET}`);
    await record.finish({
      result: sampleResult({ final_message: `done ${SECRET}`, notes: [SHAPED] }),
      stderr: `debug ${SECRET}`,
      patch: `+token = ${SHAPED}\n`,
      finalMessage: `done ${SECRET}`,
    });
    let sawRedacted = false;
    for (const file of await filesUnder(runsDir)) {
      const text = await readFile(file, "utf8");
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SHAPED);
      sawRedacted ||= text.includes("[REDACTED]");
    }
    expect(sawRedacted).toBe(true);
    // JSON event lines stay valid JSON after redaction; other lines are kept (redacted) as text.
    const stored = (await readFile(path.join(record.dir, "events.jsonl"), "utf8")).trimEnd().split("\n");
    expect(stored).toHaveLength(4);
    for (const l of stored.slice(0, 3)) expect(() => JSON.parse(l)).not.toThrow();
    expect(stored[3]).toBe("not json: [REDACTED]");
  });

  test("the event stream is capped, with one truncation marker at the end", async () => {
    const record = (await createRunRecords({ runsDir: await freshDir(), keepRuns: 5, redact, log: collectingLogger(), maxEventsBytes: 1000 })({ agent: "a", request: {} }))!;
    const line = JSON.stringify({ type: "item.completed", item: { text: "x".repeat(80) } });
    for (let i = 0; i < 100; i++) record.event(line);
    await record.finish({ result: sampleResult(), stderr: "", finalMessage: "x" });
    const text = await readFile(path.join(record.dir, "events.jsonl"), "utf8");
    const lines = text.trimEnd().split("\n");
    expect(Buffer.byteLength(text)).toBeLessThan(1000 + 300);
    expect(lines.length).toBeLessThan(20);
    expect(JSON.parse(lines.at(-1)!).type).toBe("codex-subagents.truncated");
    expect(lines.filter((l) => l.includes("truncated")).length).toBe(1);
  });

  test("keeps the newest N: older records are pruned, foreign entries are left alone", async () => {
    const runsDir = await freshDir();
    await mkdir(runsDir, { recursive: true });
    await mkdir(path.join(runsDir, "my-notes"));
    await writeFile(path.join(runsDir, "README"), "mine");
    const start = createRunRecords({ runsDir, keepRuns: 3, redact, log: collectingLogger(), now: steppingClock() });
    const dirs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const record = (await start({ agent: `agent${i}`, request: {} }))!;
      await record.finish({ result: sampleResult({ agent: `agent${i}` }), stderr: "", finalMessage: "ok" });
      dirs.push(record.dir);
    }
    const left = (await readdir(runsDir)).sort();
    expect(left.filter((n) => RUN_DIR_PATTERN.test(n))).toEqual(dirs.slice(2).map((d) => path.basename(d)));
    expect(left).toContain("my-notes");
    expect(left).toContain("README");
  });

  test("a record still being written is not pruned, even past N", async () => {
    const runsDir = await freshDir();
    const start = createRunRecords({ runsDir, keepRuns: 1, redact, log: collectingLogger(), now: steppingClock() });
    const first = (await start({ agent: "slow", request: {} }))!;
    const second = (await start({ agent: "fast", request: {} }))!;
    expect((await readdir(runsDir)).length).toBe(2);
    await second.finish({ result: sampleResult(), stderr: "", finalMessage: "ok" });
    first.event('{"type":"turn.started"}');
    await first.finish({ result: sampleResult(), stderr: "", finalMessage: "ok" });
    expect(await readFile(path.join(first.dir, "events.jsonl"), "utf8")).toContain("turn.started");
    // The next run prunes both older ones down to N = 1.
    const third = (await start({ agent: "next", request: {} }))!;
    expect(await readdir(runsDir)).toEqual([path.basename(third.dir)]);
    await third.finish({ result: sampleResult(), stderr: "", finalMessage: "ok" });
  });

  test("--keep-runs 0 records nothing", async () => {
    const runsDir = await freshDir();
    expect(await createRunRecords({ runsDir, keepRuns: 0, redact, log: collectingLogger() })({ agent: "a", request: {} })).toBeNull();
    expect(await stat(runsDir).catch(() => null)).toBeNull();
  });

  test("a runs dir that cannot be created makes startRecord reject (the delegation logs it and goes on)", async () => {
    const blocker = path.join(scratch, "a-file");
    await writeFile(blocker, "");
    await expect(createRunRecords({ runsDir: path.join(blocker, "runs"), keepRuns: 5, redact, log: collectingLogger() })({ agent: "a", request: {} })).rejects.toThrow();
  });

  test("writes that fail after the start are a warning, never an exception from event()", async () => {
    const log = collectingLogger();
    const record = (await createRunRecords({ runsDir: await freshDir(), keepRuns: 5, redact, log })({ agent: "a", request: {} }))!;
    await rm(record.dir, { recursive: true, force: true });
    expect(() => record.event('{"type":"x"}')).not.toThrow();
    await expect(record.finish({ result: sampleResult(), stderr: "", finalMessage: "" })).rejects.toThrow();
    expect(log.warnings.some((w) => w.includes("could not write events"))).toBe(true);
  });

  test("names sort by start time and parse back", () => {
    const name = runDirName("code-review_2", new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), "abc123");
    expect(name).toBe("20260102T030405.006Z-code-review_2-abc123");
    expect(parseRunDirName(name)).toEqual({ startedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), agent: "code-review_2" });
    expect(parseRunDirName("notes")).toBeNull();
    expect(runDirName("a", new Date(Date.UTC(2026, 0, 2)), "000000") < runDirName("a", new Date(Date.UTC(2026, 0, 10)), "000000")).toBe(true);
  });

  test("pruneRuns keeps a record whose run may still be going in any process, and prunes the rest", async () => {
    const runsDir = await freshDir();
    const me = await currentOwner();
    const dead = spawnSync("true").pid!;
    const records: Array<[string, Record<string, string> | null, boolean]> = [
      // name suffix, server.json (null: none), has result.json
      ["live", { ...me } as unknown as Record<string, string>, false],
      ["finished", { ...me } as unknown as Record<string, string>, true],
      ["dead", { pid: dead, host: os.hostname() } as unknown as Record<string, string>, false],
      ["reused", { ...me, start: "1" } as unknown as Record<string, string>, false],
      ["remote", { pid: 1, host: "another-machine" } as unknown as Record<string, string>, false],
      ["unowned", null, false],
    ];
    for (const [i, [suffix, server, finished]] of records.entries()) {
      const dir = path.join(runsDir, `20260101T00000${i}.000Z-${suffix}-${"0".repeat(32)}`);
      await mkdir(dir, { recursive: true });
      if (server) await writeFile(path.join(dir, "server.json"), JSON.stringify(server));
      if (finished) await writeFile(path.join(dir, "result.json"), "{}");
    }
    const kept = async () => (await readdir(runsDir)).map((n) => n.split("-")[1]).sort();
    await pruneRuns(runsDir, 0);
    // "reused": this process's pid, but another start time (a pid used again): gone, on Linux, where it is known.
    expect(await kept()).toEqual(["live", "remote", "unowned", ...(process.platform === "linux" ? [] : ["reused"])].sort());
    // A record with no server.json is being made by another process, unless it is old.
    await pruneRuns(runsDir, 0, new Set(), Date.now() + 24 * 3600 * 1000);
    expect(await kept()).toEqual(["live", "remote", ...(process.platform === "linux" ? [] : ["reused"])].sort());
  });

  test("pruneRuns ignores names it did not make", async () => {
    const runsDir = await freshDir();
    await mkdir(path.join(runsDir, "20260101T000000.000Z-x-zzzzzz"), { recursive: true });
    expect(await pruneRuns(runsDir, 0)).toEqual([]);
  });
});

describe("listing runs", () => {
  test("newest first, with outcome, duration and tokens; a run without result.json is incomplete", async () => {
    const runsDir = await freshDir();
    const start = createRunRecords({ runsDir, keepRuns: 10, redact, log: collectingLogger(), now: steppingClock() });
    const outcomes: Array<[string, Record<string, unknown> | null]> = [
      ["ok", sampleResult()],
      ["failed", sampleResult({ ok: false, exit_code: 1 })],
      ["timed out", sampleResult({ ok: false, exit_code: null, timed_out: true, usage: null })],
      ["cancelled", sampleResult({ ok: false, exit_code: null, cancelled: true })],
      ["incomplete", null],
    ];
    for (const [name, result] of outcomes) {
      const record = (await start({ agent: name.replace(" ", "-"), request: {} }))!;
      if (result) await record.finish({ result: { ...result, agent: name.replace(" ", "-") }, stderr: "", finalMessage: "x" });
    }
    const runs = await listRuns(runsDir, 10);
    expect(runs.map((r) => r.outcome)).toEqual(["incomplete", "cancelled", "timed out", "failed", "ok"]);
    expect(runs.at(-1)).toMatchObject({ agent: "ok", duration_ms: 1234, exit_code: 0, tokens: { input_tokens: 10, output_tokens: 5 } });
    expect(runs[0]).toMatchObject({ agent: "incomplete", duration_ms: null, tokens: null });
    expect(runs[2]!.tokens).toBeNull();
    expect(runs[0]!.started_at).toBe("2026-11-25T03:15:05.123Z");
    expect(await listRuns(runsDir, 2)).toHaveLength(2);

    const text = formatRuns(runsDir, runs);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe(`run records in ${runsDir} (one step by step: codex-subagents runs show RUN_ID)`);
    expect(lines[1]).toMatch(/^started \(UTC\)\s+agent\s+outcome\s+duration\s+tokens in\/out\s+run id$/);
    expect(lines.at(-1)).toMatch(/^2026-11-25 03:15:01Z\s+ok\s+ok\s+1\.2s\s+10\/5\s+20261125T031501\.123Z-ok-[0-9a-f]+$/);
    expect(lines[2]).toContain("incomplete");
    // The run id is the record's directory name, in the table and in --json.
    expect(runs.map((r) => path.join(runsDir, r.run_id))).toEqual(runs.map((r) => r.dir));
  });

  test("a runs dir that does not exist yet holds no runs", async () => {
    expect(await listRuns(path.join(scratch, "never-made"), 5)).toEqual([]);
    expect(formatRuns("/x", [])).toBe("no run records in /x\n");
  });
});

// A run record's text on the user's terminal: `runs`, `runs usage` and `runs show --json` print what a record holds.
// Its events are the sub-agent's own text (its messages, its commands), and a record in a runs directory others can
// write (a `--runs-dir` in a shared place) is anyone's. `runs show` escaped control characters and `run --json` escaped
// the ones JSON leaves raw (DEL, C1: U+009B is a CSI to terminals that take 8-bit controls), but `runs` and `runs
// usage` printed a record's agent and model raw, and `runs show --json` a sub-agent's C1 controls raw.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runCli } from "../doctor/run-cli.ts";
import { countBadInput, reportTally } from "./harness.ts";

const RUN_ID = "20261207T010203.000Z-review-0123456789abcdef0123456789abcdef";
const HOSTILE = "\u001b]0;pwned-title\u0007\u001b[2J\u009b31m\u007f";
/** Bytes a terminal takes as a control: C0 but newline, DEL, and C1 (U+0080..U+009F, as UTF-8 or raw). */
const TERMINAL_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let base: string, runsDir: string;

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-record-text-")));
  runsDir = path.join(base, "runs");
  const dir = path.join(runsDir, RUN_ID);
  await mkdir(dir, { recursive: true });
  const message = { type: "item.completed", item: { id: "i1", type: "agent_message", text: `done ${HOSTILE}` } };
  await writeFile(path.join(dir, "events.jsonl"), `${JSON.stringify({ type: "thread.started", thread_id: "t" })}\n${JSON.stringify(message)}\n`);
  await writeFile(path.join(dir, "request.json"), JSON.stringify({ agent: "review", task: "t", model: `m${HOSTILE}` }));
  await writeFile(path.join(dir, "result.json"), JSON.stringify({
    ok: true, agent: `review${HOSTILE}`, exit_code: 0, final_message: `done ${HOSTILE}`, thread_id: "t", isolation: "none",
    usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 1, reasoning_output_tokens: 0 }, timed_out: false, cancelled: false,
  }));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
  reportTally(import.meta.file);
});

test.each([
  [["runs"]],
  [["runs", "--json"]],
  [["runs", "usage", "--by", "agent"]],
  [["runs", "usage", "--by", "model"]],
  [["runs", "usage", "--by", "model", "--json"]],
  [["runs", "show", RUN_ID]],
  [["runs", "show", RUN_ID, "--json"]],
])("%j prints no control character of the record's (escaped, same JSON)", async (args) => {
  countBadInput();
  const run = await runCli([...args, "--runs-dir", runsDir], { cwd: base, env: { PATH: process.env.PATH!, HOME: base } });
  expect(run.code).toBe(0);
  expect(run.stdout).not.toMatch(TERMINAL_CONTROL);
  if (args.includes("--json")) {
    // Still the same JSON: the record's text comes back whole when parsed.
    expect(run.stdout).toContain("\\u009b");
    expect(JSON.stringify(JSON.parse(run.stdout))).toContain(JSON.stringify(HOSTILE).slice(1, -1));
  } else {
    expect(run.stdout).toContain("?]0;pwned-title??[2J?31m?");
  }
});

/**
 * The cost of `resume`'s check that a thread is ours (src/runs/threads.ts): a miss reads every kept run record, so
 * it grows with --keep-runs. Prints the first miss (which reads each record once) and the median of ten later ones for 10, 100 and 1000 kept records, and each against 10.
 *
 *   bun run bench/resume-check.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createRedactor } from "../src/policy/redact.ts";
import { createRunRecords } from "../src/runs/record.ts";
import { createThreadRegistry } from "../src/runs/threads.ts";

const log = { error() {}, warn() {}, info() {}, debug() {} } as any;
const foreign = "0199a213-81c0-7800-8aa1-ffffffffffff";

async function missMs(records: number): Promise<{ first: number; later: number }> {
  const runsDir = await mkdtemp(path.join(os.tmpdir(), "cs-bench-resume-"));
  try {
    const open = createRunRecords({ runsDir, keepRuns: records, redact: createRedactor([]), log });
    for (let i = 0; i < records; i++) {
      const record = (await open({ agent: "a", request: {} }))!;
      await record.finish({ result: { ok: true, thread_id: `0199a213-81c0-7800-8aa1-${String(i).padStart(12, "0")}` }, stderr: "", finalMessage: "x" });
    }
    const threads = createThreadRegistry({ runsDir, keepRuns: records });
    const times: number[] = [];
    for (let i = 0; i < 11; i++) {
      const t0 = performance.now();
      if (await threads.known(foreign)) throw new Error("a foreign thread was taken for ours");
      times.push(performance.now() - t0);
    }
    const first = times.shift()!;
    return { first, later: times.sort((a, b) => a - b)[5]! };
  } finally {
    await rm(runsDir, { recursive: true, force: true });
  }
}

const base = await missMs(10);
const line = (records: number, ms: { first: number; later: number }) =>
  `resume check, miss, ${records} records: first ${ms.first.toFixed(2)} ms (${(ms.first / base.first).toFixed(1)}x 10 records), ` +
  `later ${ms.later.toFixed(2)} ms (${(ms.later / base.later).toFixed(1)}x)`;
console.log(line(10, base));
for (const records of [100, 1000]) console.log(line(records, await missMs(records)));

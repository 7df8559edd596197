// Which threads `resume` may continue: those this process started, and those a kept run record names. Pruned records,
// planted links and FIFOs, and records of other shapes vouch for nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createRedactor } from "../../src/policy/redact.ts";
import { createRunRecords, pruneRuns } from "../../src/runs/record.ts";
import { createThreadRegistry } from "../../src/runs/threads.ts";

const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-threads-")));
afterAll(() => rm(scratch, { recursive: true, force: true }));
let n = 0;
const freshDir = async () => {
  const dir = path.join(scratch, `runs-${++n}`);
  await mkdir(dir);
  return dir;
};
const log = { error() {}, warn() {}, info() {}, debug() {} } as any;
const ours = "0199a213-81c0-7800-8aa1-bbab2a035a53";
const foreign = "0199a213-81c0-7800-8aa1-ffffffffffff";

async function recordRun(runsDir: string, threadId: string | null, keepRuns = 10): Promise<string> {
  const record = (await createRunRecords({ runsDir, keepRuns, redact: createRedactor([]), log })({ agent: "a", request: {} }))!;
  await record.finish({ result: { ok: true, thread_id: threadId }, stderr: "", finalMessage: "x" });
  return record.dir;
}

describe("thread registry", () => {
  test("a thread named by a kept run record is known, after a restart too; a foreign one is not", async () => {
    const runsDir = await freshDir();
    await recordRun(runsDir, ours);
    await recordRun(runsDir, null);
    const fresh = createThreadRegistry({ runsDir, keepRuns: 10 });
    expect(await fresh.known(ours)).toBe(true);
    expect(await fresh.known(ours.toUpperCase())).toBe(true);
    expect(await fresh.known(foreign)).toBe(false);
    expect(fresh.refusal(foreign).message).toContain(`resume "${foreign}" is not a thread this server started`);
    expect(fresh.refusal(foreign).hint).toContain("codex-subagents runs");
  });

  test("a thread this process started is known without any record (--keep-runs 0)", async () => {
    const threads = createThreadRegistry({ runsDir: path.join(scratch, "never-made"), keepRuns: 0 });
    expect(await threads.known(ours)).toBe(false);
    expect(threads.refusal(ours).message).toContain("--keep-runs 0");
    threads.remember(ours);
    expect(await threads.known(ours)).toBe(true);
  });

  test("a record pruned by --keep-runs no longer vouches for its thread, and the refusal says why", async () => {
    const runsDir = await freshDir();
    await recordRun(runsDir, ours);
    await new Promise((r) => setTimeout(r, 5));
    await recordRun(runsDir, null);
    await pruneRuns(runsDir, 1);
    const threads = createThreadRegistry({ runsDir, keepRuns: 1 });
    expect(await threads.known(ours)).toBe(false);
    expect(threads.refusal(ours).message).toContain("only the newest 1 records are kept, --keep-runs");
  });

  test("records beyond --keep-runs vouch for nothing even before the next run prunes them", async () => {
    const runsDir = await freshDir();
    await recordRun(runsDir, ours);
    await new Promise((r) => setTimeout(r, 5));
    await recordRun(runsDir, null);
    expect(await createThreadRegistry({ runsDir, keepRuns: 2 }).known(ours)).toBe(true);
    expect(await createThreadRegistry({ runsDir, keepRuns: 1 }).known(ours)).toBe(false);
  });

  test("planted files vouch for nothing: a symlinked thread.txt, a FIFO (no hang), a directory of another shape", async () => {
    const runsDir = await freshDir();
    const linked = await recordRun(runsDir, null);
    const elsewhere = path.join(scratch, "elsewhere.txt");
    await writeFile(elsewhere, `${foreign}\n`);
    await rm(path.join(linked, "thread.txt"));
    await symlink(elsewhere, path.join(linked, "thread.txt"));
    await rm(path.join(linked, "result.json"));
    const fifo = await recordRun(runsDir, null);
    await rm(path.join(fifo, "thread.txt"));
    await rm(path.join(fifo, "result.json"));
    expect(spawnSync("mkfifo", [path.join(fifo, "thread.txt")]).status).toBe(0);
    await mkdir(path.join(runsDir, "not-a-run"));
    await writeFile(path.join(runsDir, "not-a-run", "thread.txt"), `${foreign}\n`);
    const threads = createThreadRegistry({ runsDir, keepRuns: 10 });
    expect(await threads.known(foreign)).toBe(false);
  });

  test("a record from before thread.txt existed vouches through its result.json", async () => {
    const runsDir = await freshDir();
    const dir = await recordRun(runsDir, ours);
    await rm(path.join(dir, "thread.txt"));
    expect(await createThreadRegistry({ runsDir, keepRuns: 10 }).known(ours)).toBe(true);
  });

  // How long the scan takes is measured in bench/resume-check.ts, not asserted here (shared machines are noisy).
  test("100 kept records: a miss reads them all and answers false; the oldest kept record still vouches", async () => {
    const runsDir = await freshDir();
    const oldest = "0199a213-81c0-7800-8aa1-000000000000";
    for (let i = 0; i < 100; i++) await recordRun(runsDir, `0199a213-81c0-7800-8aa1-${String(i).padStart(12, "0")}`, 1000);
    const threads = createThreadRegistry({ runsDir, keepRuns: 100 });
    expect(await threads.known(foreign)).toBe(false);
    expect(await threads.known(oldest)).toBe(true);
  });
});

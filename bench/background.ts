/**
 * Background runs through the built server:
 *   fan-out  three background delegations of a fake codex that works 2 s each, then one get_run per run: the wall
 *            time against the longest run (ideal 1.0) and against the sum (what one-at-a-time calls would take);
 *   load     50 background delegations of a no-op codex at --max-concurrency 4, collected with get_run: all must
 *            finish, each answered once with its own answer, and the server's peak RSS stays under 150 MB.
 *
 *   bun run bench/background.ts [--runs 50]
 * Exit 1 when a load check fails.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const repo = path.resolve(import.meta.dir, "..");
const fakeCodex = path.join(repo, "test", "fixtures", "fake-codex", "fake-codex.mjs");
const runsArg = process.argv.indexOf("--runs");
const loadRuns = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 50;
const RSS_LIMIT_MB = 150;

async function startServer(work: string, args: string[]): Promise<{ client: Client; pid: number; close: () => Promise<void> }> {
  const transport = new StdioClientTransport({
    command: path.join(repo, "dist", "codex-subagents"),
    args: ["serve", "--root", work, "--codex", fakeCodex, "--runs-dir", path.join(work, ".runs"), ...args],
    env: { PATH: process.env.PATH ?? "", HOME: work, CODEX_HOME: work },
    stderr: "ignore",
  });
  const client = new Client({ name: "bench", version: "0" });
  await client.connect(transport);
  return { client, pid: transport.pid!, close: () => client.close() };
}

function memoryMB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, hwm: kib("VmHWM") / 1024 };
}

const call = (final: string, sleepMs: number) => ({
  agent: "bench",
  task: "do the thing",
  persona: `FAKE-CODEX ${JSON.stringify({ final, sleepMs })}`,
  background: true,
});

async function collect(client: Client, id: string): Promise<any> {
  for (;;) {
    const r: any = await client.callTool({ name: "get_run", arguments: { run_id: id, wait_s: 10 } });
    const view = r.structuredContent;
    if (view.status !== "queued" && view.status !== "running") return view;
  }
}

const work = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-bench-background-")));
let failed = false;
try {
  // ---- fan-out ----
  {
    const server = await startServer(work, ["--max-concurrency", "4"]);
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(((await server.client.callTool({ name: "delegate", arguments: call(`fan ${i}`, 2000) })) as any).structuredContent.run_id);
    const results = [];
    for (const id of ids) results.push(await collect(server.client, id));
    const wall = performance.now() - t0;
    const durations = results.map((r) => r.duration_ms as number);
    const longest = Math.max(...durations);
    const sum = durations.reduce((a, b) => a + b, 0);
    console.log("fan-out: 3 background runs of ~2 s, then 3 get_run calls");
    console.log(`  wall ${Math.round(wall)} ms; longest run ${longest} ms; sum of runs ${sum} ms`);
    console.log(`  wall / longest = ${(wall / longest).toFixed(2)} (1.00 is ideal); sum / wall = ${(sum / wall).toFixed(2)}x faster than one at a time`);
    await server.close();
  }

  // ---- load ----
  {
    const server = await startServer(work, ["--max-concurrency", "4"]);
    let peak = memoryMB(server.pid).rss;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, memoryMB(server.pid).rss);
      } catch {
        // the server is gone
      }
    }, 50);
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < loadRuns; i++) ids.push(((await server.client.callTool({ name: "delegate", arguments: call(`answer ${i}`, 0) })) as any).structuredContent.run_id);
    const started = performance.now() - t0;
    const answers = new Map<string, string[]>();
    for (const id of ids) {
      const view = await collect(server.client, id);
      answers.set(id, [...(answers.get(id) ?? []), `${view.status}:${view.final_message}`]);
    }
    const wall = performance.now() - t0;
    clearInterval(sampler);
    const { hwm } = memoryMB(server.pid);
    const succeeded = ids.filter((id, i) => answers.get(id)?.length === 1 && answers.get(id)![0] === `succeeded:answer ${i}`).length;
    const unique = new Set(ids).size;
    console.log(`load: ${loadRuns} background runs of a fast fake codex, --max-concurrency 4`);
    console.log(`  all ${loadRuns} started in ${Math.round(started)} ms; all collected after ${Math.round(wall)} ms`);
    console.log(`  finished with their own answer, once each: ${succeeded}/${loadRuns}; distinct run ids: ${unique}`);
    console.log(`  server RSS peak ${peak.toFixed(1)} MB (sampled), VmHWM ${hwm.toFixed(1)} MB; limit ${RSS_LIMIT_MB} MB`);
    if (succeeded !== loadRuns || unique !== loadRuns || hwm >= RSS_LIMIT_MB) failed = true;
    await server.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
if (failed) {
  console.log("FAIL: a load check did not hold");
  process.exit(1);
}

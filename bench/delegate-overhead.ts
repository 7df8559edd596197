/**
 * Delegate overhead: spawn-to-result of a `delegate` call through the built server, minus the fake codex's own
 * time (the same no-op script spawned directly with the same argv shape), with run records on as shipped.
 * Interleaved runs, medians, one table.
 *
 *   bun run bench/delegate-overhead.ts [--runs 40]
 */
import { spawn } from "node:child_process";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const repo = path.resolve(import.meta.dir, "..");
const fake = path.join(import.meta.dir, "fixtures", "noop-codex.sh");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 40;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function directRun(dir: string): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(fake, ["--cd", dir, "exec", "--json", "--skip-git-repo-check", "--output-last-message", path.join(dir, "last.txt"), "-"], { stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.on("error", reject);
    child.on("close", () => resolve());
    child.stdin.end("task");
  });
  return performance.now() - t0;
}

const work = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-bench-overhead-")));
const transport = new StdioClientTransport({
  command: path.join(repo, "dist", "codex-subagents"),
  args: ["serve", "--root", work, "--codex", fake, "--runs-dir", path.join(work, ".runs")],
  env: { PATH: process.env.PATH ?? "", HOME: work, CODEX_HOME: work },
  stderr: "ignore",
});
const client = new Client({ name: "bench", version: "0" });
await client.connect(transport);

const direct: number[] = [];
const viaServer: number[] = [];
for (let i = 0; i < 5; i++) await client.callTool({ name: "delegate", arguments: { agent: "review", task: "warm-up" } });
for (let i = 0; i < runs; i++) {
  direct.push(await directRun(work));
  const t0 = performance.now();
  const result: any = await client.callTool({ name: "delegate", arguments: { agent: "review", task: `task ${i}` } });
  viaServer.push(performance.now() - t0);
  if (!result.structuredContent?.ok) throw new Error(`delegate failed: ${JSON.stringify(result)}`);
}
await client.close();
await rm(work, { recursive: true, force: true });

const d = median(direct);
const s = median(viaServer);
console.log(`delegate overhead, ${runs} interleaved runs (medians)`);
console.log(`  fake codex spawned directly      ${d.toFixed(1)} ms`);
console.log(`  delegate call through the server ${s.toFixed(1)} ms   (${(s / d).toFixed(2)}x the direct spawn)`);
console.log(`  overhead (server - direct)       ${(s - d).toFixed(1)} ms   goal: <= 30 ms -> ${s - d <= 30 ? "met" : "NOT met"}`);

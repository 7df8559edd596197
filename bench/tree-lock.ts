/**
 * The tree lock's cost (src/runs/tree-lock.ts), side by side with what a run costs anyway:
 *   take+release  an uncontended claim taken and released (files in the work directory), against spawning the no-op
 *                 codex once (a run spawns the real one, which takes far longer): the ratio is the lock's share;
 *   hand-over     a conflicting claim waiting on a held one, from release to grant: in this process (woken at once)
 *                 and through a second lock on the same directory (what another process sees: it polls).
 * Interleaved runs, medians, one table.
 *
 *   bun run bench/tree-lock.ts [--runs 40]
 */
import { spawn } from "node:child_process";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { TreeLock, type TreeClaim } from "../src/runs/tree-lock.ts";

const fake = path.join(import.meta.dir, "fixtures", "noop-codex.sh");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 40;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const writer: TreeClaim = { cwd: "/r", writesInPlace: true, label: "writer" };
const reader: TreeClaim = { cwd: "/r/sub", writesInPlace: false, label: "reader" };

async function spawnNoop(dir: string): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(fake, ["--cd", dir, "exec", "--json", "-"], { stdio: ["pipe", "ignore", "ignore"] });
    child.on("error", reject);
    child.on("close", () => resolve());
    child.stdin.end("task");
  });
  return performance.now() - t0;
}

async function takeRelease(lock: TreeLock): Promise<number> {
  const t0 = performance.now();
  (await lock.hold(reader))();
  return performance.now() - t0;
}

async function handOver(holder: TreeLock, waiter: TreeLock): Promise<number> {
  const release = await holder.hold(writer);
  const waiting = waiter.hold(reader);
  await Bun.sleep(20);
  const t0 = performance.now();
  release();
  (await waiting)();
  return performance.now() - t0;
}

const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-bench-lock-")));
try {
  const workDir = path.join(base, "work");
  const lock = new TreeLock(workDir);
  const other = new TreeLock(workDir);
  const samples = { take: [] as number[], spawn: [] as number[], here: [] as number[], there: [] as number[] };
  await takeRelease(lock);
  await spawnNoop(base);
  for (let i = 0; i < runs; i++) {
    samples.take.push(await takeRelease(lock));
    samples.spawn.push(await spawnNoop(base));
    samples.here.push(await handOver(lock, lock));
    samples.there.push(await handOver(lock, other));
  }
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const take = median(samples.take);
  const noop = median(samples.spawn);
  console.log(`tree lock, ${runs} interleaved runs (medians)`);
  console.log(`  take + release (uncontended)       ${ms(take)}`);
  console.log(`  spawn of the no-op codex           ${ms(noop)}`);
  console.log(`  ratio lock / no-op spawn           ${(take / noop).toFixed(3)}`);
  console.log(`  hand-over in this process          ${ms(median(samples.here))}`);
  console.log(`  hand-over to another lock (polls)  ${ms(median(samples.there))}  (poll interval 100 ms)`);
} finally {
  await rm(base, { recursive: true, force: true });
}

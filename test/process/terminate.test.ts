// The one process-group kill (src/process/terminate.ts) as runProcess uses it: a time limit or an abort ends the
// child and everything in its group (SIGTERM, grace, SIGKILL), and no call leaves a process behind.
import { describe, expect, test } from "bun:test";
import { DRAIN_MS, runProcess } from "../../src/process/index.ts";
import { KILL_GRACE_MS } from "../../src/process/terminate.ts";
import { fixture, isAlive, leftAfter, minimalEnv, pidsIn, processesWith, RUNTIME, useTokens, waitFor } from "./helpers.ts";

const token = useTokens();

/** Start a fixture whose processes print "pid <n>"; resolves `ready` once `expected` pids arrived. */
function started(expected: number) {
  const lines: string[] = [];
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const onLine = (line: string) => {
    lines.push(line);
    if (pidsIn(lines).length >= expected) markReady();
  };
  return { lines, ready, onLine };
}

describe("time limit", () => {
  test("timeout → timedOut, and the child with its whole group is gone when the result arrives", async () => {
    const t = token("timeout");
    const seen = started(4);
    const before = performance.now();
    const result = await runProcess(RUNTIME, fixture("forever", t, "3"), { env: minimalEnv(), timeoutMs: 1500, stdout: { onLine: seen.onLine } });
    const wall = performance.now() - before;
    const pids = pidsIn(seen.lines);
    expect(pids.length).toBe(4); // the child and its three children all ran
    expect(result).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: "SIGTERM", spawnError: null });
    // They end on SIGTERM, so well within the grace: no SIGKILL was needed.
    expect(result.durationMs).toBeGreaterThanOrEqual(1500 - 5);
    expect(result.durationMs).toBeLessThan(1500 + KILL_GRACE_MS);
    expect(result.durationMs).toBeLessThanOrEqual(Math.ceil(wall) + 1);
    expect(await leftAfter(pids, t)).toEqual([]);
  });

  test("a group that ignores SIGTERM gets SIGTERM first, then SIGKILL once the grace is over", async () => {
    const t = token("ignore-term");
    const seen = started(3);
    const graceMs = 700;
    const result = await runProcess(RUNTIME, fixture("ignores-sigterm", t, "2"), { env: minimalEnv(), timeoutMs: 1500, graceMs, stdout: { onLine: seen.onLine } });
    const pids = pidsIn(seen.lines);
    expect(pids.length).toBe(3);
    // Every process of the group saw the SIGTERM (so git could clean up), and none outlived the SIGKILL.
    expect(seen.lines.filter((line) => line.startsWith("SIGTERM ignored by")).length).toBe(3);
    expect(result).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: "SIGKILL" });
    expect(result.durationMs).toBeGreaterThanOrEqual(1500 + graceMs - 5);
    expect(result.durationMs).toBeLessThan(1500 + graceMs + 1500);
    expect(await leftAfter(pids, t)).toEqual([]);
  });

  test("the grace is KILL_GRACE_MS (2 s) unless told otherwise", async () => {
    const t = token("default-grace");
    const result = await runProcess(RUNTIME, fixture("ignores-sigterm", t, "0"), { env: minimalEnv(), timeoutMs: 800 });
    expect(KILL_GRACE_MS).toBe(2000);
    expect(result.signal).toBe("SIGKILL");
    expect(result.durationMs).toBeGreaterThanOrEqual(800 + KILL_GRACE_MS - 5);
    expect(result.durationMs).toBeLessThan(800 + KILL_GRACE_MS + 1500);
    expect(await leftAfter([], t)).toEqual([]);
  });

  test("a child that finishes in time is not timed out", async () => {
    const t = token("in-time");
    const result = await runProcess(RUNTIME, fixture("exit-code", t, "0"), { env: minimalEnv(), timeoutMs: 30_000 });
    expect(result).toMatchObject({ timedOut: false, cancelled: false, exitCode: 0, signal: null });
  });
});

/** Run a fixture of `processes` processes and abort once every one of them printed its pid. */
async function abortOnceRunning(name: string, t: string, processes: number, graceMs?: number) {
  const seen = started(processes);
  const controller = new AbortController();
  const running = runProcess(RUNTIME, fixture(name, t, String(processes - 1)), { env: minimalEnv(), timeoutMs: 60_000, graceMs, signal: controller.signal, stdout: { onLine: seen.onLine } });
  await seen.ready;
  const abortedAt = performance.now();
  controller.abort();
  const result = await running;
  return { result, pids: pidsIn(seen.lines), sinceAbortMs: performance.now() - abortedAt };
}

describe("cancel", () => {
  test("abort → cancelled (not timedOut), and the group is gone", async () => {
    const t = token("abort");
    const { result, pids } = await abortOnceRunning("forever", t, 3);
    expect(pids.length).toBe(3);
    expect(result).toMatchObject({ cancelled: true, timedOut: false, exitCode: null, signal: "SIGTERM" });
    expect(result.durationMs).toBeLessThan(60_000);
    expect(await leftAfter(pids, t)).toEqual([]);
  });

  test("aborting a group that ignores SIGTERM ends it by SIGKILL after the grace", async () => {
    const t = token("abort-ignore");
    const { result, pids, sinceAbortMs } = await abortOnceRunning("ignores-sigterm", t, 2, 300);
    expect(sinceAbortMs).toBeGreaterThanOrEqual(300 - 5);
    expect(result).toMatchObject({ cancelled: true, timedOut: false, signal: "SIGKILL" });
    expect(await leftAfter(pids, t)).toEqual([]);
  });

  test("already aborted: nothing is started", async () => {
    const t = token("pre-abort");
    const result = await runProcess(RUNTIME, fixture("forever", t, "0"), { env: minimalEnv(), signal: AbortSignal.abort() });
    expect(result).toMatchObject({ cancelled: true, timedOut: false, exitCode: null, signal: null, spawnError: null, durationMs: 0 });
    expect(processesWith(t)).toEqual([]);
  });
});

describe("after the child exits", () => {
  test("a grandchild in the group holding the pipe is killed, and the result does not wait for it", async () => {
    const t = token("holds-pipe");
    const lines: string[] = [];
    const result = await runProcess(RUNTIME, fixture("holds-pipe", t, "group"), { env: minimalEnv(), timeoutMs: 60_000, stdout: { onLine: (l) => lines.push(l) } });
    const [grandchild] = pidsIn(lines.filter((l) => l.startsWith("grandchild")));
    expect(grandchild).toBeGreaterThan(0);
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
    expect(result.durationMs).toBeLessThan(DRAIN_MS + 3000);
    expect(await leftAfter([grandchild!], t)).toEqual([]);
  });

  test("a grandchild that left the group cannot hold the result: it comes at most DRAIN_MS after the exit", async () => {
    const t = token("escaped");
    const lines: string[] = [];
    const result = await runProcess(RUNTIME, fixture("holds-pipe", t, "escape"), { env: minimalEnv(), timeoutMs: 60_000, stdout: { onLine: (l) => lines.push(l) } });
    expect(result.exitCode).toBe(0);
    expect(result.timedOut).toBe(false);
    expect(result.durationMs).toBeGreaterThanOrEqual(DRAIN_MS - 5);
    expect(result.durationMs).toBeLessThan(DRAIN_MS + 3000);
    // Out of the group's reach by design (its own session): the limit of a group kill, cleaned up here.
    const [grandchild] = pidsIn(lines);
    expect(grandchild).toBeGreaterThan(0);
    expect(processesWith(t)).toEqual([grandchild!]);
    process.kill(grandchild!, "SIGKILL");
    expect(await waitFor(() => !isAlive(grandchild!), 2000)).toBe(true);
  });
});

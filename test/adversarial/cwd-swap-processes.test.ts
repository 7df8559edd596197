// The tree lock across processes: two servers on one CODEX_HOME must not let a run of one start in a directory the
// other's writer is swapping. With the real codex against the mock model, two client sessions each start their own
// server; both share one CODEX_HOME and the same root. Server A runs the hostile writer (cwd-swap.ts): a none-writer
// in the root that swaps `sub` for a symlink to a directory outside the roots and back, for longer than an escape
// took to reproduce against the in-memory lock (3 to 32 s). Meanwhile server B keeps starting calls in `sub`. When
// the lock lived in one process's memory, B never saw A's claim, and one of B's codex runs started in (and wrote to)
// the directory the link named. Now the claims are files in the shared private work directory (src/runs/tree-lock.ts):
// B's calls wait, queued with a step naming A's writer and its process, and run in the restored `sub` once the writer
// has ended. No marker appears outside the roots.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { lstatSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { functionCall } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";
import { countBadInput, reportTally, waitFor } from "./harness.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";
import { callInSub, expectRanInSubOrRefused, makeSwapWorld, swapCommand, SWAP_WRITER_CALL, type SwapWorld } from "./cwd-swap.ts";

let world: SwapWorld, serverA: ConnectedServer, serverB: ConnectedServer;
/**
 * The writer swaps in two bursts, one command each, 36 s in all: longer than the 32 s an escape took at most to
 * reproduce against the in-memory lock. Each burst ends before codex stops waiting for its command (about 30 s); a
 * command still running then would go on after the writer's run has ended and its claim is released (see SECURITY.md,
 * the tree lock's limits).
 */
const BURST_SECONDS = 18;
const BURSTS = 2;
/** B's calls in flight at once while the writer swaps. */
const IN_FLIGHT = 3;

beforeAll(async () => {
  world = await makeSwapWorld("cs-cwd-swap-procs-", (done, outside) =>
    done < BURSTS ? [functionCall({ name: "exec_command", args: { cmd: swapCommand(outside, BURST_SECONDS), yield_time_ms: (BURST_SECONDS + 8) * 1000 }, callId: `swap-${done}` })] : null);
  // Two sessions, one CODEX_HOME, the same root; started beside the root (in it, the writer would be refused for
  // being able to plant ./agents: planted-agents.test.ts).
  const args = ["--root", world.root, "--codex", codexBin, "--max-concurrency", "4"];
  serverA = await serveWithCodexHome(world.home, args, world.parent, { TMPDIR: world.tmpDir });
  serverB = await serveWithCodexHome(world.home, args, world.parent, { TMPDIR: world.tmpDir });
});
afterAll(async () => {
  await serverB?.close();
  await closeServerWorld({ server: serverA, mock: world.mock, home: world.home }, world.parent);
  reportTally(import.meta.file);
});

test(`a writer in server A swaps a directory for ${BURST_SECONDS * BURSTS} s; server B's calls there wait for it, none runs outside the roots`, async () => {
  const { sub, outside, home } = world;
  const writer: any = await serverA.client.callTool({ name: "delegate", arguments: SWAP_WRITER_CALL });
  expect(writer.isError).toBeFalsy();
  const writerId = writer.structuredContent.run_id;
  // Wait until the swapping has begun (sub is a symlink at some moment).
  expect(await waitFor(() => { try { return lstatSync(sub).isSymbolicLink(); } catch { return false; } }, 60_000)).toBe(true);

  const writerRunning = async () => ((await serverA.client.callTool({ name: "get_run", arguments: { run_id: writerId } })) as any).structuredContent.status === "running";
  const started: string[] = [];
  const unfinished = new Set<string>();
  let refusedAtOnce = 0;
  let sawWaiting = false;
  while (await writerRunning()) {
    for (const id of [...unfinished]) {
      const view: any = (await serverB.client.callTool({ name: "get_run", arguments: { run_id: id } })).structuredContent;
      if (view.status === "queued" && view.steps.some((s: string) => s.startsWith('waiting for "swapper" (in another codex-subagents process, pid '))) sawWaiting = true;
      if (view.status !== "queued" && view.status !== "running") unfinished.delete(id);
    }
    if (unfinished.size < IN_FLIGHT) {
      countBadInput();
      const call: any = await serverB.client.callTool({ name: "delegate", arguments: callInSub(sub) });
      if (call.isError) refusedAtOnce += 1; // sub was a symlink out of the roots at that moment: refused, nothing ran
      else {
        started.push(call.structuredContent.run_id);
        unfinished.add(call.structuredContent.run_id);
      }
    }
    await Bun.sleep(200);
  }
  const final: any = (await serverA.client.callTool({ name: "get_run", arguments: { run_id: writerId, wait_s: 50 } }, { timeout: 90_000 })).structuredContent;
  const results = await Promise.all(started.map(async (id) => ((await serverB.client.callTool({ name: "get_run", arguments: { run_id: id, wait_s: 50 } }, { timeout: 90_000 })) as any).structuredContent));
  const escaped = (await readdir(outside)).filter((name) => name.startsWith("marker-"));
  for (const r of results) if (r.status !== "succeeded") process.stderr.write(`B run ${r.status}: exit ${r.exit_code}; notes ${JSON.stringify(r.notes)}; final ${JSON.stringify(r.final_message)}; stderr ${JSON.stringify(String(r.stderr_tail).slice(-600))}\n`);
  process.stderr.write(`writer: ${final.status} after ${Math.round(final.duration_ms / 1000)} s; B's calls: ${started.length} started (${JSON.stringify(results.map((r) => `${r.status} ${r.working_dir === sub ? "in sub" : r.working_dir}`))}), ${refusedAtOnce} refused at once; markers outside the roots: ${escaped.length}\n`);

  expect(escaped).toEqual([]);
  expect(final.status).toBe("succeeded");
  expect(final.duration_ms).toBeGreaterThanOrEqual(32_000);
  expect(final.final_message).toBe("done"); // both bursts ran to their end inside the run
  expect(started.length).toBeGreaterThan(0);
  expect(sawWaiting).toBe(true);
  expectRanInSubOrRefused(results, sub);
  // Every claim was released: the tree lock's directory is gone from the shared work directory.
  expect(await readdir(path.join(home.dir, "subagents", "work"))).not.toContain("tree-locks");
}, 300_000);

// The cwd swapped after the last check, with the real codex against the mock model. Codex is handed the real path of
// its cwd, but resolves --cd again itself, after every check the server can make; when a symlink out of the roots
// stands there at that moment, codex's sandbox makes the OUTSIDE directory its writable root. The attacker is a
// sandboxed sub-agent itself (cwd-swap.ts): a none-writer in the root that keeps swapping `sub` for a symlink out of
// the roots and back, while other calls work in `sub`. The run table's tree lock (src/runs/tree-lock.ts) keeps them
// apart: a run that can write in place never overlaps a run whose cwd is below its own, so the calls in `sub` wait
// (queued, a step says why) and start once the writer has ended, in the restored directory.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import os from "node:os";
import { mkdtemp, readdir, realpath, rm } from "node:fs/promises";
import path from "node:path";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { functionCall } from "../helpers/mock-model.ts";
import { codexBin, distBinary } from "../helpers/paths.ts";
import { countBadInput, reportTally } from "./harness.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";
import { callInSub, expectRanInSubOrRefused, makeSwapWorld, swapCommand, SWAP_WRITER_CALL, type SwapWorld } from "./cwd-swap.ts";

let world: SwapWorld, server: ConnectedServer;
const SWAP_SECONDS = 6;

beforeAll(async () => {
  world = await makeSwapWorld("cs-cwd-swap-", (done, outside) =>
    done === 0 ? [functionCall({ name: "exec_command", args: { cmd: swapCommand(outside, SWAP_SECONDS), yield_time_ms: (SWAP_SECONDS + 20) * 1000 }, callId: "c1" })] : null);
  // Started beside the root, not in it: a writer in the server's working directory is refused, since it could plant
  // ./agents for the next start (test/adversarial/planted-agents.test.ts).
  server = await serveWithCodexHome(world.home, ["--root", world.root, "--codex", codexBin, "--max-concurrency", "4"], world.parent, { TMPDIR: world.tmpDir });
});
afterAll(async () => {
  await closeServerWorld({ server, mock: world.mock, home: world.home }, world.parent);
  reportTally(import.meta.file);
});

test("a none-writer swapping a directory below its cwd: calls there wait for it, none runs outside the roots", async () => {
  const { sub, outside } = world;
  const writer: any = await server.client.callTool({ name: "delegate", arguments: SWAP_WRITER_CALL });
  const writerId = writer.structuredContent.run_id;
  // Let the swapping start, then keep starting calls in sub until the writer has ended.
  await Bun.sleep(1500);
  const calls: Promise<any>[] = [];
  let sawWaiting = false;
  for (;;) {
    const state: any = await server.client.callTool({ name: "get_run", arguments: { run_id: writerId } });
    if (state.structuredContent.status !== "running") break;
    countBadInput();
    const started: any = await server.client.callTool({ name: "delegate", arguments: callInSub(sub) });
    if (started.isError) continue; // refused at once (sub was a symlink out of the roots at that moment): fine
    const id = started.structuredContent.run_id;
    for (let i = 0; i < 20 && !sawWaiting; i += 1) {
      const view: any = await server.client.callTool({ name: "get_run", arguments: { run_id: id } });
      if (view.structuredContent.status === "queued" && view.structuredContent.steps.some((s: string) => s.includes("can write in place"))) sawWaiting = true;
      else await Bun.sleep(50);
    }
    calls.push(server.client.callTool({ name: "get_run", arguments: { run_id: id, wait_s: 60 } }, { timeout: 90_000 }));
    await Bun.sleep(300);
    if (calls.length >= 12) break;
  }
  const results = await Promise.all(calls);
  const final: any = await server.client.callTool({ name: "get_run", arguments: { run_id: writerId, wait_s: 60 } }, { timeout: 90_000 });
  const escaped = (await readdir(outside)).filter((name) => name.startsWith("marker-"));
  const outcomes = results.map((r) => `${r.structuredContent?.status} ${r.structuredContent?.working_dir === sub ? "in sub" : r.structuredContent?.working_dir}`);
  process.stderr.write(`writer: ${final.structuredContent.status}; calls: ${JSON.stringify(outcomes)}; markers outside the roots: ${escaped.length}\n`);
  expect(escaped).toEqual([]);
  expect(final.structuredContent.status).toBe("succeeded");
  expect(calls.length).toBeGreaterThan(0);
  expect(sawWaiting).toBe(true);
  expectRanInSubOrRefused(results.map((r) => r.structuredContent), sub);
}, 240_000);

test("a root under /tmp or $TMPDIR, which every sandbox may write: doctor warns (and the server logs it), nothing is refused", async () => {
  const tmpRoot = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-tmp-root-")));
  try {
    const run = spawnSync(distBinary, ["doctor", "--root", tmpRoot, "--root", world.root, "--codex", codexBin], { env: { ...world.home.env, TMPDIR: world.tmpDir }, encoding: "utf8" });
    const warnings = run.stdout.split("\n").filter((l) => l.startsWith("WARN root:"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the root "${tmpRoot}" lies below`);
    expect(run.stdout).toContain("hint: keep --root directories outside /tmp and $TMPDIR");
  } finally {
    await rm(tmpRoot, { recursive: true, force: true });
  }
});

// The tree lock across processes (issue 18, finding 2), with the real codex against the mock model. Two client
// sessions each start their own server; both share one CODEX_HOME and the same root. Server A runs the hostile
// writer: a workspace-write sub-agent with isolation "none" in the root that swaps `sub` for a symlink to a
// directory outside the roots and back, for longer than the review needed to reproduce an escape (3 to 32 s).
// Meanwhile server B keeps starting calls in `sub`. When the lock lived in one process's memory, B never saw A's
// claim, and one of B's codex runs started in (and wrote to) the directory the link named. Now the claims are files in
// the shared private work directory (src/runs/tree-lock.ts): B's calls wait, queued with a step naming A's writer and
// its process, and run in the restored `sub` once the writer has ended. No marker appears outside the roots.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { lstatSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, functionCall, functionCallOutputs, startMockModel, type MockModel } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";
import { privateScratchWithDirs } from "../helpers/e2e-scratch.ts";
import { countBadInput, reportTally, waitFor } from "./harness.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";

let parent: string, home: CodexHome, mock: MockModel, serverA: ConnectedServer, serverB: ConnectedServer, root: string, sub: string, outside: string;
let n = 0;
/**
 * The writer swaps in two bursts, one command each, 36 s in all: longer than the 32 s the review's reproduction
 * needed at most. Each burst ends before codex stops waiting for its command (about 30 s); a command still running
 * then would go on after the writer's run has ended and its claim is released (see SECURITY.md, the tree lock's
 * limits).
 */
const BURST_SECONDS = 18;
const BURSTS = 2;
/** B's calls in flight at once while the writer swaps. */
const IN_FLIGHT = 3;

/** The hostile writer's command: swap sub for a symlink out of the roots and back, for BURST_SECONDS. */
function swapper(): string {
  return `end=$(( $(date +%s) + ${BURST_SECONDS} )); while [ "$(date +%s)" -lt "$end" ]; do mv sub sub.real && ln -s "${outside}" sub; sleep 0.0$(( RANDOM % 3 )); rm sub && mv sub.real sub; sleep 0.0$(( RANDOM % 3 )); done; echo SWAPPED`;
}

beforeAll(async () => {
  // Out of every sandbox's reach wherever the clone lives (a sandbox may write /tmp and $TMPDIR).
  [parent] = await privateScratchWithDirs("cs-cwd-swap-procs-");
  outside = path.join(parent, "outside");
  await mkdir(outside);
  mock = await startMockModel((req) => {
    const user = JSON.stringify(req.body?.input ?? "");
    const done = functionCallOutputs(req.body).length;
    if (user.includes("SWAP-IT") && done < BURSTS) return [functionCall({ name: "exec_command", args: { cmd: swapper(), yield_time_ms: (BURST_SECONDS + 8) * 1000 }, callId: `swap-${done}` })];
    if (done > 0) return [assistantMessage("done")];
    return [functionCall({ name: "exec_command", args: { cmd: `echo x > ./marker-${++n}; pwd -P` }, callId: "c1" })];
  });
  home = await makeCodexHome({ baseUrl: mock.baseUrl, parentDir: parent });
  root = path.join(parent, "project");
  sub = path.join(root, "sub");
  await mkdir(sub, { recursive: true });
  await mkdir(path.join(parent, "tmp"));
  // Two sessions, one CODEX_HOME, the same root; started beside the root (in it, the writer would be refused for
  // being able to plant ./agents: planted-agents.test.ts).
  const args = ["--root", root, "--codex", codexBin, "--max-concurrency", "4"];
  serverA = await serveWithCodexHome(home, args, parent, { TMPDIR: path.join(parent, "tmp") });
  serverB = await serveWithCodexHome(home, args, parent, { TMPDIR: path.join(parent, "tmp") });
});
afterAll(async () => {
  await serverB?.close();
  await closeServerWorld({ server: serverA, mock, home }, parent);
  reportTally(import.meta.file);
});

test(`a writer in server A swaps a directory for ${BURST_SECONDS * BURSTS} s; server B's calls there wait for it, none runs outside the roots`, async () => {
  const writer: any = await serverA.client.callTool({ name: "delegate", arguments: { agent: "swapper", persona: "Run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "SWAP-IT", isolation: "none", background: true } });
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
      const call: any = await serverB.client.callTool({ name: "delegate", arguments: { agent: "w", persona: "Run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "go", cwd: sub, background: true } });
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
  // Once the writer had ended, each of B's calls ran in the restored sub; one accepted while the writer ran may have
  // been refused when it checked its cwd again (the path named something outside the roots then): nothing ran.
  for (const view of results) {
    if (view.status === "succeeded") expect(view.working_dir).toBe(sub);
    else {
      expect(view.exit_code).toBeNull();
      expect(view.notes.join(" ")).toMatch(/^cwd "/);
    }
  }
  expect(results.filter((r) => r.status === "succeeded").length).toBeGreaterThan(0);
  // Every claim was released: the tree lock's directory is gone from the shared work directory.
  expect(await readdir(path.join(home.dir, "subagents", "work"))).not.toContain("tree-locks");
}, 300_000);

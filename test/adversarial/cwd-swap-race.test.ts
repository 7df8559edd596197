// The cwd swapped after the last check (issue 8, security review finding B), with the real codex against the mock
// model. Codex is handed the real path of its cwd, but resolves --cd again itself, after every check the server can
// make; when a symlink out of the roots stands there at that moment, codex's sandbox makes the OUTSIDE directory its
// writable root. The attacker is a sandboxed sub-agent itself: a workspace-write run with isolation "none" in the
// root that keeps swapping `sub` for a symlink to a directory outside the roots and back. Meanwhile other calls work
// in `sub`. The run table's tree lock (src/runs/tree-lock.ts) keeps them apart: a run that can write in place never
// overlaps a run whose cwd is below its own, so the calls in `sub` wait (queued, a step says why) and start once the
// writer has ended, in the restored directory.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import os from "node:os";
import { mkdir, mkdtemp, readdir, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, functionCall, functionCallOutputs, startMockModel, type MockModel } from "../helpers/mock-model.ts";
import { codexBin, distBinary } from "../helpers/paths.ts";
import { countBadInput, reportTally } from "./harness.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";
import { privateScratchWithDirs } from "../helpers/e2e-scratch.ts";

let parent: string, home: CodexHome, mock: MockModel, server: ConnectedServer, root: string, sub: string, outside: string;
let n = 0;
const SWAP_SECONDS = 6;

/** The hostile writer's command: swap sub for a symlink out of the roots and back, for SWAP_SECONDS. */
function swapper(): string {
  return `end=$(( $(date +%s) + ${SWAP_SECONDS} )); while [ "$(date +%s)" -lt "$end" ]; do mv sub sub.real && ln -s "${outside}" sub; sleep 0.0$(( RANDOM % 3 )); rm sub && mv sub.real sub; sleep 0.0$(( RANDOM % 3 )); done; echo SWAPPED`;
}

beforeAll(async () => {
  // Out of every sandbox's reach wherever the clone lives (a sandbox may write /tmp and $TMPDIR).
  [parent] = await privateScratchWithDirs("cs-cwd-swap-");
  outside = path.join(parent, "outside");
  await mkdir(outside);
  mock = await startMockModel((req) => {
    const user = JSON.stringify(req.body?.input ?? "");
    if (functionCallOutputs(req.body).length > 0) return [assistantMessage("done")];
    if (user.includes("SWAP-IT")) return [functionCall({ name: "exec_command", args: { cmd: swapper(), yield_time_ms: (SWAP_SECONDS + 20) * 1000 }, callId: "c1" })];
    return [functionCall({ name: "exec_command", args: { cmd: `echo x > ./marker-${++n}; pwd -P` }, callId: "c1" })];
  });
  home = await makeCodexHome({ baseUrl: mock.baseUrl, parentDir: parent });
  root = path.join(parent, "project");
  sub = path.join(root, "sub");
  await mkdir(sub, { recursive: true });
  await mkdir(path.join(parent, "tmp"));
  // Started beside the root, not in it: a writer in the server's working directory is refused, since it could plant
  // ./agents for the next start (test/adversarial/planted-agents.test.ts).
  server = await serveWithCodexHome(home, ["--root", root, "--codex", codexBin, "--max-concurrency", "4"], parent, { TMPDIR: path.join(parent, "tmp") });
});
afterAll(async () => {
  await closeServerWorld({ server, mock, home }, parent);
  reportTally(import.meta.file);
});

test("a none-writer swapping a directory below its cwd: calls there wait for it, none runs outside the roots", async () => {
  const writer: any = await server.client.callTool({ name: "delegate", arguments: { agent: "swapper", persona: "Run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "SWAP-IT", isolation: "none", background: true } });
  const writerId = writer.structuredContent.run_id;
  // Let the swapping start, then keep starting calls in sub until the writer has ended.
  await Bun.sleep(1500);
  const calls: Promise<any>[] = [];
  let sawWaiting = false;
  for (;;) {
    const state: any = await server.client.callTool({ name: "get_run", arguments: { run_id: writerId } });
    if (state.structuredContent.status !== "running") break;
    countBadInput();
    const started: any = await server.client.callTool({ name: "delegate", arguments: { agent: "w", persona: "Run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "go", cwd: sub, background: true } });
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
  // Once the writer had ended, each call ran in the restored sub. One accepted while the writer ran may still have
  // been refused when delegate() checked its cwd again before it queued for the tree (the path named nothing, or
  // something outside the roots, at that moment): refused, nothing ran.
  for (const r of results) {
    const view = r.structuredContent;
    if (view.status === "succeeded") expect(view.working_dir).toBe(sub);
    else {
      expect(view.exit_code).toBeNull();
      expect(view.notes.join(" ")).toMatch(/^cwd "/);
    }
  }
  expect(results.filter((r) => r.structuredContent.status === "succeeded").length).toBeGreaterThan(0);
}, 240_000);

test("a root under /tmp or $TMPDIR, which every sandbox may write: doctor warns (and the server logs it), nothing is refused", async () => {
  const tmpRoot = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-tmp-root-")));
  try {
    const run = spawnSync(distBinary, ["doctor", "--root", tmpRoot, "--root", root, "--codex", codexBin], { env: { ...home.env, TMPDIR: path.join(parent, "tmp") }, encoding: "utf8" });
    const warnings = run.stdout.split("\n").filter((l) => l.startsWith("WARN root:"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the root "${tmpRoot}" lies below`);
    expect(run.stdout).toContain("hint: keep --root directories outside /tmp and $TMPDIR");
  } finally {
    await rm(tmpRoot, { recursive: true, force: true });
  }
});

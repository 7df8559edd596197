/**
 * Run records through the server as users meet them: a delegation to the REAL codex (mock model) leaves a record
 * whose run_dir the result names, with no planted secret on disk; `runs` lists it. A fake codex drives the rest:
 * pruning to --keep-runs, failed runs in the listing, and a runs dir that cannot be written (the delegation still works).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import { connectServer, type ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, startMockModel, userMessages, type MockModel } from "../helpers/mock-model.ts";
import { codexBin, repoRoot } from "../helpers/paths.ts";
import { serverCommand } from "../helpers/server-command.ts";
import { runCli } from "../doctor/run-cli.ts";

const FAKE_CODEX = path.join(repoRoot, "test", "fixtures", "fake-codex", "fake-codex.mjs");
// Known to the server only as the value of a --pass-env variable: only the redactor's literal list can catch it.
const CANARY = `canary${Math.random().toString(36).slice(2, 12)}${Date.now().toString(36)}`;
const SHAPED = `sk-proj-${"Q".repeat(12)}${Math.random().toString(36).slice(2, 14)}`;

let scratch: string;
let mock: MockModel;
let home: CodexHome;
const servers: ConnectedServer[] = [];

beforeAll(async () => {
  scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-runs-e2e-")));
  mock = await startMockModel((req) => {
    const task = userMessages(req.body).at(-1) ?? "";
    return [assistantMessage(`here you go: ${CANARY} and ${SHAPED} for ${task}`)];
  });
  home = await makeCodexHome({ baseUrl: mock.baseUrl });
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await mock?.close();
  await home?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function start(args: string[], env: Record<string, string>): Promise<ConnectedServer> {
  // A CODEX_HOME of the test's own unless the case brings one: the server's private work directory lives below it.
  const server = await connectServer({ ...serverCommand(["--root", scratch, ...args]), env: { CODEX_HOME: path.join(scratch, "codex-home"), ...env }, cwd: scratch });
  servers.push(server);
  return server;
}

async function everyFile(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    out.push(...(entry.isDirectory() ? await everyFile(full) : [full]));
  }
  return out;
}

function fakePersona(script: Record<string, unknown>): string {
  return `FAKE-CODEX ${JSON.stringify(script)}`;
}

describe("run records through the server", () => {
  test("real codex: run_dir holds the request, events, stderr, final message and result; no secret on disk; runs lists it", async () => {
    const runsDir = path.join(scratch, "runs-real");
    const env = { ...home.env, MY_TOKEN: CANARY, CODEX_SUBAGENTS_RUNS_DIR: runsDir };
    const server = await start(["--codex", codexBin, "--pass-env", "MY_TOKEN"], env);
    const result: any = await server.client.callTool({ name: "delegate", arguments: { agent: "explain", task: `what is ${CANARY}?` } });
    const out = result.structuredContent;
    expect(out.ok).toBe(true);
    expect(out.final_message).toContain("[REDACTED]");
    expect(path.dirname(out.run_dir)).toBe(runsDir);
    expect(path.basename(out.run_dir)).toMatch(/^\d{8}T\d{6}\.\d{3}Z-explain-[0-9a-f]{32}$/);

    const names = (await readdir(out.run_dir)).sort();
    expect(names).toEqual(["events.jsonl", "final.md", "request.json", "result.json", "server.json", "stderr.txt", "thread.txt"]);
    const events = (await readFile(path.join(out.run_dir, "events.jsonl"), "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(events[0]).toEqual({ type: "thread.started", thread_id: out.thread_id });
    expect(events.some((e) => e.type === "turn.completed")).toBe(true);
    expect(events.some((e) => e.item?.type === "agent_message" && e.item.text.includes("[REDACTED]"))).toBe(true);
    // result.json is the finished result; run_id (the directory's name) and status are added when it is read back.
    const { run_id, status, elapsed_ms, steps, ...finished } = out;
    expect(run_id).toBe(path.basename(out.run_dir));
    expect(status).toBe("succeeded");
    expect(typeof elapsed_ms).toBe("number");
    expect(Array.isArray(steps)).toBe(true);
    expect(JSON.parse(await readFile(path.join(out.run_dir, "result.json"), "utf8"))).toEqual(finished);
    expect((await readFile(path.join(out.run_dir, "final.md"), "utf8")).trim()).toBe(out.final_message);
    const request = JSON.parse(await readFile(path.join(out.run_dir, "request.json"), "utf8"));
    expect(request).toMatchObject({ agent: "explain", cwd: scratch, isolation: "none" });
    expect(request.task).toBe("what is [REDACTED]?");
    expect((await stat(out.run_dir)).mode & 0o777).toBe(0o700);
    for (const file of await everyFile(runsDir)) {
      const text = await readFile(file, "utf8");
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(SHAPED);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }

    const listed = await runCli(["runs", "--json", "--runs-dir", runsDir], { cwd: scratch, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch } });
    expect(listed.code).toBe(0);
    const report = JSON.parse(listed.stdout);
    expect(report.runs_dir).toBe(runsDir);
    expect(report.runs).toHaveLength(1);
    expect(report.runs[0]).toMatchObject({
      run_id: out.run_id, agent: "explain", dir: out.run_dir, outcome: "ok", exit_code: 0, duration_ms: out.duration_ms, thread_id: out.thread_id,
      tokens: { input_tokens: 10, output_tokens: 5 },
    });
    // CODEX_SUBAGENTS_RUNS_DIR is honoured by `runs` as well as by the server.
    const viaEnv = await runCli(["runs"], { cwd: scratch, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CODEX_SUBAGENTS_RUNS_DIR: runsDir } });
    expect(viaEnv.stdout).toContain(out.run_id);
    expect(viaEnv.stdout).toMatch(/explain\s+ok\s+/);
  });

  test("fake codex: --keep-runs 2 keeps the two newest; failed runs show as failed; planted secrets stay off disk", async () => {
    const runsDir = path.join(scratch, "runs-fake");
    const server = await start(["--codex", FAKE_CODEX, "--keep-runs", "2", "--runs-dir", runsDir, "--pass-env", "MY_TOKEN"], { MY_TOKEN: CANARY });
    const runDirs: string[] = [];
    for (const exitCode of [0, 0, 1]) {
      const result: any = await server.client.callTool({
        name: "delegate",
        arguments: { agent: "fake", task: "go", persona: fakePersona({ secrets: [CANARY, SHAPED], exitCode }) },
      });
      expect(result.structuredContent.run_dir).toStartWith(runsDir);
      runDirs.push(result.structuredContent.run_dir);
    }
    expect((await readdir(runsDir)).sort()).toEqual(runDirs.slice(1).map((d) => path.basename(d)));
    for (const file of await everyFile(runsDir)) {
      const text = await readFile(file, "utf8");
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(SHAPED);
    }
    const listed = await runCli(["runs", "--runs-dir", runsDir], { cwd: scratch, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trimEnd().split("\n");
    expect(rows).toHaveLength(4);
    expect(rows[0]).toBe(`run records in ${runsDir} (one step by step: codex-subagents runs show RUN_ID)`);
    expect(rows[2]).toMatch(/fake\s+failed\s+.*3\/2\s+/);
    expect(rows[2]).toEndWith(path.basename(runDirs[2]!));
    expect(rows[3]).toMatch(/fake\s+ok\s+/);
    const limited = JSON.parse((await runCli(["runs", "--json", "--limit", "1", "--runs-dir", runsDir], { cwd: scratch, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } })).stdout);
    expect(limited.runs.map((r: any) => r.dir)).toEqual([runDirs[2]]);
  });

  test("a runs dir that cannot be written does not fail the delegation: run_dir is null and the server warns", async () => {
    const blocker = path.join(scratch, "not-a-dir");
    await writeFile(blocker, "");
    const server = await start(["--codex", FAKE_CODEX, "--runs-dir", path.join(blocker, "runs")], {});
    const result: any = await server.client.callTool({ name: "delegate", arguments: { agent: "fake", task: "go", persona: fakePersona({ final: "done anyway" }) } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.ok).toBe(true);
    expect(result.structuredContent.final_message).toBe("done anyway");
    expect(result.structuredContent.run_dir).toBeNull();
    expect(server.stderr()).toContain("could not create a run record");
  });

  test("--keep-runs 0: no record, run_dir null", async () => {
    const runsDir = path.join(scratch, "runs-off");
    const server = await start(["--codex", FAKE_CODEX, "--runs-dir", runsDir, "--keep-runs", "0"], {});
    const result: any = await server.client.callTool({ name: "delegate", arguments: { agent: "fake", task: "go", persona: fakePersona({}) } });
    expect(result.structuredContent.ok).toBe(true);
    expect(result.structuredContent.run_dir).toBeNull();
    expect(await stat(runsDir).catch(() => null)).toBeNull();
  });

  test("runs: usage errors exit 64 with nothing on stdout", async () => {
    for (const args of [["runs", "extra"], ["runs", "--limit", "0"], ["runs", "--limit", "many"], ["runs", "--bogus"], ["runs", "--json=1"]]) {
      const run = await runCli(args, { cwd: scratch, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
      expect(run.code).toBe(64);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^codex-subagents: .+\n(hint: .+\n)?$/);
    }
  });
});

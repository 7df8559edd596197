/**
 * Progress while a delegation runs: through the official SDK client with a progress token, against a slow
 * fake codex (test/fixtures/slow-codex) that reports a command, then stays silent for most of ~12 s, then answers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connectServer, type ConnectedServer } from "../helpers/mcp-client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { suiteValue } from "../helpers/e2e-suite.ts";
import { serverCommand } from "../helpers/server-command.ts";

const SLOW_CODEX = path.join(repoRoot, "test", "fixtures", "slow-codex", "slow-codex.mjs");
/** The promise to clients: a notification at least every 10 s. */
const MAX_SILENCE_MS = 10_000;

interface Seen {
  at: number;
  progress: number;
  message?: string;
}

let workDir: string;

beforeAll(async () => {
  workDir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-progress-")));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function start(extraArgs: string[] = []): Promise<ConnectedServer> {
  return connectServer({
    ...serverCommand(["--root", workDir, "--codex", SLOW_CODEX, "--runs-dir", path.join(workDir, ".runs"), ...extraArgs]),
    env: { HOME: workDir },
    cwd: workDir,
  });
}

function delegateArgs(task: string) {
  return { agent: "slowpoke", persona: "You are a slow test agent.", task };
}

describe("a slow delegation with a progress token", () => {
  let server: ConnectedServer;
  const clientErrors: Error[] = [];
  const seen: Seen[] = [];
  let startedAt = 0;
  let resultAt = 0;
  let result: any;

  beforeAll(async () => {
    server = await start();
    server.client.onerror = (error) => clientErrors.push(error);
    startedAt = Date.now();
    result = await server.client.callTool({ name: "delegate", arguments: delegateArgs("run the tests") }, {
      onprogress: (p) => seen.push({ at: Date.now(), progress: p.progress, message: p.message }),
      timeout: 60_000,
    });
    resultAt = Date.now();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  test("the call succeeds with the fake codex's answer", () => {
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ ok: true, final_message: "slow codex finished: run the tests", exit_code: 0 });
  });

  test("notifications arrive and progress strictly increases", () => {
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
  });

  test("messages are short human lines, and name the steps codex reported", () => {
    for (const s of seen) {
      expect(typeof s.message).toBe("string");
      expect(s.message!).toMatch(/^[^\n\r]{1,160}$/);
    }
    const messages = seen.map((s) => s.message);
    expect(messages).toContain("running: npm test");
    expect(messages.some((m) => m!.startsWith("ran: npm test"))).toBe(true);
    expect(messages).toContain("answer ready");
    // During the long silence only the heartbeat speaks; it still says what is going on.
    const silent = seen.filter((s) => s.at - startedAt > 2000 && s.at - startedAt < 10_000);
    expect(silent.length).toBeGreaterThanOrEqual(1);
    for (const s of silent) expect(s.message).toContain("npm test");
  });

  test("at least one notification in every 10 s window, from the call to the result", () => {
    const times = [startedAt, ...seen.map((s) => s.at), resultAt];
    // The run is long enough that the heartbeat, not codex's events, must fill the gap.
    expect(resultAt - startedAt).toBeGreaterThan(MAX_SILENCE_MS);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(MAX_SILENCE_MS);
  });

  test("nothing arrives after the result", async () => {
    const count = seen.length;
    expect(seen.every((s) => s.at <= resultAt)).toBe(true);
    // Longer than one heartbeat period: a heartbeat left running would show up here (the client reports a
    // notification for a finished request as an "unknown token" error).
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(seen.length).toBe(count);
    expect(clientErrors.map(String).filter((e) => e.includes("progress"))).toEqual([]);
  }, 20_000);
});

describe("a queued call", () => {
  const server = suiteValue(() => start(["--max-concurrency", "1"]), (s) => s.close());

  test("reports that it waits for a free slot, then runs", async () => {
    const first: Seen[] = [];
    const second: Seen[] = [];
    let firstRunning!: () => void;
    const running = new Promise<void>((resolve) => (firstRunning = resolve));
    const one = server().client.callTool({ name: "delegate", arguments: delegateArgs("first total_ms=3000") }, {
      onprogress: (p) => {
        first.push({ at: Date.now(), progress: p.progress, message: p.message });
        firstRunning();
      },
      timeout: 60_000,
    });
    // The first call holds the only slot once it reports anything.
    await running;
    const two = server().client.callTool({ name: "delegate", arguments: delegateArgs("second total_ms=500") }, {
      onprogress: (p) => second.push({ at: Date.now(), progress: p.progress, message: p.message }),
      timeout: 60_000,
    });
    const [r1, r2]: any[] = await Promise.all([one, two]);
    expect(r1.structuredContent.ok).toBe(true);
    expect(r2.structuredContent.ok).toBe(true);
    expect(r2.structuredContent.final_message).toBe("slow codex finished: second total_ms=500");

    expect(first.some((s) => /wait/i.test(s.message ?? ""))).toBe(false);
    const waitIndex = second.findIndex((s) => /waiting/i.test(s.message ?? ""));
    expect(waitIndex).toBe(0);
    expect(second[0]!.message).toMatch(/^[^\n]{1,160}$/);
    // After the wait it really ran: codex's own steps follow.
    expect(second.slice(1).map((s) => s.message)).toContain("running: npm test");
  }, 60_000);
});

// The pure parts of background runs: run ids, the final status, the one result schema for both shapes, the
// record named by a given id, `run`'s argument split, and `runs show`'s reading of codex events.
import { describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseRunArgs } from "../../src/commands/run.ts";
import { UsageError } from "../../src/errors.ts";
import { createLogger } from "../../src/log.ts";
import { isRunId, mintRunId, RUN_ID_PATTERN } from "../../src/runs/id.ts";
import { finalStatusOf } from "../../src/runs/manager.ts";
import { createRunRecords, RUN_DIR_PATTERN } from "../../src/runs/record.ts";
import { printable } from "../../src/escape.ts";
import { eventSteps, formatStep } from "../../src/runs/show.ts";
import { runResultSchema } from "../../src/shapes/run-result.ts";

describe("run ids", () => {
  test("carry 128 random bits, name the agent and time, and are valid record names", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => mintRunId("review", new Date("2026-11-25T03:15:00.123Z"))));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^20261125T031500\.123Z-review-[0-9a-f]{32}$/);
      expect(RUN_DIR_PATTERN.test(id)).toBe(true);
      expect(isRunId(id)).toBe(true);
    }
  });
  test("old 6-hex record names, paths and junk are not run ids", () => {
    for (const bad of ["20261125T031500.123Z-review-a1b2c3", `../20261125T031500.123Z-review-${"0".repeat(32)}`, `20261125T031500.123Z-review-${"0".repeat(32)}/x`, "", "nope"]) {
      expect(RUN_ID_PATTERN.test(bad)).toBe(false);
    }
  });
  test("a record started with an id is named exactly that", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "cs-runid-"));
    try {
      const start = createRunRecords({ runsDir: dir, keepRuns: 10, redact: (t) => t, log: createLogger({ level: "error", redact: (t) => t, write: () => {} }) });
      const id = mintRunId("explain");
      const record = await start({ agent: "explain", request: {}, id });
      expect(path.basename(record!.dir)).toBe(id);
      expect(await readdir(dir)).toEqual([id]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("status", () => {
  test("final status from a finished result", () => {
    expect(finalStatusOf({ ok: true, timed_out: false, cancelled: false })).toBe("succeeded");
    expect(finalStatusOf({ ok: false, timed_out: true, cancelled: false })).toBe("timed_out");
    expect(finalStatusOf({ ok: false, timed_out: false, cancelled: true })).toBe("cancelled");
    expect(finalStatusOf({ ok: false, timed_out: false, cancelled: false })).toBe("failed");
  });
});

describe("one result schema for both shapes", () => {
  const base = { agent: "review", working_dir: "/w", isolation: "none", notes: [], run_id: mintRunId("review"), elapsed_ms: 5, steps: ["starting codex"] };
  test("a running run without the finished fields validates", () => {
    expect(runResultSchema.safeParse({ ...base, status: "running" }).success).toBe(true);
    expect(runResultSchema.safeParse({ ...base, status: "queued" }).success).toBe(true);
  });
  test("a finished run validates; a bad status or a missing run_id does not", () => {
    const finished = {
      ...base, status: "succeeded", ok: true, exit_code: 0, final_message: "done", thread_id: null, usage: null, duration_ms: 3,
      stderr_tail: "", timed_out: false, cancelled: false, run_dir: null,
    };
    expect(runResultSchema.safeParse(finished).success).toBe(true);
    expect(runResultSchema.safeParse({ ...finished, status: "done" }).success).toBe(false);
    const { run_id: _, ...noId } = finished;
    expect(runResultSchema.safeParse(noId).success).toBe(false);
  });
});

describe("run's arguments", () => {
  test("agent, task, run flags and server flags are told apart", () => {
    const args = parseRunArgs(["review", "the task", "--cwd", "/w", "--json", "--timeout", "60", "--isolation=worktree", "--root", "/r"]);
    expect(args.agent).toBe("review");
    expect(args.task).toBe("the task");
    expect(args.json).toBe(true);
    expect(args.values.get("--cwd")).toBe("/w");
    expect(args.values.get("--isolation")).toBe("worktree");
    expect(args.serverArgv).toEqual(["--timeout", "60", "--root", "/r"]);
  });
  for (const bad of [[], ["a", "b", "c"], ["a", "--isolation", "x"], ["a", "--resume", "not-a-thread"], ["a", "t", "--task-file", "f"], ["a", "--nope"], ["a", "--json=1"], ["a", "--cwd"]]) {
    test(`${JSON.stringify(bad)} is a usage error`, () => {
      expect(() => parseRunArgs(bad)).toThrow(UsageError);
    });
  }
});

describe("runs show reads codex events", () => {
  test("commands with exit codes, file changes, messages, tool calls, errors; other events are no step", () => {
    const line = (o: unknown) => JSON.stringify(o);
    expect(eventSteps(line({ type: "item.completed", item: { type: "command_execution", command: "npm test", exit_code: 1 } }))).toEqual([{ type: "command", command: "npm test", exit_code: 1 }]);
    expect(eventSteps(line({ type: "item.completed", item: { type: "file_change", changes: [{ path: "a.ts", kind: "update" }, { path: "b.ts", kind: "add" }] } }))).toHaveLength(2);
    expect(eventSteps(line({ type: "item.completed", item: { type: "agent_message", text: "hi" } }))).toEqual([{ type: "message", text: "hi" }]);
    expect(eventSteps(line({ type: "item.completed", item: { type: "mcp_tool_call", server: "s", tool: "t" } }))).toEqual([{ type: "tool_call", tool: "s.t" }]);
    expect(eventSteps(line({ type: "error", message: "boom" }))).toEqual([{ type: "error", message: "boom" }]);
    for (const other of [line({ type: "turn.started" }), line({ type: "item.started", item: { type: "command_execution" } }), "not json", "[1]", "null"]) {
      expect(eventSteps(other)).toEqual([]);
    }
    expect(formatStep({ type: "command", command: "git  log\n-1", exit_code: 0 })).toBe("$ git log -1  (exit 0)");
  });
  test("terminal escape sequences in a sub-agent's text are neutralised", () => {
    expect(printable("a\u001b]0;pwned\u0007b\u009b2J\nc\td")).toBe("a?]0;pwned?b?2J\nc\td");
    expect(formatStep({ type: "message", text: "\u001b[2Jclear" })).toBe("> ?[2Jclear");
  });
});

describe("--max-wait", () => {
  test("default 50, flag, environment, bounds", async () => {
    const { parseServerOptions } = await import("../../src/config.ts");
    expect(parseServerOptions([], {}, "/").maxWaitS).toBe(50);
    expect(parseServerOptions(["--max-wait", "5"], { CODEX_SUBAGENTS_MAX_WAIT: "7" }, "/").maxWaitS).toBe(5);
    expect(parseServerOptions([], { CODEX_SUBAGENTS_MAX_WAIT: "7" }, "/").maxWaitS).toBe(7);
    for (const bad of ["0", "3601", "soon"]) expect(() => parseServerOptions(["--max-wait", bad], {}, "/")).toThrow(UsageError);
  });
});

describe("runs show on a record whose server is gone", () => {
  test("--follow stops and says why; the last JSON line and get_run carry it; a live or foreign server is waited for", async () => {
    const { showRun } = await import("../../src/runs/show.ts");
    const { mkdir, writeFile } = await import("node:fs/promises");
    const { spawnSync } = await import("node:child_process");
    const runsDir = await mkdtemp(path.join(os.tmpdir(), "cs-abandoned-"));
    try {
      const deadPid = spawnSync("true").pid!; // exited and reaped: no process has this pid now
      const record = async (server: object) => {
        const id = mintRunId("review");
        await mkdir(path.join(runsDir, id));
        await writeFile(path.join(runsDir, id, "request.json"), JSON.stringify({ agent: "review", task: "t" }));
        await writeFile(path.join(runsDir, id, "events.jsonl"), "");
        await writeFile(path.join(runsDir, id, "server.json"), JSON.stringify(server));
        return id;
      };
      const lines: string[] = [];
      const gone = await showRun(runsDir, await record({ pid: deadPid, host: os.hostname() }), { follow: true, json: true, out: (t) => lines.push(t), pollMs: 20 });
      expect(gone.status).toBe("incomplete");
      expect(gone.abandoned).toBe(`the server that ran it (pid ${deadPid}) is no longer running, so this run will not finish`);
      expect(JSON.parse(lines.at(-1)!)).toEqual({ result: null, status: "incomplete", abandoned: gone.abandoned });
      // get_run on such a record says it will not finish; on a live server's record, that it runs elsewhere.
      const { RunManager } = await import("../../src/runs/manager.ts");
      const { testContext } = await import("../helpers/delegate-context.ts");
      const manager = new RunManager({ context: await testContext(runsDir), shutdownSignal: new AbortController().signal, runsDir });
      const lookedUp = await manager.lookup(gone.run_id);
      expect(lookedUp).toMatchObject({ found: "none" });
      expect((lookedUp as { message: string }).message).toContain(`its server (pid ${deadPid}) is no longer running, so it will not finish`);
      const live = await manager.lookup(await record({ pid: process.pid, host: os.hostname() }));
      expect((live as { message: string }).message).toContain("it is running in another codex-subagents server");
      // A run's record directory (a result's run_dir) names it as well as its id does, inside this runs directory only.
      const byDir = await manager.lookup(path.join(runsDir, gone.run_id));
      expect((byDir as { message: string }).message).toContain(`its server (pid ${deadPid}) is no longer running`);
      const elsewhere = await manager.lookup(path.join(os.tmpdir(), "elsewhere", gone.run_id));
      expect((elsewhere as { message: string }).message).toContain("unknown run_id");
      // Alive (this process), or on another host: still followed until the signal ends it.
      for (const server of [{ pid: process.pid, host: os.hostname() }, { pid: deadPid, host: `not-${os.hostname()}` }]) {
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 150);
        const waited = await showRun(runsDir, await record(server), { follow: true, json: true, out: () => {}, pollMs: 20, signal: controller.signal });
        expect(waited.abandoned).toBeUndefined();
        expect(controller.signal.aborted).toBe(true);
      }
    } finally {
      await rm(runsDir, { recursive: true, force: true });
    }
  });
});

describe("runs show --follow --json on a record that finishes while it is followed", () => {
  test("one line per step as it is written, then the result line", async () => {
    const { showRun } = await import("../../src/runs/show.ts");
    const { appendFile, mkdir, writeFile } = await import("node:fs/promises");
    const runsDir = await mkdtemp(path.join(os.tmpdir(), "cs-follow-"));
    try {
      const id = mintRunId("review");
      const dir = path.join(runsDir, id);
      await mkdir(dir);
      await writeFile(path.join(dir, "request.json"), JSON.stringify({ agent: "review", task: "t" }));
      await writeFile(path.join(dir, "events.jsonl"), JSON.stringify({ type: "item.completed", item: { type: "command_execution", command: "ls", exit_code: 0 } }) + "\n");
      const lines: string[] = [];
      const followed = showRun(runsDir, id, { follow: true, json: true, out: (t) => lines.push(t), pollMs: 20 });
      await new Promise((r) => setTimeout(r, 150));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toEqual({ step: { type: "command", command: "ls", exit_code: 0 } });
      // Half a line is not a step until its newline arrives.
      const message = JSON.stringify({ type: "item.completed", item: { type: "agent_message", text: "done" } });
      await appendFile(path.join(dir, "events.jsonl"), message.slice(0, 10));
      await new Promise((r) => setTimeout(r, 100));
      expect(lines).toHaveLength(1);
      await appendFile(path.join(dir, "events.jsonl"), message.slice(10) + "\n");
      await writeFile(path.join(dir, "result.json"), JSON.stringify({ ok: true, timed_out: false, cancelled: false, final_message: "done", notes: [] }));
      const show = await followed;
      expect(show.status).toBe("succeeded");
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        { step: { type: "command", command: "ls", exit_code: 0 } },
        { step: { type: "message", text: "done" } },
        { result: { ok: true, timed_out: false, cancelled: false, final_message: "done", notes: [] }, status: "succeeded" },
      ]);
    } finally {
      await rm(runsDir, { recursive: true, force: true });
    }
  });
});

// Background runs against the fake codex: delegate background: true returns at once with a run id,
// get_run collects the result (waiting at most --max-wait), runs queue behind --max-concurrency, cancel_run ends a
// SIGTERM-ignoring codex and its grandchildren within 5 s, the server's exit ends and records every run still going,
// and a finished run stays readable after a restart. The SDK client checks every structuredContent against the
// tool's output schema, so each call here also proves both result shapes (running and finished) validate.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { mintRunId, RUN_ID_PATTERN } from "../../src/runs/id.ts";
import {
  afterCase, caseOnServer, countBadInput, expectNoSurvivors, expectNoTempDirs, fakeCall, fakePersona, isAlive, newToken,
  processesWith, startRawServer, startServer, useScratch, waitFor, type AdversarialServer, type FakeScript,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);

const runsDir = () => path.join(scratch.codexHome, "subagents", "runs");

async function recordedPids(): Promise<number[]> {
  return (await readdir(path.join(scratch.report, "pids")).catch(() => [] as string[])).map(Number);
}

/** Starts `count` background runs of the fake codex, run i scripted by `script(i)`; their run ids, in order. */
async function startInBackground(server: AdversarialServer, token: string, count: number, script: (i: number) => FakeScript): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, script(i), { background: true }) });
    ids.push(r.structuredContent.run_id);
  }
  return ids;
}

/** get_run, waiting `waitS` at a time, until the run is neither queued nor running; its last view. */
async function finishedView(server: AdversarialServer, runId: string, waitS: number): Promise<any> {
  let view: any;
  do view = (await server.client.callTool({ name: "get_run", arguments: { run_id: runId, wait_s: waitS } })).structuredContent;
  while (view.status === "queued" || view.status === "running");
  return view;
}

/** Fields only a finished run has. */
const FINISHED_FIELDS = ["ok", "exit_code", "final_message", "thread_id", "usage", "duration_ms", "stderr_tail", "timed_out", "cancelled", "run_dir"];

describe("background delegations through one server", () => {
  let server: AdversarialServer;
  beforeAll(async () => {
    server = await startServer(scratch, { args: ["--max-concurrency", "2", "--max-wait", "2"] });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("background: true answers at once with run_id and status; get_run waits and returns the whole result", async () => {
    const token = newToken("bg");
    const t0 = Date.now();
    const started: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { sleepMs: 1500, final: "background answer" }, { background: true }) });
    const startMs = Date.now() - t0;
    expect(started.isError).toBeFalsy();
    const view = started.structuredContent;
    expect(startMs).toBeLessThan(1500);
    expect(view.run_id).toMatch(RUN_ID_PATTERN);
    expect(["queued", "running"]).toContain(view.status);
    expect(view.agent).toBe("fake");
    for (const field of FINISHED_FIELDS) expect(view).not.toHaveProperty(field);
    expect(JSON.parse(started.content[0].text)).toEqual(view);

    // --max-wait 2 caps a longer wait_s; the call answers with the run still going and says so.
    const w0 = Date.now();
    const early: any = await server.client.callTool({ name: "get_run", arguments: { run_id: view.run_id, wait_s: 0.3 } });
    expect(Date.now() - w0).toBeLessThan(1500);
    expect(early.structuredContent.status).toBe("running");

    let final: any;
    for (let i = 0; i < 10; i++) {
      final = (await server.client.callTool({ name: "get_run", arguments: { run_id: view.run_id, wait_s: 30 } })).structuredContent;
      if (final.status !== "running" && final.status !== "queued") break;
      expect(final.notes.join(" ")).toContain("capped at the server's --max-wait of 2 s");
    }
    expect(final.status).toBe("succeeded");
    expect(final.ok).toBe(true);
    expect(final.final_message).toBe("background answer");
    // A finished run is all there: no "call get_run again", however long the wait asked for.
    const again: any = await server.client.callTool({ name: "get_run", arguments: { run_id: view.run_id, wait_s: 30 } });
    expect(again.structuredContent.status).toBe("succeeded");
    expect(again.structuredContent.notes.join(" ")).not.toContain("call get_run again");
    // Its record directory (run_dir) names it as well as its run_id does.
    const byDir: any = await server.client.callTool({ name: "get_run", arguments: { run_id: final.run_dir } });
    expect(byDir.structuredContent.run_id).toBe(view.run_id);
    expect(final.run_dir).toBe(path.join(runsDir(), view.run_id));
    expect(final.steps.length).toBeGreaterThan(0);
    expect(final.elapsed_ms).toBeGreaterThanOrEqual(1500);
    // A foreground call carries run_id and a final status too.
    const fg: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token) });
    expect(fg.structuredContent.status).toBe("succeeded");
    expect(fg.structuredContent.run_id).toMatch(RUN_ID_PATTERN);
    await afterCase(server, token);
  }, 60_000);

  test("progress notifications flow while get_run waits, when the call has a progress token", async () => {
    const token = newToken("bgprog");
    const started: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { sleepMs: 1200, secrets: [] }, { background: true }) });
    const seen: string[] = [];
    const result: any = await server.client.callTool({ name: "get_run", arguments: { run_id: started.structuredContent.run_id, wait_s: 2 } }, {
      onprogress: (p) => seen.push(p.message ?? ""),
    });
    expect(result.structuredContent.status).toBe("succeeded");
    expect(seen.length).toBeGreaterThan(0);
    await afterCase(server, token);
  }, 60_000);

  test("fan-out: three background runs with --max-concurrency 2; the third is queued until a slot frees", async () => {
    const token = newToken("fan");
    const ids = await startInBackground(server, token, 3, (i) => ({ sleepMs: 1500, final: `answer ${i}` }));
    const third: any = await server.client.callTool({ name: "get_run", arguments: { run_id: ids[2] } });
    expect(third.structuredContent.status).toBe("queued");
    expect(third.structuredContent.notes.join(" ")).toContain("queued");
    const finals: any[] = [];
    for (const id of ids) finals.push(await finishedView(server, id, 2));
    expect(finals.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(finals.map((r) => r.final_message)).toEqual(["answer 0", "answer 1", "answer 2"]);
    // Never more than two fake codex processes ran at once.
    const maxSeen = (await readdir(scratch.report)).filter((n) => n.startsWith("maxseen-"));
    const counts = await Promise.all(maxSeen.map(async (n) => Number(await readFile(path.join(scratch.report, n), "utf8"))));
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
    await afterCase(server, token);
  }, 60_000);

  test("cancel_run ends a SIGTERM-ignoring codex and its grandchildren within 5 s and returns the cancelled result; again is not an error", async () => {
    countBadInput();
    const token = newToken("cancel");
    const started: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { ignoreTerm: true, grandchildren: 2, sleepMs: 120_000 }, { background: true, isolation: "mirror" }) });
    const id = started.structuredContent.run_id;
    expect(await waitFor(async () => (await recordedPids()).length === 3, 20_000)).toBe(true);
    const pids = await recordedPids();
    // --max-wait 2 caps wait_s 30: the call answers with the run still going, and says so.
    const w0 = Date.now();
    const waited: any = await server.client.callTool({ name: "get_run", arguments: { run_id: id, wait_s: 30 } });
    expect(Date.now() - w0).toBeLessThan(4000);
    expect(waited.structuredContent.status).toBe("running");
    expect(waited.structuredContent.notes.join(" ")).toContain("capped at the server's --max-wait of 2 s");
    const t0 = Date.now();
    const cancelled: any = await server.client.callTool({ name: "cancel_run", arguments: { run_id: id } });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(cancelled.isError).toBeFalsy();
    expect(cancelled.structuredContent.status).toBe("cancelled");
    expect(cancelled.structuredContent.cancelled).toBe(true);
    expect(pids.filter(isAlive)).toEqual([]);
    const again: any = await server.client.callTool({ name: "cancel_run", arguments: { run_id: id } });
    expect(again.isError).toBeFalsy();
    expect(again.structuredContent).toMatchObject({ run_id: id, status: "cancelled" });
    await afterCase(server, token);
  }, 60_000);

  test("cancel_run on a queued run: nothing ran, its record says cancelled", async () => {
    const token = newToken("cancelq");
    const ids = await startInBackground(server, token, 3, () => ({ sleepMs: 1000 }));
    const cancelled: any = await server.client.callTool({ name: "cancel_run", arguments: { run_id: ids[2] } });
    expect(cancelled.structuredContent.status).toBe("cancelled");
    expect(cancelled.structuredContent.notes.join(" ")).toContain("nothing ran");
    const record = JSON.parse(await readFile(path.join(runsDir(), ids[2]!, "result.json"), "utf8"));
    expect(record.cancelled).toBe(true);
    for (const id of ids.slice(0, 2)) await server.client.callTool({ name: "get_run", arguments: { run_id: id, wait_s: 2 } });
    await afterCase(server, token);
  }, 60_000);

  test("an unknown or guessed run_id says so and how to find recent runs", async () => {
    countBadInput(3);
    for (const id of ["nope", "20261125T031500.123Z-fake-a1b2c3", `../../${"0".repeat(32)}`]) {
      const r: any = await server.client.callTool({ name: "get_run", arguments: { run_id: id } });
      expect(r.isError).toBe(true);
      expect(r.content[0].text).toContain("codex-subagents runs");
    }
    const c: any = await server.client.callTool({ name: "cancel_run", arguments: { run_id: "nope" } });
    expect(c.isError).toBe(true);
    await afterCase(server);
  });

  test("planted records: a symlinked result.json, a symlinked run dir and an old guessable record are not read", async () => {
    countBadInput(3);
    const outside = path.join(scratch.base, "outside");
    await mkdir(path.join(outside, "dir"), { recursive: true });
    const planted = (marker: string) => JSON.stringify({ ok: true, agent: "fake", exit_code: 0, final_message: marker, thread_id: null, usage: null, duration_ms: 1, working_dir: "/", isolation: "none", stderr_tail: "", timed_out: false, cancelled: false, run_dir: null, notes: [] });
    await writeFile(path.join(outside, "result.json"), planted("LEAK-VIA-FILE-LINK"));
    await writeFile(path.join(outside, "dir", "result.json"), planted("LEAK-VIA-DIR-LINK"));
    await mkdir(runsDir(), { recursive: true });
    const fileLinkId = mintRunId("fake");
    await mkdir(path.join(runsDir(), fileLinkId));
    await symlink(path.join(outside, "result.json"), path.join(runsDir(), fileLinkId, "result.json"));
    const dirLinkId = mintRunId("fake");
    await symlink(path.join(outside, "dir"), path.join(runsDir(), dirLinkId));
    const oldName = "20261125T031500.123Z-fake-a1b2c3";
    await mkdir(path.join(runsDir(), oldName));
    await writeFile(path.join(runsDir(), oldName, "result.json"), planted("LEAK-VIA-GUESSABLE-NAME"));
    for (const id of [fileLinkId, dirLinkId, oldName]) {
      for (const tool of ["get_run", "cancel_run"]) {
        const r: any = await server.client.callTool({ name: tool, arguments: { run_id: id } });
        expect(r.isError).toBe(true);
        expect(JSON.stringify(r)).not.toContain("LEAK-VIA");
      }
    }
    await rm(path.join(runsDir(), fileLinkId), { recursive: true });
    await rm(path.join(runsDir(), dirLinkId));
    await rm(path.join(runsDir(), oldName), { recursive: true });
    await afterCase(server);
  });

  test("a background run refused after it was accepted: get_run gives the reason, then its hint as the next note", async () => {
    countBadInput();
    const token = newToken("refusedbg");
    const started: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { background: true, isolation: "worktree" }) });
    expect(started.isError).toBeUndefined();
    const view = await finishedView(server, started.structuredContent.run_id, 2);
    expect(view.status).toBe("failed");
    expect(view.notes).toEqual([
      `cwd "${scratch.root}" is not inside a git repository`,
      'hint: pass `cwd` naming a directory in one, use isolation "none" or "mirror", or run `git init` there',
    ]);
    const record = JSON.parse(await readFile(path.join(runsDir(), view.run_id, "result.json"), "utf8"));
    expect(record.notes).toEqual(view.notes);
    await afterCase(server, token);
  });

  test("a background request that fails the checks is refused at once, nothing queued", async () => {
    countBadInput();
    const r: any = await server.client.callTool({ name: "delegate", arguments: { agent: "no-such-agent", task: "x", background: true } });
    expect(r.isError).toBe(true);
    expect(r.content[0].text).toContain('unknown agent "no-such-agent"');
    const outside: any = await server.client.callTool({ name: "delegate", arguments: { ...fakeCall(scratch, "x"), cwd: "/", background: true } });
    expect(outside.isError).toBe(true);
    await afterCase(server);
  });
});

describe("load", () => {
  test("50 background runs against a fast fake codex: all finish, each answered once with its own answer, server RSS under 150 MB", async () => {
    countBadInput();
    const token = newToken("bgload");
    await caseOnServer(scratch, { args: ["--max-concurrency", "4"], token }, async (server) => {
      const ids = await startInBackground(server, token, 50, (i) => ({ final: `answer ${i}` }));
      expect(new Set(ids).size).toBe(50);
      const answers: string[] = [];
      for (const id of ids) {
        const view = await finishedView(server, id, 10);
        answers.push(`${view.status}:${view.final_message}`);
      }
      expect(answers).toEqual(ids.map((_, i) => `succeeded:answer ${i}`));
      const status = await readFile(`/proc/${server.pid}/status`, "utf8");
      const hwmKiB = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]);
      process.stderr.write(`  50 background runs: server VmHWM ${(hwmKiB / 1024).toFixed(1)} MB\n`);
      expect(hwmKiB).toBeLessThan(150 * 1024);
    });
  }, 120_000);
});

describe("a model starting runs in a loop", () => {
  test("the 101st unfinished run is refused with what to do; cancelling makes room again", async () => {
    countBadInput();
    const token = newToken("bgflood");
    await caseOnServer(scratch, { args: ["--max-concurrency", "1"], token }, async (server) => {
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) {
        const r: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { sleepMs: 60_000 }, { background: true }) });
        expect(r.isError).toBeFalsy();
        ids.push(r.structuredContent.run_id);
      }
      const refused: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { background: true }) });
      expect(refused.isError).toBe(true);
      expect(refused.content[0].text).toContain("100 runs are already queued or running");
      expect(refused.content[0].text).toContain("cancel_run");
      // Only one codex ran meanwhile (--max-concurrency 1); the queued 99 hold no process.
      expect(processesWith(token).length).toBeLessThanOrEqual(1);
      const cancelled: any = await server.client.callTool({ name: "cancel_run", arguments: { run_id: ids[99] } });
      expect(cancelled.structuredContent.status).toBe("cancelled");
      const again: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { background: true }) });
      expect(again.isError).toBeFalsy();
      for (const id of [...ids, again.structuredContent.run_id].reverse()) await server.client.callTool({ name: "cancel_run", arguments: { run_id: id } });
    });
  }, 120_000);
});

describe("runs never outlive the server", () => {
  test("stdin EOF with two background runs going ends both, records them cancelled; after a restart get_run returns them and a finished one", async () => {
    countBadInput();
    const token = newToken("bgeof");
    // A finished run first, to read back after the restart.
    const first = await startServer(scratch);
    const done: any = await first.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, { final: "kept across restarts" }, { background: true }) });
    const doneId = done.structuredContent.run_id;
    await first.client.callTool({ name: "get_run", arguments: { run_id: doneId, wait_s: 10 } });
    await first.close();
    await rm(scratch.report, { recursive: true, force: true });
    await mkdir(scratch.report);

    const raw = startRawServer(scratch);
    await raw.initialize();
    const ids: string[] = [];
    for (const id of [1, 2]) {
      raw.send({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "delegate", arguments: { agent: "fake", task: "t", background: true, persona: fakePersona({ token, report: scratch.report, ignoreTerm: true, grandchildren: 1, sleepMs: 120_000 }) } } });
      const answer = await raw.response(id);
      ids.push(answer.result.structuredContent.run_id);
    }
    expect(await waitFor(async () => (await recordedPids()).length === 4, 20_000)).toBe(true);
    const pids = await recordedPids();
    raw.child.stdin.end();
    const exit = await Promise.race([raw.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    if (exit === null) await raw.kill();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(pids.filter(isAlive)).toEqual([]);
    await expectNoSurvivors(scratch, token);
    await expectNoTempDirs(scratch);
    for (const id of ids) {
      const record = JSON.parse(await readFile(path.join(runsDir(), id, "result.json"), "utf8"));
      expect(record.cancelled).toBe(true);
    }

    await caseOnServer(scratch, { token }, async (again) => {
      for (const id of ids) {
        const r: any = await again.client.callTool({ name: "get_run", arguments: { run_id: id } });
        expect(r.isError).toBeFalsy();
        expect(r.structuredContent).toMatchObject({ run_id: id, status: "cancelled", cancelled: true });
      }
      const kept: any = await again.client.callTool({ name: "get_run", arguments: { run_id: doneId } });
      expect(kept.structuredContent).toMatchObject({ run_id: doneId, status: "succeeded", final_message: "kept across restarts" });
      const cancelFinished: any = await again.client.callTool({ name: "cancel_run", arguments: { run_id: doneId } });
      expect(cancelFinished.structuredContent.status).toBe("succeeded");
    });
  }, 90_000);
});

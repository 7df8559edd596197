// The 2026-07-28 revision over a raw stdio pipe, as a client of that revision speaks it: `server/discover`, then
// requests that each carry the `_meta` envelope, and never `initialize`. Every tool, its schemas, progress,
// cancellation and structuredContent work as they do in the 2025 handshake (protocol.test.ts, lifecycle.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdir } from "node:fs/promises";
import { SERVER_INSTRUCTIONS } from "../../src/server.ts";
import { inputSchemaProblems, outputSchemaProblems } from "../helpers/schema-lint.ts";
import {
  countBadInput, envelope, expectNoSurvivors, fakePersona, MODERN_REVISION, newToken, processesWith, recordedResults,
  startRawServer, useScratch, waitFor, type RawServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);
let raw: RawServer;
let discovered: any;

beforeAll(async () => {
  raw = startRawServer(scratch);
  discovered = await raw.discover();
});

afterAll(async () => {
  await raw?.kill();
});

const TOOLS = ["cancel_run", "delegate", "get_run", "list_agents", "validate_agents"];

describe("opening without initialize", () => {
  test("server/discover names 2026-07-28, the tools capability and the instructions; no initialize was sent", () => {
    expect(discovered.supportedVersions).toEqual([MODERN_REVISION]);
    expect(discovered.capabilities.tools).toBeDefined();
    expect(discovered.instructions).toBe(SERVER_INSTRUCTIONS);
    expect(raw.frames().some((f) => f.result?.protocolVersion !== undefined)).toBe(false);
  });

  test("tools/list with the envelope lists the five tools, with the portable schemas and the agents in delegate's description", async () => {
    raw.sendModern("list", "tools/list");
    const { result } = await raw.response("list");
    expect(result.tools.map((t: any) => t.name).sort()).toEqual(TOOLS);
    expect(result.tools.flatMap((t: any) => inputSchemaProblems(t.inputSchema).map((p) => `${t.name}: ${p}`))).toEqual([]);
    expect(result.tools.flatMap((t: any) => (t.outputSchema ? outputSchemaProblems(t.outputSchema).map((p) => `${t.name}: ${p}`) : []))).toEqual([]);
    expect(result.tools.find((t: any) => t.name === "delegate").description).toContain("- review:");
  });

  test("list_agents and validate_agents answer with structuredContent and the same JSON as text", async () => {
    raw.sendModern("agents", "tools/call", { name: "list_agents", arguments: {} });
    const agents = (await raw.response("agents")).result;
    expect(agents.structuredContent.agents.map((a: any) => a.name)).toContain("review");
    expect(JSON.parse(agents.content[0].text)).toEqual(agents.structuredContent);
    raw.sendModern("validate", "tools/call", { name: "validate_agents", arguments: {} });
    expect((await raw.response("validate")).result.structuredContent.summary.with_errors).toBe(0);
  });

  test("a bad call is an isError result naming the field; an unknown tool a -32602 error; the server goes on", async () => {
    countBadInput(2);
    raw.sendModern("bad", "tools/call", { name: "delegate", arguments: { agent: "review", task: "x", shell: "sh" } });
    const bad = (await raw.response("bad")).result;
    expect(bad.isError).toBe(true);
    expect(bad.content[0].text).toContain("shell");
    raw.sendModern("unknown", "tools/call", { name: "rm_rf", arguments: {} });
    const unknown = await raw.response("unknown");
    expect(unknown.error.code).toBe(-32602);
    expect(unknown.error.message).toContain("rm_rf");
  });

  test("a line that is not JSON still gets a Parse error (id null), and the next request is served", async () => {
    countBadInput();
    const before = raw.lines.length;
    raw.write("not json at all\n");
    raw.sendModern("after-junk", "tools/list");
    await raw.response("after-junk");
    expect(raw.frames().slice(before).filter((f) => f.id === null).map((f) => f.error.code)).toEqual([-32700]);
  });
});

describe("a delegation on the 2026-07-28 revision", () => {
  test("progress notifications carry the request's progressToken while it runs; the result has structuredContent", async () => {
    const token = newToken("modern-progress");
    raw.sendModern("run", "tools/call", { name: "delegate", arguments: { agent: "fake", task: "t", persona: fakePersona({ token, report: scratch.report, sleepMs: 6000, final: "modern done" }) } }, { progressToken: "modern-p" });
    const answer = await raw.response("run", 60_000);
    expect(answer.result.isError).toBeFalsy();
    expect(answer.result.structuredContent).toMatchObject({ ok: true, final_message: "modern done", cancelled: false });
    const progress = raw.frames().filter((f) => f.method === "notifications/progress" && f.params.progressToken === "modern-p");
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => typeof p.params.message === "string")).toBe(true);
    await expectNoSurvivors(scratch, token);
  }, 60_000);

  test("notifications/cancelled ends the sub-agent and everything it started; its record says cancelled", async () => {
    const token = newToken("modern-cancel");
    const recordsBefore = (await recordedResults(scratch)).length;
    raw.sendModern("doomed", "tools/call", { name: "delegate", arguments: { agent: "fake", task: "t", persona: fakePersona({ token, report: scratch.report, ignoreTerm: true, grandchildren: 2, sleepMs: 120_000 }) } }, { progressToken: "doomed-p" });
    expect(await waitFor(() => processesWith(token).length >= 3, 20_000)).toBe(true);
    raw.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "doomed", reason: "the user pressed stop", _meta: envelope() } });
    await expectNoSurvivors(scratch, token);
    const record = await waitFor(async () => (await recordedResults(scratch)).length > recordsBefore, 10_000);
    expect(record).toBe(true);
    expect((await recordedResults(scratch)).at(-1)).toMatchObject({ cancelled: true, ok: false });
    // The cancelled request is not answered (the MCP spec says so); the server answers the next one.
    raw.sendModern("after-cancel", "tools/list");
    expect((await raw.response("after-cancel")).result.tools).toHaveLength(5);
    expect(raw.frames().some((f) => f.id === "doomed" && ("result" in f || "error" in f))).toBe(false);
    expect(await readdir(scratch.tmp)).toEqual([]);
  }, 60_000);

  test("background: delegate returns a run_id at once; get_run waits for the result; both with the envelope", async () => {
    const token = newToken("modern-background");
    raw.sendModern("bg", "tools/call", { name: "delegate", arguments: { agent: "fake", task: "t", background: true, persona: fakePersona({ token, report: scratch.report, sleepMs: 1500, final: "bg done" }) } });
    const started = (await raw.response("bg")).result.structuredContent;
    expect(["queued", "running"]).toContain(started.status);
    raw.sendModern("bg-get", "tools/call", { name: "get_run", arguments: { run_id: started.run_id, wait_s: 30 } }, { progressToken: "bg-p" });
    const finished = (await raw.response("bg-get", 45_000)).result.structuredContent;
    expect(finished).toMatchObject({ run_id: started.run_id, status: "succeeded", final_message: "bg done" });
    await expectNoSurvivors(scratch, token);
  }, 60_000);

  test("cancel_run ends a background run and everything it started, and returns it cancelled", async () => {
    const token = newToken("modern-cancel-run");
    raw.sendModern("bg-long", "tools/call", { name: "delegate", arguments: { agent: "fake", task: "t", background: true, persona: fakePersona({ token, report: scratch.report, ignoreTerm: true, grandchildren: 2, sleepMs: 120_000 }) } });
    const { run_id } = (await raw.response("bg-long")).result.structuredContent;
    expect(await waitFor(() => processesWith(token).length >= 3, 20_000)).toBe(true);
    raw.sendModern("bg-cancel", "tools/call", { name: "cancel_run", arguments: { run_id } });
    expect((await raw.response("bg-cancel", 30_000)).result.structuredContent).toMatchObject({ run_id, status: "cancelled", cancelled: true });
    await expectNoSurvivors(scratch, token);
  }, 60_000);
});

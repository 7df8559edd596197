// Proves the offline harness: the real codex binary against the mock model, no server of ours involved.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCodexHome, runCodex, type CodexHome } from "../helpers/codex-home.ts";
import { assistantMessage, assistantMessages, developerMessages, functionCall, functionCallOutputs, delay, MockModelError, startMockModel, userMessages, type MockModel, type OutputItem, type RecordedRequest, type Responder } from "../helpers/mock-model.ts";

const PERSONA = 'You are the "reviewer" sub-agent.\nQuote "this" and a backslash \\ verbatim.';
const TASK = "Review the greeting module and reply with one line.";
const FOLLOW_UP = "Now summarise your review in three words.";

const scratch: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Answers with a text that names the request's position, so each turn's reply is recognisable. */
function numberedReplies(req: RecordedRequest): OutputItem[] {
  return [assistantMessage(`mock reply #${req.index}`)];
}

function eventsOfType(events: any[], type: string): any[] {
  return events.filter((event) => event.type === type);
}

describe("real codex against the mock model", () => {
  let model: MockModel;
  let home: CodexHome;
  let workDir: string;

  beforeAll(async () => {
    model = await startMockModel(numberedReplies);
    home = await makeCodexHome({ baseUrl: model.baseUrl });
    workDir = await tempDir("codex-mock-work-");
  });

  afterAll(async () => {
    await model.close();
    await home.cleanup();
  });

  let threadId = "";

  test("exec: persona as developer message, task as user message, reply in -o file and events", async () => {
    const lastMessageFile = join(await tempDir("codex-mock-out-"), "last-message.txt");
    const run = await runCodex({
      args: [
        "exec",
        "--json",
        "--skip-git-repo-check",
        "-C",
        workDir,
        "-c",
        `developer_instructions=${JSON.stringify(PERSONA)}`,
        "-o",
        lastMessageFile,
        "-",
      ],
      env: home.env,
      stdin: TASK,
    });

    expect(run.exitCode).toBe(0);

    const started = eventsOfType(run.events, "thread.started");
    expect(started).toHaveLength(1);
    threadId = started[0].thread_id;
    expect(threadId).toMatch(/^[0-9a-f-]{36}$/);

    const messages = eventsOfType(run.events, "item.completed").filter((e) => e.item.type === "agent_message");
    expect(messages.map((e) => e.item.text)).toEqual(["mock reply #0"]);
    // The mock model's catalog entry is accepted: no "Model metadata … not found" error item.
    expect(eventsOfType(run.events, "item.completed").filter((e) => e.item.type === "error")).toEqual([]);

    const completed = eventsOfType(run.events, "turn.completed");
    expect(completed).toHaveLength(1);
    expect(completed[0].usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });

    expect((await readFile(lastMessageFile, "utf8")).trim()).toBe("mock reply #0");

    const [request] = model.responseRequests();
    expect(request?.body.model).toBe("mock-model");
    expect(request?.body.stream).toBe(true);
    expect(developerMessages(request?.body)).toContain(PERSONA);
    expect(userMessages(request?.body).at(-1)).toBe(TASK);
  });

  test("exec resume: continues the thread, the second request carries the first turn", async () => {
    expect(threadId).not.toBe("");
    const before = model.responseRequests().length;
    const run = await runCodex({
      args: ["-C", workDir, "exec", "resume", threadId, "--json", "--skip-git-repo-check", "-"],
      env: home.env,
      stdin: FOLLOW_UP,
    });

    expect(run.exitCode).toBe(0);

    const started = eventsOfType(run.events, "thread.started");
    expect(started.map((e) => e.thread_id)).toEqual([threadId]);

    const requests = model.responseRequests().slice(before);
    expect(requests).toHaveLength(1);
    const body = requests[0]?.body;
    expect(userMessages(body)).toContain(TASK);
    expect(userMessages(body).at(-1)).toBe(FOLLOW_UP);
    expect(assistantMessages(body)).toContain("mock reply #0");

    const messages = eventsOfType(run.events, "item.completed").filter((e) => e.item.type === "agent_message");
    expect(messages.map((e) => e.item.text)).toEqual([`mock reply #${requests[0]?.index}`]);
    const completed = eventsOfType(run.events, "turn.completed");
    expect(completed).toHaveLength(1);
    // Usage after a resume counts the whole thread.
    expect(completed[0].usage).toMatchObject({ input_tokens: 20, output_tokens: 10 });
  });
});

/** One codex exec against a fresh mock and CODEX_HOME; everything is torn down before returning. */
async function execOnce(responder: Responder, task: string) {
  const model = await startMockModel(responder);
  const home = await makeCodexHome({ baseUrl: model.baseUrl });
  const workDir = await tempDir("codex-mock-work-");
  try {
    const run = await runCodex({
      args: ["exec", "--json", "--skip-git-repo-check", "-C", workDir, "-"],
      env: home.env,
      stdin: task,
    });
    return { run, requests: model.responseRequests() };
  } finally {
    await model.close();
    await home.cleanup();
  }
}

describe("responders that depend on the request", () => {
  test("a tool call goes out, its function_call_output comes back, then the final message", async () => {
    // A tool codex does not have: the round trip works the same on every machine, sandbox or not.
    const responder: Responder = (req) => {
      const outputs = functionCallOutputs(req.body);
      if (outputs.length === 0) {
        return [functionCall({ name: "no_such_tool", args: { path: "x" }, callId: "call_probe" })];
      }
      return [assistantMessage(`tool answered: ${outputs.map((o) => `${o.callId}=${o.output}`).join(", ")}`)];
    };
    const { run, requests } = await execOnce(responder, "probe the tools");

    expect(run.exitCode).toBe(0);
    expect(requests).toHaveLength(2);
    expect(functionCallOutputs(requests[1]?.body)).toEqual([
      { callId: "call_probe", output: "unsupported call: no_such_tool" },
    ]);
    const messages = eventsOfType(run.events, "item.completed").filter((e) => e.item.type === "agent_message");
    expect(messages.map((e) => e.item.text)).toEqual(["tool answered: call_probe=unsupported call: no_such_tool"]);
    // Usage sums every request of the turn.
    expect(eventsOfType(run.events, "turn.completed")[0]?.usage).toMatchObject({ input_tokens: 20, output_tokens: 10 });
  });

  test("a slow responder is waited for", async () => {
    const { run } = await execOnce(async () => {
      await delay(300);
      return [assistantMessage("late but here")];
    }, "take your time");

    expect(run.exitCode).toBe(0);
    const messages = eventsOfType(run.events, "item.completed").filter((e) => e.item.type === "agent_message");
    expect(messages.map((e) => e.item.text)).toEqual(["late but here"]);
  });

  test("a model error fails the turn: error + turn.failed events, exit code 1", async () => {
    const { run } = await execOnce(() => {
      throw new MockModelError(400, "mock refuses this request");
    }, "this will fail");

    expect(run.exitCode).toBe(1);
    expect(eventsOfType(run.events, "turn.completed")).toEqual([]);
    const failed = eventsOfType(run.events, "turn.failed");
    expect(failed).toHaveLength(1);
    expect(failed[0].error.message).toContain("mock refuses this request");
    expect(eventsOfType(run.events, "error")[0]?.message).toContain("mock refuses this request");
  });
});

describe("mock model server", () => {
  test("logs and 404s any path other than POST /v1/responses", async () => {
    const model = await startMockModel(() => [assistantMessage("unused")]);
    try {
      const response = await fetch(`${model.baseUrl}/models`);
      expect(response.status).toBe(404);
      await response.text();
      expect(model.requests.map((r) => r.path)).toEqual(["/v1/models"]);
      expect(model.responseRequests()).toEqual([]);
    } finally {
      await model.close();
    }
  });

  test("streams created, one output_item.done per item, then completed with usage", async () => {
    const model = await startMockModel(() => [assistantMessage("a"), assistantMessage("b")], {
      usage: { input_tokens: 7, output_tokens: 3 },
    });
    try {
      const response = await fetch(`${model.baseUrl}/responses`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "mock-model", stream: true, input: [] }),
      });
      expect(response.headers.get("content-type")).toBe("text/event-stream");
      const events = (await response.text())
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => JSON.parse(line.slice("data: ".length)));
      expect(events.map((e) => e.type)).toEqual([
        "response.created",
        "response.output_item.done",
        "response.output_item.done",
        "response.completed",
      ]);
      expect(events[3].response.usage).toMatchObject({ input_tokens: 7, output_tokens: 3, total_tokens: 10 });
      expect(model.requests[0]?.body).toEqual({ model: "mock-model", stream: true, input: [] });
    } finally {
      await model.close();
    }
  });
});

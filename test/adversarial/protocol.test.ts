// The protocol survives abuse, over a raw stdio pipe (no SDK client to tidy things up): each malformed or hostile
// frame gets the answer JSON-RPC 2.0 / MCP prescribe, or silence where they prescribe silence, and the next request
// is served. Stdout carries nothing but JSON-RPC frames, even while a child floods its own stdout and stderr.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  countBadInput, fakePersona, newToken, processesWith, startRawServer, useScratch, waitFor, type RawServer,
} from "./harness.ts";
import { readdir } from "node:fs/promises";
import { MAX_LINE_BYTES } from "../../src/transport.ts";

const scratch = useScratch(import.meta.file);
let raw: RawServer;
let nextId = 1000;

beforeAll(async () => {
  raw = startRawServer(scratch);
});

afterAll(async () => {
  await raw?.kill();
});

/** Sends a ping and returns every frame that arrived from now until its answer (the answer included). */
async function framesUntilPing(): Promise<any[]> {
  const id = nextId++;
  const before = raw.lines.length;
  raw.send({ jsonrpc: "2.0", id, method: "ping" });
  const answer = await raw.response(id);
  expect(answer.result).toEqual({});
  return raw.frames().slice(before);
}

/** After a case: the server still answers ping and tools/list, and stdout held only JSON-RPC frames. */
async function stillServing(): Promise<void> {
  const id = nextId++;
  raw.send({ jsonrpc: "2.0", id, method: "tools/list" });
  const answer = await raw.response(id);
  expect(answer.result.tools.map((t: any) => t.name).sort()).toEqual(["cancel_run", "delegate", "get_run", "list_agents", "validate_agents"]);
  expect(raw.stdout().endsWith("\n")).toBe(true);
  for (const line of raw.lines) {
    const frame = JSON.parse(line);
    expect(frame.jsonrpc).toBe("2.0");
  }
}

/** Writes one line and returns the frames it caused, up to (not including) the next ping's answer. */
async function answersTo(line: string | Buffer): Promise<any[]> {
  raw.write(line);
  const frames = await framesUntilPing();
  return frames.slice(0, -1);
}

describe("before initialize", () => {
  test("a tools/call before initialize is answered (not ignored, not a crash), and initialize still works after it", async () => {
    countBadInput();
    raw.send({ jsonrpc: "2.0", id: "early", method: "tools/call", params: { name: "list_agents", arguments: {} } });
    const answer = await raw.response("early");
    expect("result" in answer || "error" in answer).toBe(true);
    await raw.initialize();
    await stillServing();
  });
});

describe("malformed frames", () => {
  test("a line that is not JSON gets a Parse error (-32700, id null)", async () => {
    countBadInput();
    const frames = await answersTo("this is not json\n");
    expect(frames).toHaveLength(1);
    expect(frames[0].id).toBe(null);
    expect(frames[0].error.code).toBe(-32700);
    await stillServing();
  });

  test("a truncated JSON object gets a Parse error", async () => {
    countBadInput();
    const frames = await answersTo('{"jsonrpc":"2.0","id":5,"method":"ping"\n');
    expect(frames.map((f) => f.error?.code)).toEqual([-32700]);
    await stillServing();
  });

  for (const [attack, line] of [
    ["a JSON value that is not an object", "42\n"],
    ["wrong jsonrpc version", '{"jsonrpc":"1.0","id":6,"method":"ping"}\n'],
    ["no method, no result", '{"jsonrpc":"2.0","id":7}\n'],
    ["a method that is not a string", '{"jsonrpc":"2.0","id":8,"method":42}\n'],
    ["a batch array (MCP has no batches)", '[{"jsonrpc":"2.0","id":9,"method":"ping"},{"jsonrpc":"2.0","id":10,"method":"ping"}]\n'],
  ] as const) {
    test(`${attack} gets an Invalid Request error (-32600)`, async () => {
      countBadInput();
      const frames = await answersTo(line);
      expect(frames).toHaveLength(1);
      expect(frames[0].error.code).toBe(-32600);
      await stillServing();
    });
  }

  // Responses to requests the server never sent, and notifications: JSON-RPC answers neither.
  test.each([
    ["a JSON-RPC error response for a request the server never sent", '{"jsonrpc":"2.0","id":424242,"error":{"code":-32000,"message":"boom"}}\n'],
    ["a result response for a request the server never sent", '{"jsonrpc":"2.0","id":424243,"result":{"x":1}}\n'],
    ["an unknown notification", '{"jsonrpc":"2.0","method":"notifications/evil","params":{"x":1}}\n'],
    ["a cancel for a request that does not exist", '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"nope"}}\n'],
  ])("%s is dropped silently", async (_frame, line) => {
    countBadInput();
    expect(await answersTo(line)).toEqual([]);
    await stillServing();
  });

  test("an unknown method gets Method not found (-32601)", async () => {
    countBadInput();
    raw.send({ jsonrpc: "2.0", id: "m1", method: "evil/method", params: {} });
    expect((await raw.response("m1")).error.code).toBe(-32601);
    await stillServing();
  });

  test("a line over 10 MiB gets an Invalid Request error (id null); the connection stays open and the next line is served", async () => {
    countBadInput();
    const head = '{"jsonrpc":"2.0","id":"huge","method":"tools/call","params":{"name":"list_agents","arguments":{"x":"';
    const tail = '"}}}\n';
    const filler = Buffer.alloc(MAX_LINE_BYTES + 1 - head.length - tail.length + 1, "a");
    const frames = await answersTo(Buffer.concat([Buffer.from(head), filler, Buffer.from(tail)]));
    expect(frames).toHaveLength(1);
    expect(frames[0].id).toBe(null);
    expect(frames[0].error.code).toBe(-32600);
    expect(frames[0].error.message).toContain(`${MAX_LINE_BYTES} bytes`);
    expect(frames.some((f) => f.id === "huge")).toBe(false);
    await stillServing();
  });

  test("blank lines and CRLF line ends are tolerated", async () => {
    countBadInput();
    raw.write("\r\n");
    raw.write('{"jsonrpc":"2.0","id":"crlf","method":"ping"}\r\n');
    expect((await raw.response("crlf")).result).toEqual({});
    await stillServing();
  });
});

describe("framing across reads", () => {
  test("a message split across many writes is read whole", async () => {
    countBadInput();
    const line = JSON.stringify({ jsonrpc: "2.0", id: "split", method: "tools/call", params: { name: "list_agents", arguments: {} } }) + "\n";
    for (let i = 0; i < line.length; i += 7) {
      raw.write(line.slice(i, i + 7));
      await Bun.sleep(1);
    }
    expect((await raw.response("split")).result.structuredContent.agents.length).toBeGreaterThan(0);
    await stillServing();
  });

  test("a multibyte character split across writes arrives intact", async () => {
    countBadInput();
    const name = "é🙂ü";
    const bytes = Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: "utf8", method: "tools/call", params: { name: "delegate", arguments: { agent: name, task: "t" } } }) + "\n");
    const cut = bytes.indexOf(Buffer.from("🙂")) + 2; // inside the 4-byte emoji
    raw.write(bytes.subarray(0, cut));
    await Bun.sleep(20);
    raw.write(bytes.subarray(cut));
    const answer = await raw.response("utf8");
    expect(answer.result.isError).toBe(true);
    expect(answer.result.content[0].text).toContain(`"${name}"`);
    expect(answer.result.content[0].text).not.toContain("\uFFFD");
    await stillServing();
  });

  test("two messages in one write are both served", async () => {
    countBadInput();
    raw.write('{"jsonrpc":"2.0","id":"two-a","method":"ping"}\n{"jsonrpc":"2.0","id":"two-b","method":"ping"}\n');
    expect((await raw.response("two-a")).result).toEqual({});
    expect((await raw.response("two-b")).result).toEqual({});
    await stillServing();
  });
});

describe("bad tool calls", () => {
  const call = async (id: string, params: unknown): Promise<any> => {
    raw.send({ jsonrpc: "2.0", id, method: "tools/call", params });
    return raw.response(id);
  };
  /** An error the caller can read: a tool result with isError, or a JSON-RPC error; either way it names `what`. */
  const expectNamedError = (answer: any, what: string) => {
    const text = answer.error ? answer.error.message : answer.result.content.map((c: any) => c.text).join("\n");
    expect(answer.error !== undefined || answer.result.isError === true).toBe(true);
    expect(text).toContain(what);
  };

  test("an unknown tool is an error naming it", async () => {
    countBadInput();
    expectNamedError(await call("t1", { name: "rm_rf", arguments: {} }), "rm_rf");
    await stillServing();
  });

  test("wrong types are an error naming the field", async () => {
    countBadInput(3);
    expectNamedError(await call("t2", { name: "delegate", arguments: { agent: "explain", task: 42 } }), "task");
    expectNamedError(await call("t3", { name: "delegate", arguments: { agent: ["explain"], task: "x" } }), "agent");
    expectNamedError(await call("t4", { name: "delegate", arguments: { agent: "explain", task: "x", timeout_s: -1 } }), "timeout_s");
    await stillServing();
  });

  test("unknown keys are an error naming the key", async () => {
    countBadInput(2);
    expectNamedError(await call("t5", { name: "delegate", arguments: { agent: "explain", task: "x", dangerously_bypass: true } }), "dangerously_bypass");
    expectNamedError(await call("t6", { name: "validate_agents", arguments: { dir: "/x", shell: "sh" } }), "shell");
    await stillServing();
  });

  test("missing arguments and params of the wrong shape are errors, not crashes", async () => {
    countBadInput(3);
    expectNamedError(await call("t7", { name: "delegate" }), "agent");
    const notObject = await call("t8", { name: "delegate", arguments: "agent=explain" });
    expect(notObject.error !== undefined || notObject.result.isError === true).toBe(true);
    // JSON-RPC 2.0: Invalid params, for this id; and the server goes on.
    const noName = await call("t9", { arguments: {} });
    expect(noName.error.code).toBe(-32602);
    await stillServing();
  });

  test("duplicate ids: two requests with the same id in flight are each answered, and the next request is served", async () => {
    countBadInput();
    const before = raw.lines.length;
    raw.write('{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"list_agents","arguments":{}}}\n'.repeat(2));
    const dupAnswers = () => raw.frames().slice(before).filter((f) => f.id === "dup");
    await waitFor(() => dupAnswers().length >= 2, 10_000);
    await framesUntilPing();
    const answers = dupAnswers();
    expect(answers.length).toBe(2);
    for (const a of answers) expect(a.result.structuredContent.agents.length).toBeGreaterThan(0);
    await stillServing();
  });
});

describe("stdout is only protocol frames, even with a noisy child", () => {
  test("a child flooding stdout and stderr while requests go back and forth", async () => {
    countBadInput();
    const token = newToken("noisy");
    raw.send({
      jsonrpc: "2.0", id: "noisy", method: "tools/call",
      params: {
        name: "delegate",
        arguments: { agent: "fake", task: "t", persona: fakePersona({ token, report: scratch.report, stdoutBytes: 64 * 1024 * 1024, stderrBytes: 16 * 1024 * 1024, malformed: true }) },
        _meta: { progressToken: "noisy" },
      },
    });
    for (let i = 0; i < 20; i++) await framesUntilPing();
    const answer = await raw.response("noisy", 60_000);
    expect(answer.result.structuredContent.final_message).toBe("fake done");
    // Not one byte of the child's output outside a frame (stillServing parses every line as JSON-RPC).
    expect(raw.lines.every((l) => l.startsWith("{"))).toBe(true);
    await stillServing();
    expect(await waitFor(() => processesWith(token).length === 0, 5000)).toBe(true);
    expect(await readdir(scratch.tmp)).toEqual([]);
  }, 60_000);
});

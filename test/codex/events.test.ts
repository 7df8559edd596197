import { describe, expect, test } from "bun:test";
import { applyEventLine, MAX_EVENT_ERRORS, newEventState } from "../../src/codex/events.ts";

// Shapes recorded from codex 0.169 `exec --json` (test/e2e/codex-mock.test.ts).
const stream = [
  '{"type":"thread.started","thread_id":"01a210a5-85de-7012-9960-7201f5cddc86"}',
  '{"type":"turn.started"}',
  '{"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"/bin/bash -lc \'npm test\'","aggregated_output":"","exit_code":null,"status":"in_progress"}}',
  '{"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"/bin/bash -lc \'npm test\'","aggregated_output":"ok\\n","exit_code":0,"status":"completed"}}',
  '{"type":"item.started","item":{"id":"item_1","type":"mcp_tool_call","server":"fx","tool":"ping","arguments":{},"status":"in_progress"}}',
  '{"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"src/app.ts","kind":"update"}],"status":"completed"}}',
  '{"type":"item.completed","item":{"id":"item_3","type":"agent_message","text":"first"}}',
  '{"type":"item.completed","item":{"id":"item_4","type":"agent_message","text":"All good.\\nDetails."}}',
  '{"type":"turn.completed","usage":{"input_tokens":20,"cached_input_tokens":3,"cache_write_input_tokens":0,"output_tokens":10,"reasoning_output_tokens":2}}',
];

describe("codex --json events", () => {
  test("thread id, last agent message and usage", () => {
    const state = newEventState();
    const messages = stream.map((l) => applyEventLine(state, l));
    expect(state.threadId).toBe("01a210a5-85de-7012-9960-7201f5cddc86");
    expect(state.lastAgentMessage).toBe("All good.\nDetails.");
    expect(state.usage).toEqual({ input_tokens: 20, cached_input_tokens: 3, output_tokens: 10, reasoning_output_tokens: 2 });
    expect(messages).toContain("running: /bin/bash -lc 'npm test'");
    expect(messages).toContain("ran: /bin/bash -lc 'npm test' (exit 0)");
    expect(messages).toContain("calling tool fx.ping");
    expect(messages).toContain("editing src/app.ts");
    expect(messages).toContain("message: All good. Details.");
    expect(messages.at(-1)).toBe("answer ready");
  });

  test("failures are collected", () => {
    const state = newEventState();
    applyEventLine(state, '{"type":"error","message":"boom"}');
    applyEventLine(state, '{"type":"turn.failed","error":{"message":"model refused"}}');
    expect(state.errors).toEqual(["boom", "model refused"]);
    expect(state.usage).toBeNull();
  });

  test("junk lines are ignored, not fatal", () => {
    const state = newEventState();
    for (const line of ["", "not json", "{broken", "[1,2]", '"str"', '{"type":42}', '{"type":"item.completed","item":"x"}']) {
      expect(applyEventLine(state, line)).toBeNull();
    }
    expect(state.threadId).toBeNull();
  });

  test("progress lines stay short", () => {
    const state = newEventState();
    const msg = applyEventLine(state, JSON.stringify({ type: "item.started", item: { type: "command_execution", command: "x".repeat(5000) } }))!;
    expect(msg.length).toBeLessThanOrEqual(120);
  });
});

describe("bounded error collection", () => {
  test("a codex that floods error events keeps memory and the result bounded", () => {
    const state = newEventState();
    const long = "e".repeat(100_000);
    for (let i = 0; i < 5000; i++) {
      applyEventLine(state, JSON.stringify({ type: "error", message: `${i} ${long}` }));
      applyEventLine(state, JSON.stringify({ type: "item.completed", item: { type: "error", message: `item ${i}` } }));
    }
    applyEventLine(state, '{"type":"turn.failed","error":{"message":"the final reason"}}');
    expect(state.errors.length).toBeLessThanOrEqual(MAX_EVENT_ERRORS);
    expect(state.errors.join("").length).toBeLessThan(MAX_EVENT_ERRORS * 5000);
    // The most recent failure is the one that explains the outcome: it is kept.
    expect(state.errors.at(-1)).toBe("the final reason");
    expect(state.errorsDropped).toBe(10_001 - state.errors.length);
  });
});

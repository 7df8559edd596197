/** The one schema codex's `--json` lines are read with (src/codex/event-schema.ts). */
import { describe, expect, test } from "bun:test";
import { applyEventLine, newEventState } from "../../src/codex/events.ts";
import { eventSteps } from "../../src/runs/show.ts";
import { parseCodexLine } from "../../src/codex/event-schema.ts";

const item = (type: string, fields: Record<string, unknown> = {}) => JSON.stringify({ type: "item.completed", item: { id: "i", type, ...fields } });

describe("codex event schema", () => {
  test("every event type of codex's enum is known", () => {
    for (const line of [
      '{"type":"thread.started","thread_id":"t"}',
      '{"type":"turn.started"}',
      '{"type":"turn.completed","usage":{"input_tokens":1,"cached_input_tokens":0,"output_tokens":1,"reasoning_output_tokens":0}}',
      '{"type":"turn.failed","error":{"message":"x"}}',
      '{"type":"error","message":"x"}',
      '{"type":"item.started","item":{"type":"reasoning","text":"r"}}',
      '{"type":"item.updated","item":{"type":"todo_list","items":[]}}',
    ]) expect(parseCodexLine(line).kind).toBe("event");
  });

  test("every item type of codex's enum is known", () => {
    for (const type of ["agent_message", "reasoning", "command_execution", "file_change", "mcp_tool_call", "collab_tool_call", "web_search", "todo_list", "error"]) {
      expect(parseCodexLine(item(type)).kind).toBe("event");
    }
  });

  test("unknown event and item types are tolerated: counted, no step, no error", () => {
    const state = newEventState();
    for (const line of ['{"type":"thread.future_thing","x":1}', item("image_generation"), '{"no_type":true}']) {
      expect(parseCodexLine(line).kind).toBe("other");
      expect(applyEventLine(state, line)).toBeNull();
      expect(eventSteps(line)).toEqual([]);
    }
    expect(state.eventCount).toBe(3);
    expect(state.errors).toEqual([]);
  });

  test("not an event: text, arrays, broken JSON", () => {
    for (const line of ["warning: something", "[1,2]", "{broken", ""]) expect(parseCodexLine(line).kind).toBe("none");
  });

  test("a known event with fields of the wrong type is read with those fields missing", () => {
    const state = newEventState();
    expect(applyEventLine(state, '{"type":"thread.started","thread_id":42}')).toBe("codex started");
    expect(state.threadId).toBeNull();
    applyEventLine(state, '{"type":"turn.completed","usage":{"input_tokens":"many","output_tokens":-1,"cached_input_tokens":2}}');
    expect(state.usage).toEqual({ input_tokens: 0, cached_input_tokens: 2, output_tokens: 0, reasoning_output_tokens: 0 });
    expect(applyEventLine(state, '{"type":"turn.failed","error":"not an object"}')).toBe("failed: turn failed");
    expect(applyEventLine(state, item("command_execution", { command: ["ls"], exit_code: "0" }))).toBe("ran: ");
    expect(eventSteps(item("file_change", { changes: [{ path: "a.ts", kind: "add" }, 7, { kind: "delete" }] }))).toEqual([
      { type: "file_change", path: "a.ts", kind: "add" },
      { type: "file_change", path: "?", kind: "delete" },
    ]);
  });

  test("an older codex's item_type is read as the item's type", () => {
    expect(applyEventLine(newEventState(), '{"type":"item.completed","item":{"item_type":"reasoning","text":"r"}}')).toBe("thinking");
  });
});

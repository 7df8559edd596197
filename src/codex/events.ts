/**
 * Pure: codex `exec --json` events (one JSON object a line, parsed by event-schema.ts) → what the result and
 * progress need.
 */
import { parseCodexLine, type CodexItem } from "./event-schema.ts";
import type { Usage } from "../shapes/usage.ts";

export interface EventState {
  threadId: string | null;
  usage: Usage | null;
  lastAgentMessage: string | null;
  /** Failure messages codex reported (turn.failed, error events, error items): the last MAX_EVENT_ERRORS. */
  errors: string[];
  /** How many older failure messages were dropped to keep `errors` bounded. */
  errorsDropped: number;
  eventCount: number;
}

/** A codex that floods error events must not grow memory or the result: keep the most recent few, each cut short. */
export const MAX_EVENT_ERRORS = 20;
const MAX_EVENT_ERROR_CHARS = 2000;

export function newEventState(): EventState {
  return { threadId: null, usage: null, lastAgentMessage: null, errors: [], errorsDropped: 0, eventCount: 0 };
}

function recordError(state: EventState, message: string): void {
  state.errors.push(message.length > MAX_EVENT_ERROR_CHARS ? `${message.slice(0, MAX_EVENT_ERROR_CHARS - 1)}…` : message);
  if (state.errors.length > MAX_EVENT_ERRORS) {
    state.errors.shift();
    state.errorsDropped += 1;
  }
}

/** Squeeze text to one short line for a progress message. */
export function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function describeItem(item: CodexItem, phase: "started" | "completed"): string | null {
  switch (item.type) {
    case "command_execution": {
      const command = item.command ?? "";
      if (phase === "started") return `running: ${oneLine(command, 100)}`;
      const code = item.exit_code !== undefined ? ` (exit ${item.exit_code})` : "";
      return `ran: ${oneLine(command, 90)}${code}`;
    }
    case "agent_message":
      return phase === "completed" ? `message: ${oneLine(item.text ?? "", 100)}` : null;
    case "reasoning":
      return phase === "completed" ? "thinking" : null;
    case "file_change": {
      const paths = item.changes.map((c) => c?.path).filter((p): p is string => !!p);
      return `editing ${paths.length ? oneLine(paths.join(", "), 100) : "files"}`;
    }
    case "mcp_tool_call": {
      const server = item.server ?? "";
      return `${phase === "started" ? "calling" : "called"} tool ${server ? `${server}.` : ""}${item.tool ?? ""}`;
    }
    case "web_search":
      return `searching: ${oneLine(item.query ?? "", 100)}`;
    case "todo_list":
      return "updating plan";
    case "collab_tool_call":
      return `${phase === "started" ? "starting" : "finished"} a codex sub-agent call`;
    case "error":
      return `error: ${oneLine(item.message ?? "", 100)}`;
  }
}

/**
 * Apply one line of codex output to the state. Returns a one-line progress message when the event is a step a user
 * would want to see, else null. Lines that are not JSON are ignored (codex may print other text).
 */
export function applyEventLine(state: EventState, line: string): string | null {
  const parsed = parseCodexLine(line);
  if (parsed.kind === "none") return null;
  state.eventCount += 1;
  if (parsed.kind === "other") return null;
  const { event } = parsed;
  switch (event.type) {
    case "thread.started":
      state.threadId = event.thread_id ?? state.threadId;
      return "codex started";
    case "turn.started":
      return "working";
    case "turn.completed": {
      if (event.usage) {
        const { input_tokens, cached_input_tokens, output_tokens, reasoning_output_tokens } = event.usage;
        state.usage = { input_tokens, cached_input_tokens, output_tokens, reasoning_output_tokens };
      }
      return "answer ready";
    }
    case "turn.failed": {
      const message = event.error?.message ?? "turn failed";
      recordError(state, message);
      return `failed: ${oneLine(message, 100)}`;
    }
    case "error": {
      const message = event.message ?? "error";
      recordError(state, message);
      return `error: ${oneLine(message, 100)}`;
    }
    case "item.started":
    case "item.updated":
    case "item.completed": {
      const { item } = event;
      if (event.type === "item.completed" && item.type === "agent_message") state.lastAgentMessage = item.text ?? state.lastAgentMessage;
      if (event.type === "item.completed" && item.type === "error" && item.message) recordError(state, item.message);
      if (event.type === "item.updated") return null;
      return describeItem(item, event.type === "item.started" ? "started" : "completed");
    }
  }
}

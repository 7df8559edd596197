/**
 * Pure: codex `exec --json` events (one JSON object a line) → what the result and progress need.
 */

export interface Usage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
}

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

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null);
const asString = (v: unknown): string | null => (typeof v === "string" ? v : null);
const asCount = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

/** Squeeze text to one short line for a progress message. */
export function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function describeItem(item: Json, phase: "started" | "completed"): string | null {
  const type = asString(item.type) ?? asString(item.item_type);
  switch (type) {
    case "command_execution": {
      const command = asString(item.command) ?? "";
      if (phase === "started") return `running: ${oneLine(command, 100)}`;
      const code = typeof item.exit_code === "number" ? ` (exit ${item.exit_code})` : "";
      return `ran: ${oneLine(command, 90)}${code}`;
    }
    case "agent_message":
      return phase === "completed" ? `message: ${oneLine(asString(item.text) ?? "", 100)}` : null;
    case "reasoning":
      return phase === "completed" ? "thinking" : null;
    case "file_change": {
      const changes = Array.isArray(item.changes) ? item.changes : [];
      const paths = changes.map((c) => asString(asObject(c)?.path)).filter((p): p is string => !!p);
      return `editing ${paths.length ? oneLine(paths.join(", "), 100) : "files"}`;
    }
    case "mcp_tool_call": {
      const server = asString(item.server) ?? "";
      const tool = asString(item.tool) ?? "";
      return `${phase === "started" ? "calling" : "called"} tool ${server ? `${server}.` : ""}${tool}`;
    }
    case "web_search":
      return `searching: ${oneLine(asString(item.query) ?? "", 100)}`;
    case "todo_list":
      return "updating plan";
    case "collab_tool_call":
      return `${phase === "started" ? "starting" : "finished"} a codex sub-agent call`;
    case "error":
      return `error: ${oneLine(asString(item.message) ?? "", 100)}`;
    default:
      return null;
  }
}

/**
 * Apply one line of codex output to the state. Returns a one-line progress message when the event is a step a user
 * would want to see, else null. Lines that are not JSON are ignored (codex may print other text).
 */
export function applyEventLine(state: EventState, line: string): string | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return null;
  let event: Json | null;
  try {
    event = asObject(JSON.parse(trimmed));
  } catch {
    return null;
  }
  if (!event) return null;
  state.eventCount += 1;
  const type = asString(event.type);
  switch (type) {
    case "thread.started":
      state.threadId = asString(event.thread_id) ?? state.threadId;
      return "codex started";
    case "turn.started":
      return "working";
    case "turn.completed": {
      const usage = asObject(event.usage);
      if (usage) {
        state.usage = {
          input_tokens: asCount(usage.input_tokens),
          cached_input_tokens: asCount(usage.cached_input_tokens),
          output_tokens: asCount(usage.output_tokens),
          reasoning_output_tokens: asCount(usage.reasoning_output_tokens),
        };
      }
      return "answer ready";
    }
    case "turn.failed": {
      const message = asString(asObject(event.error)?.message) ?? "turn failed";
      recordError(state, message);
      return `failed: ${oneLine(message, 100)}`;
    }
    case "error": {
      const message = asString(event.message) ?? "error";
      recordError(state, message);
      return `error: ${oneLine(message, 100)}`;
    }
    case "item.started":
    case "item.updated":
    case "item.completed": {
      const item = asObject(event.item);
      if (!item) return null;
      if (type === "item.completed" && asString(item.type) === "agent_message") {
        state.lastAgentMessage = asString(item.text) ?? state.lastAgentMessage;
      }
      if (type === "item.completed" && asString(item.type) === "error") {
        const message = asString(item.message);
        if (message) recordError(state, message);
      }
      if (type === "item.updated") return null;
      return describeItem(item, type === "item.started" ? "started" : "completed");
    }
    default:
      return null;
  }
}

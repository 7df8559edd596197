// A Responses-API model server on 127.0.0.1 for driving the real codex binary offline.
// Codex POSTs `{base_url}/responses` with `stream: true` and reads Server-Sent Events; a turn only
// succeeds when the stream ends with `response.completed`, so every reply carries one.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listenOnLoopback, parseJson, readBody } from "./http-body.ts";

export type OutputItem = Record<string, unknown>;

export interface RecordedRequest {
  /** URL path as requested, e.g. `/v1/responses`. */
  path: string;
  /** Parsed JSON body; `null` when the body was empty or not JSON. */
  body: any;
  /** 0-based position in the request log (counts every request, including 404s). */
  index: number;
  /** The request's headers (lower-case names), e.g. to see the `authorization` codex sent. */
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * Thrown by a responder to answer with an HTTP error instead of a stream. Any other thrown error
 * becomes a 500. Codex 0.169 reports a 5xx as "We’re currently experiencing high demand…" and a 4xx as the
 * raw response body (`{"error":{"message":…}}`); both end the turn with `error` + `turn.failed`, exit code 1.
 */
export class MockModelError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Chooses the output items for one `/v1/responses` request. May be async (e.g. to be slow on purpose). */
export type Responder = (req: RecordedRequest) => OutputItem[] | Promise<OutputItem[]>;

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens?: number;
  reasoning_output_tokens?: number;
}

export interface MockModel {
  /** `http://127.0.0.1:PORT/v1`, the value for `model_providers.mock.base_url`. */
  baseUrl: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Only the requests to `/v1/responses`. */
  responseRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export interface MockModelOptions {
  /** Token usage reported in each `response.completed`; default 10 input / 5 output. */
  usage?: Usage;
}

const DEFAULT_USAGE: Usage = { input_tokens: 10, output_tokens: 5 };

export async function startMockModel(responder: Responder, opts: MockModelOptions = {}): Promise<MockModel> {
  const usage = opts.usage ?? DEFAULT_USAGE;
  const requests: RecordedRequest[] = [];
  let responseCount = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof MockModelError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) {
        res.writeHead(status, { "content-type": "application/json" });
      }
      res.end(JSON.stringify({ error: { message, type: "mock_error", code: null } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const raw = await readBody(req);
    const recorded: RecordedRequest = { path, body: parseJson(raw), index: requests.length, headers: req.headers };
    requests.push(recorded);

    if (req.method !== "POST" || path !== "/v1/responses") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `mock model: no route for ${req.method} ${path}` } }));
      return;
    }

    const items = await responder(recorded);
    const responseId = `resp_mock_${++responseCount}`;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    res.write(sse("response.created", { response: { id: responseId, status: "in_progress", output: [] } }));
    items.forEach((item, outputIndex) => {
      res.write(sse("response.output_item.done", { output_index: outputIndex, item }));
    });
    res.end(
      sse("response.completed", {
        response: { id: responseId, status: "completed", output: items, usage: responsesUsage(usage) },
      }),
    );
  }

  const listening = await listenOnLoopback(server);

  return {
    baseUrl: `${listening.origin}/v1`,
    requests,
    responseRequests: () => requests.filter((r) => r.path === "/v1/responses"),
    close: listening.close,
  };
}

function sse(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

function responsesUsage(usage: Usage): Record<string, unknown> {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cached_input_tokens ?? 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_output_tokens ?? 0 },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

// ---- output items ----

export function assistantMessage(text: string): OutputItem {
  return {
    type: "message",
    id: `msg_${randomId()}`,
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

/**
 * A tool call. For an MCP tool pass `namespace: "mcp__<server>"` and the bare tool name;
 * codex rejects a joined `mcp__server__tool` name.
 */
export function functionCall(opts: { name: string; namespace?: string; args: unknown; callId?: string }): OutputItem {
  const item: OutputItem = {
    type: "function_call",
    id: `fc_${randomId()}`,
    call_id: opts.callId ?? `call_${randomId()}`,
    name: opts.name,
    arguments: JSON.stringify(opts.args ?? {}),
    status: "completed",
  };
  if (opts.namespace !== undefined) item.namespace = opts.namespace;
  return item;
}

function randomId(): string {
  return Math.random().toString(36).slice(2, 12);
}

/** Resolves after `ms` milliseconds; for responders that must be slow on purpose. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---- reading a request body ----

interface InputItem {
  type?: string;
  role?: string;
  content?: unknown;
  call_id?: string;
  output?: unknown;
}

function inputItems(body: any): InputItem[] {
  return Array.isArray(body?.input) ? (body.input as InputItem[]) : [];
}

function textParts(content: unknown): string[] {
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) return [];
  return content.filter((part: any) => typeof part?.text === "string").map((part: any) => part.text as string);
}

// Codex packs several texts into one message (e.g. developer_instructions, skills and permissions in one
// developer message), so the readers below return one entry per text part, in order.
function messagesWithRole(body: any, role: string): string[] {
  return inputItems(body)
    .filter((item) => (item.type === undefined || item.type === "message") && item.role === role)
    .flatMap((item) => textParts(item.content));
}

/** Every developer text part, in order: base instructions, then developer_instructions, skills, permissions. */
export function developerMessages(body: any): string[] {
  return messagesWithRole(body, "developer");
}

/** Every user text part, in order; codex sends its `<environment_context>` as a user message before the task. */
export function userMessages(body: any): string[] {
  return messagesWithRole(body, "user");
}

/** Every assistant text part already in the thread (replies from earlier turns). */
export function assistantMessages(body: any): string[] {
  return messagesWithRole(body, "assistant");
}

/** Every `function_call_output` item: the results codex sends back for earlier tool calls. */
export function functionCallOutputs(body: any): { callId: string; output: string }[] {
  return inputItems(body)
    .filter((item) => item.type === "function_call_output")
    .map((item) => ({
      callId: String(item.call_id ?? ""),
      output: typeof item.output === "string" ? item.output : textParts(item.output).join("") || JSON.stringify(item.output),
    }));
}

/** Names of the tools offered to the model; MCP tools appear as `mcp__<server>/<tool>`. */
export function toolNames(body: any): string[] {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  const names: string[] = [];
  for (const tool of tools) {
    if (tool?.type === "namespace" && Array.isArray(tool.tools)) {
      for (const inner of tool.tools) names.push(`${tool.name}/${inner?.name}`);
    } else if (typeof tool?.name === "string") {
      names.push(tool.name);
    } else if (typeof tool?.type === "string") {
      names.push(tool.type);
    }
  }
  return names;
}

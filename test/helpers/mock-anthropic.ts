// An Anthropic Messages API on 127.0.0.1, for driving Claude Code and opencode (its @ai-sdk/anthropic provider)
// offline. `POST /v1/messages` answers with Server-Sent Events when the request asks for `stream`, else with one JSON
// message; `POST /v1/messages/count_tokens` answers a fixed count. The responder picks the content blocks.
import { createServer } from "node:http";
import { listenOnLoopback, parseJson, readBody } from "./http-body.ts";

export type AnthropicBlock = { type: "text"; text: string } | { type: "tool_use"; name: string; input: unknown; id?: string };

export interface AnthropicRequest {
  path: string;
  body: any;
  index: number;
}

export type AnthropicResponder = (req: AnthropicRequest) => AnthropicBlock[] | Promise<AnthropicBlock[]>;

export interface AnthropicMock {
  /** `http://127.0.0.1:PORT` (Claude Code's ANTHROPIC_BASE_URL); opencode's provider wants `${baseUrl}/v1`. */
  baseUrl: string;
  requests: AnthropicRequest[];
  /** Only the `/v1/messages` requests. */
  messageRequests(): AnthropicRequest[];
  close(): Promise<void>;
}

export async function startAnthropicMock(responder: AnthropicResponder): Promise<AnthropicMock> {
  const requests: AnthropicRequest[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
      const raw = await readBody(req);
      const recorded: AnthropicRequest = { path, body: parseJson(raw), index: requests.length };
      requests.push(recorded);
      if (req.method === "POST" && path === "/v1/messages/count_tokens") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ input_tokens: 100 }));
        return;
      }
      if (req.method !== "POST" || path !== "/v1/messages") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: `mock: no route for ${req.method} ${path}` } }));
        return;
      }
      const blocks = await responder(recorded);
      const id = `msg_mock_${++count}`;
      const model = String(recorded.body?.model ?? "mock");
      const content = blocks.map((b) => (b.type === "text" ? b : { type: "tool_use", id: b.id ?? `toolu_mock_${count}_${Math.random().toString(36).slice(2, 8)}`, name: b.name, input: b.input }));
      const stopReason = content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn";
      const usage = { input_tokens: 100, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
      if (recorded.body?.stream !== true) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: null, usage }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(sse("message_start", { message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }));
      content.forEach((block: any, index) => {
        if (block.type === "text") {
          res.write(sse("content_block_start", { index, content_block: { type: "text", text: "" } }));
          res.write(sse("content_block_delta", { index, delta: { type: "text_delta", text: block.text } }));
        } else {
          res.write(sse("content_block_start", { index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } }));
          res.write(sse("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input ?? {}) } }));
        }
        res.write(sse("content_block_stop", { index }));
      });
      res.write(sse("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 10 } }));
      res.end(sse("message_stop", {}));
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: String(error) } }));
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    baseUrl: listening.origin,
    requests,
    messageRequests: () => requests.filter((r) => r.path === "/v1/messages"),
    close: listening.close,
  };
}

function sse(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

const NO_DEFERRED_MATCH = "No matching deferred tools found";
const MAX_SEARCH_RETRIES = 20;

/**
 * A model that works through `plan()`: in the conversation (a request `inConversation` accepts), the next planned
 * tool call once the previous one's result is in; after the last, `beforeFinal()` and then every result as text
 * (`ERROR ` before a failed one). Any side request (titles, summaries) gets "ok".
 */
export function plannedToolCalls(
  inConversation: (toolNames: string[]) => boolean,
  plan: () => Array<{ name: string; input: unknown }>,
  beforeFinal: () => Promise<void>,
): AnthropicResponder {
  return async (req) => {
    if (!inConversation(anthropicToolNames(req.body))) return [{ type: "text", text: "ok" }];
    const all = anthropicToolResults(req.body);
    // Claude Code connects MCP servers in the background: a ToolSearch made before our server listed its tools finds
    // nothing. Like a real model, search again a moment later (boundedly) instead of giving up.
    const found = all.filter((r) => !r.text.includes(NO_DEFERRED_MATCH));
    const giveUp = all.length - found.length > MAX_SEARCH_RETRIES;
    const results = giveUp ? all : found;
    if (!giveUp && all.at(-1)?.text.includes(NO_DEFERRED_MATCH)) await Bun.sleep(500);
    const next = plan()[results.length];
    if (next) return [{ type: "tool_use", name: next.name, input: next.input }];
    await beforeFinal();
    return [{ type: "text", text: `FINAL\n${results.map((r) => `${r.isError ? "ERROR " : ""}${r.text}`).join("\n---\n")}` }];
  };
}

// ---- reading a request ----

/** Names of the tools the request offers the model. */
export function anthropicToolNames(body: any): string[] {
  return (Array.isArray(body?.tools) ? body.tools : []).map((t: any) => String(t?.name ?? t?.type));
}

/** Every tool_result in the conversation, in order, with its text. */
export function anthropicToolResults(body: any): Array<{ toolUseId: string; text: string; isError: boolean }> {
  const results: Array<{ toolUseId: string; text: string; isError: boolean }> = [];
  for (const message of Array.isArray(body?.messages) ? body.messages : []) {
    if (!Array.isArray(message?.content)) continue;
    for (const block of message.content) {
      if (block?.type !== "tool_result") continue;
      const text = typeof block.content === "string" ? block.content : (Array.isArray(block.content) ? block.content : []).map((c: any) => (typeof c?.text === "string" ? c.text : "")).join("");
      results.push({ toolUseId: String(block.tool_use_id), text, isError: block.is_error === true });
    }
  }
  return results;
}

/** All text of the system prompt. */
export function anthropicSystemText(body: any): string {
  const system = body?.system;
  if (typeof system === "string") return system;
  return (Array.isArray(system) ? system : []).map((b: any) => (typeof b?.text === "string" ? b.text : "")).join("\n");
}

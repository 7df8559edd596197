// A Gemini API (generativelanguage v1beta) on 127.0.0.1, for driving Gemini CLI offline (GOOGLE_GEMINI_BASE_URL).
// `:streamGenerateContent?alt=sse` answers with Server-Sent Events, `:generateContent` with one JSON response,
// `:countTokens` with a fixed count. A request that asks for JSON (Gemini CLI's model router, its summaries) gets an
// object built from the schema it asks for; every other request goes to the responder, which picks the parts.
import { createServer } from "node:http";
import { listenOnLoopback, parseJson, readBody } from "./http-body.ts";

export type GeminiPart = { text: string } | { functionCall: { name: string; args: unknown } };

export interface GeminiRequest {
  path: string;
  /** The model and method of the path, e.g. `gemini-2.5-pro`, `streamGenerateContent`. */
  model: string;
  method: string;
  body: any;
  index: number;
}

export type GeminiResponder = (req: GeminiRequest) => GeminiPart[] | Promise<GeminiPart[]>;

export interface GeminiMock {
  /** `http://127.0.0.1:PORT`, the value for GOOGLE_GEMINI_BASE_URL. */
  baseUrl: string;
  requests: GeminiRequest[];
  close(): Promise<void>;
}

export async function startGeminiMock(responder: GeminiResponder): Promise<GeminiMock> {
  const requests: GeminiRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const match = /^\/v1beta\/models\/([^:/]+):([A-Za-z]+)$/.exec(url.pathname);
      const raw = await readBody(req);
      const recorded: GeminiRequest = { path: url.pathname, model: match?.[1] ?? "", method: match?.[2] ?? "", body: parseJson(raw), index: requests.length };
      requests.push(recorded);
      if (req.method !== "POST" || !match) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: 404, message: `mock: no route for ${req.method} ${url.pathname}`, status: "NOT_FOUND" } }));
        return;
      }
      if (recorded.method === "countTokens") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ totalTokens: 100 }));
        return;
      }
      const config = recorded.body?.generationConfig ?? recorded.body?.config ?? {};
      const schema = config.responseJsonSchema ?? config.responseSchema;
      const parts: GeminiPart[] = config.responseMimeType === "application/json" ? [{ text: JSON.stringify(sampleOf(schema)) }] : await responder(recorded);
      const chunk = {
        candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
        usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 10, totalTokenCount: 110 },
        modelVersion: recorded.model,
      };
      if (recorded.method === "streamGenerateContent") {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
        res.end(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(chunk));
      }
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: 500, message: String(error), status: "INTERNAL" } }));
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    baseUrl: listening.origin,
    requests,
    close: listening.close,
  };
}

/** The smallest value of a (JSON or OpenAPI-style) schema: first enum value, empty strings, required keys only. */
function sampleOf(schema: any): unknown {
  if (!schema || typeof schema !== "object") return {};
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const type = String(Array.isArray(schema.type) ? schema.type[0] : schema.type ?? "object").toLowerCase();
  if (type === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, sub] of Object.entries(schema.properties ?? {})) out[key] = sampleOf(sub);
    return out;
  }
  if (type === "array") return [];
  if (type === "string") return "";
  if (type === "number" || type === "integer") return typeof schema.minimum === "number" ? schema.minimum : 0;
  if (type === "boolean") return false;
  return null;
}

// ---- reading a request ----

/** Names of the function declarations offered to the model. */
export function geminiToolNames(body: any): string[] {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  return tools.flatMap((t) => (Array.isArray(t?.functionDeclarations) ? t.functionDeclarations.map((f: any) => String(f?.name)) : []));
}

/** The function declarations themselves (name, description, parametersJsonSchema or parameters). */
export function geminiDeclarations(body: any): any[] {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  return tools.flatMap((t) => (Array.isArray(t?.functionDeclarations) ? t.functionDeclarations : []));
}

/** Every functionResponse in the conversation, in order, its response as JSON text. */
export function geminiFunctionResponses(body: any): Array<{ name: string; text: string }> {
  const out: Array<{ name: string; text: string }> = [];
  for (const content of Array.isArray(body?.contents) ? body.contents : []) {
    for (const part of Array.isArray(content?.parts) ? content.parts : []) {
      const response = part?.functionResponse?.response;
      // Gemini CLI wraps a result as {output: "<untrusted_context>…"} (or {error: …}); the text is what its model reads.
      if (part?.functionResponse) out.push({ name: String(part.functionResponse.name), text: typeof response?.output === "string" ? response.output : JSON.stringify(response ?? null) });
    }
  }
  return out;
}

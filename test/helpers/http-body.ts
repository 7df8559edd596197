// Reading a request body in the model mocks (mock-model, mock-anthropic, mock-gemini).
import type { IncomingMessage } from "node:http";

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The body as JSON, or null when it is empty or not JSON (the mock records it either way). */
export function parseJson(raw: string): unknown {
  if (raw === "") return null;
  try {
    return JSON.parse(raw);
  } catch {
    return null;
  }
}

import type { CallToolResult } from "@modelcontextprotocol/server";

/** A refusal or failure the model can act on: the text says what is wrong and what to do. */
export function errorResult(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** A success: structured content plus the same JSON as text, for clients that only read text. */
export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

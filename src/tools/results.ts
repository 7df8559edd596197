import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { AgentsDirError } from "../agents/registry.ts";
import { DelegateError } from "../delegate.ts";
import { PolicyError } from "../policy/roots.ts";
import { WorkspaceError } from "../workspace/types.ts";

/**
 * A refusal: an error whose text is written for the user (it names the thing and the next step), as opposed to a
 * broken invariant. Every tool returns these as they are, never as "internal error … report this".
 */
export function isRefusal(error: unknown): error is Error {
  return error instanceof DelegateError || error instanceof PolicyError || error instanceof WorkspaceError || error instanceof AgentsDirError;
}

/** A refusal or failure the model can act on: the text says what is wrong and what to do. */
export function errorResult(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** A success: structured content plus the same JSON as text, for clients that only read text. */
export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

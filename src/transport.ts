/**
 * Two adjustments to the SDK's stdio transport, both made after connect() by wrapping its handlers.
 */
import type { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

type Frame = Parameters<StdioServerTransport["send"]>[0];

/**
 * Answer `initialize` at once and hold every other message until `ready` settles, in arrival order. The server
 * then reads its agent files while the client is still in its handshake, instead of before it.
 */
export function holdUntilReady(transport: StdioServerTransport, ready: Promise<unknown>): void {
  const deliver = transport.onmessage;
  if (!deliver) throw new Error("holdUntilReady: connect the server first");
  let open = false;
  const held: Array<Parameters<typeof deliver>> = [];
  transport.onmessage = (...args: Parameters<typeof deliver>) => {
    const message = args[0] as JSONRPCMessage & { method?: string };
    if (open || message.method === "initialize") deliver(...args);
    else held.push(args);
  };
  ready.finally(() => {
    open = true;
    for (const args of held.splice(0)) deliver(...args);
  }).catch(() => {});
}

/**
 * JSON-RPC 2.0 §5.1: a line that is not JSON is answered with a Parse error (-32700), and JSON that is not a request,
 * notification or response with an Invalid Request error (-32600), both with id null. The SDK's stdio transport only
 * reports such lines to onerror and drops them, which leaves a client waiting for an answer that never comes.
 */
export function answerMalformedFrames(transport: StdioServerTransport): void {
  const sdkOnError = transport.onerror;
  transport.onerror = (error: Error) => {
    const code = error instanceof SyntaxError ? -32700 : error.name === "ZodError" ? -32600 : null;
    if (code !== null) {
      const message = code === -32700
        ? "Parse error: the line is not JSON; send one JSON-RPC 2.0 message per line"
        : "Invalid Request: not a JSON-RPC 2.0 request, notification or response (batches are not supported)";
      const frame = { jsonrpc: "2.0", id: null, error: { code, message } };
      transport.send(frame as unknown as Frame).catch(() => {});
    }
    sdkOnError?.(error);
  };
}

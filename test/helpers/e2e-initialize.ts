// The first line an MCP client writes to a server on stdio, in either protocol revision, for the tests and benchmarks
// that speak the protocol by hand (a raw pipe, no SDK client): so they time or check the server's answer to the same
// request.

/** A JSON-RPC `initialize` request (id 0, protocol 2025-06-18, no capabilities) from `clientName`, newline-terminated. */
export function initializeRequestLine(clientName: string): string {
  return `${JSON.stringify({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: clientName, version: "0" } },
  })}\n`;
}

/** The 2026-07-28 opening: a `server/discover` request (id 0) with the per-request `_meta` envelope, newline-terminated. */
export function discoverRequestLine(clientName: string): string {
  return `${JSON.stringify({
    jsonrpc: "2.0",
    id: 0,
    method: "server/discover",
    params: {
      _meta: {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": { name: clientName, version: "0" },
        "io.modelcontextprotocol/clientCapabilities": {},
      },
    },
  })}\n`;
}

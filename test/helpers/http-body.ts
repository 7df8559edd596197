// The HTTP plumbing of the model mocks (mock-model, mock-anthropic, mock-gemini): reading a request body, and
// serving on a free loopback port.
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";

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

/** Starts `server` on a free port of 127.0.0.1: its origin (`http://127.0.0.1:PORT`) and a close that does not hang. */
export async function listenOnLoopback(server: Server): Promise<{ origin: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // A codex or client that was killed mid-request can leave a keep-alive socket open; do not wait for it.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

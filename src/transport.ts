/**
 * The stdio edge of the server: the SDK's serveStdio, which serves a 2025-era client (`initialize`) and a 2026-07-28
 * client (`server/discover`, a `_meta` envelope on every request) from one process, behind a gate on stdin that answers
 * the lines the SDK would drop without a word. The only module that reads stdin or writes stdout in server mode.
 */
import { PassThrough, type Readable, type Writable } from "node:stream";
import { deserializeMessage, type McpServer } from "@modelcontextprotocol/server";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";

/**
 * The longest line (one message) read, in bytes: the SDK's own stdio limit. The largest request we take (a 1 MiB task,
 * JSON-escaped, plus a persona and an output schema) fits well within it.
 */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

/** JSON-RPC 2.0 §5.1 error codes for a line that is not a message. */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

/**
 * Splits a byte stream into lines (without the newline). A line over `maxLineBytes` is not kept: its bytes are dropped
 * as they arrive and it comes out as null, so a client cannot make the server buffer without bound.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private overLimit = false;

  constructor(private readonly maxLineBytes: number) {}

  /** The lines `chunk` completes, in order; null for each line that was over the limit. */
  push(chunk: Buffer): Array<Buffer | null> {
    const lines: Array<Buffer | null> = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const piece = chunk.subarray(start, newline === -1 ? chunk.length : newline);
      if (!this.overLimit) {
        if (this.size + piece.length > this.maxLineBytes) {
          this.overLimit = true;
          this.parts = [];
        } else if (piece.length > 0) {
          this.parts.push(piece);
          this.size += piece.length;
        }
      }
      if (newline === -1) return lines;
      lines.push(this.overLimit ? null : Buffer.concat(this.parts));
      this.parts = [];
      this.size = 0;
      this.overLimit = false;
      start = newline + 1;
    }
  }
}

/** The verdict on one line: pass it to the SDK (with its method, if any), skip it (blank), or answer it (id null). */
export type LineVerdict = { pass: Buffer; method?: string } | { skip: true } | { error: { code: number; message: string } };

/**
 * JSON-RPC 2.0 §5.1: a line that is not JSON gets a Parse error, JSON that is not a request, notification or response
 * an Invalid Request error, both with id null. The SDK's stdio transport drops the first silently and only reports the
 * second, which leaves a client waiting for an answer that never comes. Pure.
 */
export function judgeLine(line: Buffer | null, maxLineBytes = MAX_LINE_BYTES): LineVerdict {
  if (line === null) {
    return { error: { code: INVALID_REQUEST, message: `Invalid Request: a line of more than ${maxLineBytes} bytes was dropped; send one JSON-RPC 2.0 message per line, each under that size` } };
  }
  const text = line.toString("utf8").replace(/\r$/, "");
  if (text.trim() === "") return { skip: true };
  let message: { method?: unknown };
  try {
    message = deserializeMessage(text) as { method?: unknown };
  } catch (error) {
    return error instanceof SyntaxError
      ? { error: { code: PARSE_ERROR, message: "Parse error: the line is not JSON; send one JSON-RPC 2.0 message per line" } }
      : { error: { code: INVALID_REQUEST, message: "Invalid Request: not a JSON-RPC 2.0 request, notification or response (batches are not supported)" } };
  }
  return typeof message.method === "string" ? { pass: line, method: message.method } : { pass: line };
}

/** The requests that open a connection, one per protocol era: answered before the server is ready. */
const OPENING_METHODS = new Set(["initialize", "server/discover"]);

export interface StdioServing {
  /** Ends the connection: closes the server instance (aborting its in-flight calls) and the transport. */
  close(): Promise<void>;
}

export interface StdioOptions {
  stdin: Readable;
  stdout: Writable;
  /**
   * Starts what requests other than the opening one (`initialize`, `server/discover`) need, and resolves when it is
   * done; until then they are held, in arrival order. Called once the opening request is answered, or as soon as a
   * message has to wait for it; the caller makes repeated calls return the first call's promise.
   */
  ready: () => Promise<unknown>;
  /** Called when the client goes away (stdin ended or failed, stdout cannot be written, the transport closed). */
  onHangUp: (why: string) => void;
  /** Out-of-band errors of the SDK, for the log (stdout never carries them). */
  onError: (error: Error) => void;
  maxLineBytes?: number;
}

/** Serves `factory`'s servers over stdio, one per protocol era the client opens with (serveStdio's rule). */
export function serveOverStdio(factory: () => McpServer, options: StdioOptions): StdioServing {
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const gated = new PassThrough();
  // The gate hands over one whole line at a time, so the SDK's buffer never holds more than one line of ours.
  const transport = new StdioServerTransport(gated, options.stdout, { maxBufferSize: 2 * maxLineBytes + 2 });
  const handle = serveStdio(factory, { transport, onerror: options.onError });
  const sdkOnClose = transport.onclose;
  transport.onclose = () => {
    sdkOnClose?.();
    options.onHangUp("the transport closed");
  };

  let ended = false;
  let open = false;
  const held: Buffer[] = [];
  const deliver = (line: Buffer) => {
    if (!ended) gated.write(Buffer.concat([line, Buffer.from("\n")]));
  };
  let started = false;
  const startReady = () => {
    if (started || ended) return;
    started = true;
    options.ready().finally(() => {
      open = true;
      for (const line of held.splice(0)) deliver(line);
    }).catch(() => {});
  };
  // The first answer written (the opening request's, or an error for a bad line): what the next requests need is
  // read from then on.
  const send = transport.send.bind(transport);
  transport.send = (message) => {
    const sent = send(message);
    if (!started && "id" in message && !("method" in message)) void sent.finally(() => setImmediate(startReady)).catch(() => {});
    return sent;
  };

  const splitter = new LineSplitter(maxLineBytes);
  const onData = (chunk: Buffer) => {
    for (const line of splitter.push(chunk)) {
      const verdict = judgeLine(line, maxLineBytes);
      if ("pass" in verdict) {
        if (open || (held.length === 0 && verdict.method !== undefined && OPENING_METHODS.has(verdict.method))) {
          deliver(verdict.pass);
        } else {
          held.push(verdict.pass);
          startReady();
        }
      } else if ("error" in verdict) {
        transport.send({ jsonrpc: "2.0", id: null, error: verdict.error } as never).catch(() => {});
      }
    }
  };
  // A partial last line at end of input is dropped: a message ends with its newline.
  const onEnd = () => {
    if (ended) return;
    ended = true;
    held.length = 0;
    gated.end();
    options.onHangUp("stdin closed (the client went away)");
  };
  options.stdin.on("data", onData);
  options.stdin.once("end", onEnd);
  options.stdin.once("close", onEnd);
  options.stdin.on("error", (error) => {
    options.onError(error);
    onEnd();
  });
  options.stdout.on("error", () => options.onHangUp("stdout is closed (the client stopped reading)"));

  return {
    close: async () => {
      options.stdin.off("data", onData);
      await handle.close();
    },
  };
}

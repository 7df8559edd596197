/**
 * Stage three: what the child writes. Bounded buffers (the first bytes, or the last), and a line splitter for
 * programs that speak in lines (codex `--json`); nothing here grows with the child's output.
 */
import { StringDecoder } from "node:string_decoder";

/** Keeps the first `limit` bytes written to it; `truncated` once more arrived. */
export class HeadBuffer {
  private readonly kept: Buffer[] = [];
  private room: number;
  truncated = false;
  constructor(limit: number) {
    this.room = limit;
  }
  /** Returns false when this chunk did not fit whole (the buffer is full now). */
  push(chunk: Buffer): boolean {
    if (chunk.length <= this.room) {
      this.kept.push(chunk);
      this.room -= chunk.length;
      return true;
    }
    if (this.room > 0) this.kept.push(chunk.subarray(0, this.room));
    this.room = 0;
    this.truncated = true;
    return false;
  }
  bytes(): Buffer {
    return Buffer.concat(this.kept);
  }
}

/** Keeps the last `limit` bytes written to it; `truncated` once more arrived. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.limit) this.truncated = true;
    while (this.size > this.limit && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    if (this.size > this.limit) {
      const only = this.chunks[0]!;
      this.chunks[0] = only.subarray(only.length - this.limit);
      this.size = this.limit;
    }
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  text(): string {
    return tailText(this.bytes());
  }
}

/** The last bytes of a stream as UTF-8, without the replacement characters of a character cut at the front. */
export function tailText(bytes: Buffer): string {
  return bytes.toString("utf8").replace(/^\uFFFD+/, "");
}

/** Splits a byte stream into lines, UTF-8 safe across chunk boundaries, dropping the excess of over-long lines. */
export class LineSplitter {
  private decoder = new StringDecoder("utf8");
  private partial = "";
  private overflow = false;
  constructor(private readonly maxLineBytes: number, private readonly onLine: (line: string) => void) {}
  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
      this.take(text.slice(start, nl));
      this.flushLine();
      start = nl + 1;
    }
    this.take(text.slice(start));
  }
  end(): void {
    this.take(this.decoder.end());
    if (this.partial.length > 0 || this.overflow) this.flushLine();
  }
  private take(piece: string): void {
    if (this.overflow || piece.length === 0) return;
    if (this.partial.length + piece.length > this.maxLineBytes) {
      this.overflow = true;
      this.partial = "";
      return;
    }
    this.partial += piece;
  }
  private flushLine(): void {
    if (!this.overflow) this.onLine(this.partial);
    this.partial = "";
    this.overflow = false;
  }
}

/** How one output stream (stdout or stderr) is kept. Nothing is kept without `maxBytes`. */
export interface OutputOptions {
  /** Keep at most this many bytes in the result. */
  maxBytes?: number;
  /** Which bytes: the first ("head", the default) or the last ("tail", for an error message at the end). */
  keep?: "head" | "tail";
  /** With "head": stop the child (SIGTERM, grace, SIGKILL) once more than `maxBytes` arrived. Default false. */
  stopAtCap?: boolean;
  /** Each line as it arrives; lines longer than `maxLineBytes` are dropped whole. */
  onLine?: (line: string) => void;
  /** Longest line handed to `onLine`. Default 4 MiB. */
  maxLineBytes?: number;
}

/** What was kept of one stream. */
export interface CapturedOutput {
  bytes: Buffer;
  /** More arrived than `maxBytes`; `bytes` holds only part of it. */
  truncated: boolean;
}

const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

/** One stream's capture: the buffer, the line splitter, and the cap that can stop the child. */
export class OutputCapture {
  private readonly head?: HeadBuffer;
  private readonly tail?: TailBuffer;
  private readonly lines?: LineSplitter;
  constructor(private readonly options: OutputOptions, private readonly onCap: () => void) {
    if (options.maxBytes !== undefined) {
      if (options.keep === "tail") this.tail = new TailBuffer(options.maxBytes);
      else this.head = new HeadBuffer(options.maxBytes);
    }
    if (options.onLine) this.lines = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, options.onLine);
  }
  push(chunk: Buffer): void {
    this.lines?.push(chunk);
    this.tail?.push(chunk);
    if (this.head && !this.head.truncated && !this.head.push(chunk) && this.options.stopAtCap) this.onCap();
  }
  /** The stream ended (or the child is gone): hand over a last unterminated line. */
  end(): CapturedOutput {
    this.lines?.end();
    if (this.tail) return { bytes: this.tail.bytes(), truncated: this.tail.truncated };
    if (this.head) return { bytes: this.head.bytes(), truncated: this.head.truncated };
    return { bytes: Buffer.alloc(0), truncated: false };
  }
}

// Drive an MCP server over stdio with the official SDK client, the way real clients do: by default the 2025-era
// handshake (`initialize`), or the 2026-07-28 revision, negotiated or pinned.
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { distBinary } from "./paths.ts";

/**
 * Which protocol revision the client speaks: "legacy" the 2025-era `initialize` handshake (the SDK's default);
 * "auto" probes `server/discover` first (in a short-lived second copy of the server, as the SDK's stdio client does)
 * and takes 2026-07-28 when offered; "modern" pins 2026-07-28 (no `initialize` at all).
 */
export type ProtocolEra = "legacy" | "auto" | "modern";

export interface ConnectOptions {
  /** Executable to spawn; default the built `dist/codex-subagents`. */
  command?: string;
  /** Arguments; default `["serve"]` when `command` is the default, else `[]`. */
  args?: string[];
  /** Extra environment, merged over the SDK's safe defaults (HOME, LOGNAME, PATH, SHELL, TERM, USER). */
  env?: Record<string, string>;
  cwd?: string;
  /** Default "legacy". */
  protocol?: ProtocolEra;
}

export interface ConnectedServer {
  client: Client;
  /** Process id of the server, for asserting it is gone after `close()`. */
  pid: number | null;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Closes the session and waits until the server process has exited (SIGKILL as a last resort). */
  close(): Promise<void>;
}

const EXIT_WAIT_MS = 5000;

export async function connectServer(opts: ConnectOptions = {}): Promise<ConnectedServer> {
  const command = opts.command ?? distBinary;
  const args = opts.args ?? (opts.command === undefined ? ["serve"] : []);
  const transport = new StdioClientTransport({
    command,
    args,
    env: opts.env,
    cwd: opts.cwd,
    stderr: "pipe",
  });

  let stderrText = "";
  // The SDK hands out its PassThrough before start, so early output is not lost.
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderrText += chunk.toString("utf8");
  });

  const protocol = opts.protocol ?? "legacy";
  const mode = protocol === "modern" ? { pin: "2026-07-28" } : protocol;
  const client = new Client({ name: "codex-subagents-tests", version: "0.0.0" }, { versionNegotiation: { mode } });
  try {
    await client.connect(transport);
  } catch (error) {
    const pid = transport.pid;
    await transport.close().catch(() => {});
    await waitForExit(pid);
    throw new Error(`could not connect to ${command} ${args.join(" ")}: ${String(error)}\nstderr:\n${stderrText}`);
  }
  const pid = transport.pid;

  let closed: Promise<void> | undefined;
  return {
    client,
    pid,
    stderr: () => stderrText,
    close: () => {
      closed ??= (async () => {
        await client.close().catch(() => {});
        await waitForExit(pid);
      })();
      return closed;
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The SDK sends SIGKILL without waiting for it to land; wait here so tests really leave nothing behind. */
async function waitForExit(pid: number | null): Promise<void> {
  if (pid === null) return;
  const killAt = Date.now() + EXIT_WAIT_MS;
  const giveUpAt = killAt + EXIT_WAIT_MS;
  let killed = false;
  while (isAlive(pid) && Date.now() < giveUpAt) {
    if (!killed && Date.now() > killAt) {
      killed = true;
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// A suite's server over the codex mock: started with the mock's CODEX_HOME, and ended (server, mock, CODEX_HOME,
// scratch directories) in one order, as beforeAll and afterAll do in every such file.
import { rm } from "node:fs/promises";
import path from "node:path";
import type { CodexHome } from "./codex-home.ts";
import { connectServer, type ConnectedServer, type ProtocolEra } from "./mcp-client.ts";
import { serverCommand } from "./server-command.ts";

/**
 * `serve ARGS` in `cwd` with the mock's CODEX_HOME, run records under `$CODEX_HOME/runs`, and `extraEnv` on top;
 * the client speaks `protocol` (default the 2025 handshake).
 */
export function serveWithCodexHome(home: CodexHome, args: string[], cwd: string, extraEnv: Record<string, string> = {}, protocol?: ProtocolEra): Promise<ConnectedServer> {
  return connectServer({
    ...serverCommand(args),
    env: { ...home.env, CODEX_SUBAGENTS_RUNS_DIR: path.join(home.dir, "runs"), ...extraEnv },
    cwd,
    ...(protocol ? { protocol } : {}),
  });
}

interface Closable {
  close(): Promise<unknown>;
}

interface CleanedUp {
  cleanup(): Promise<unknown>;
}

/**
 * Closes the server first (so no codex still talks to the mock), then the mock, then removes the CODEX_HOME and
 * the scratch directories. Each part may be unset: a beforeAll that failed half-way leaves some of them undefined.
 */
export async function closeServerWorld(
  parts: { server?: Closable; mock?: Closable; home?: CleanedUp },
  ...dirs: Array<string | undefined>
): Promise<void> {
  await parts.server?.close();
  await parts.mock?.close();
  await parts.home?.cleanup();
  for (const dir of dirs) if (dir) await rm(dir, { recursive: true, force: true });
}

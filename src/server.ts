/**
 * createServer(deps) → McpServer with its five tools. No transport and no I/O at import time: cli.ts connects it.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Agent } from "./agents/schema.ts";
import type { DelegateContext } from "./delegate.ts";
import type { Root } from "./policy/roots.ts";
import type { RunManager } from "./runs/manager.ts";
import { registerCancelRunTool } from "./tools/cancel-run.ts";
import { describeDelegate, registerDelegateTool } from "./tools/delegate.ts";
import { registerGetRunTool } from "./tools/get-run.ts";
import { registerListAgentsTool } from "./tools/list-agents.ts";
import { registerValidateAgentsTool } from "./tools/validate-agents.ts";
import { PRODUCT_NAME, VERSION } from "./version.ts";

export interface ServerDeps {
  context: DelegateContext;
  roots: readonly Root[];
  /** The agents to name in the delegate tool's description, loaded while the client initializes. */
  agentsAtStart: Promise<readonly Agent[]>;
  codexHome?: string;
  shutdownSignal: AbortSignal;
  runs: RunManager;
  /** --max-wait, seconds: the longest one get_run call waits. */
  maxWaitS: number;
}

export const SERVER_INSTRUCTIONS = [
  "codex-subagents runs Codex sub-agents defined as files.",
  "Call list_agents to see who is available, then delegate with a self-contained task.",
  "Delegations can take minutes; results carry the sub-agent's final answer, token usage and, for worktree isolation, a patch.",
  "A call that may outlast your client's tool timeout, or several sub-agents side by side: delegate with background: true (returns a run_id at once), keep working, then collect each with get_run (wait_s waits for the end); cancel_run stops one.",
  "In Codex, independent foreground delegate calls run side by side only when the server entry sets supports_parallel_tool_calls = true; background runs need no setting.",
  "Parallel writers with isolation \"none\" share one tree and overwrite each other: give each writer isolation \"worktree\".",
].join(" ");

/**
 * `ready` resolves once the tool descriptions are final; until then the transport holds every request but
 * `initialize` (see transport.ts), so a client never lists tools with a provisional description.
 */
export function createServer(deps: ServerDeps): { server: McpServer; ready: Promise<void> } {
  const server = new McpServer(
    { name: PRODUCT_NAME, version: VERSION },
    { capabilities: { tools: {}, logging: {} }, instructions: SERVER_INSTRUCTIONS },
  );
  const delegateTool = registerDelegateTool(server, { context: deps.context, shutdownSignal: deps.shutdownSignal, runs: deps.runs });
  registerGetRunTool(server, { runs: deps.runs, maxWaitS: deps.maxWaitS });
  registerCancelRunTool(server, { runs: deps.runs, maxWaitS: deps.maxWaitS });
  registerListAgentsTool(server, { registry: deps.context.registry });
  registerValidateAgentsTool(server, { registry: deps.context.registry, roots: deps.roots, codexHome: deps.codexHome });
  const ready = deps.agentsAtStart.then((agents) => {
    // Set directly, not with update(): no client has listed the tools yet, so there is no change to announce.
    delegateTool.description = describeDelegate(agents);
  });
  return { server, ready };
}

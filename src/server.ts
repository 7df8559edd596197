/**
 * createServer(deps) → McpServer with its five tools. No transport and no I/O at import time: transport.ts serves it,
 * one instance per connection (the SDK's serveStdio asks for one per protocol era it meets).
 */
import { McpServer } from "@modelcontextprotocol/server";
import { codexDeclaredServers } from "./agents/mcp-check.ts";
import type { Agent } from "./agents/schema.ts";
import type { DelegateContext } from "./delegation/context.ts";
import type { Root } from "./policy/roots.ts";
import type { RunManager } from "./runs/manager.ts";
import { registerCancelRunTool } from "./tools/cancel-run.ts";
import { describeDelegate, registerDelegateTool } from "./tools/delegate.ts";
import { registerGetRunTool } from "./tools/get-run.ts";
import { registerListAgentsTool } from "./tools/list-agents.ts";
import { portableToolList } from "./tools/portable-schema.ts";
import { registerValidateAgentsTool } from "./tools/validate-agents.ts";
import { PRODUCT_NAME, VERSION } from "./version.ts";

export interface ServerDeps {
  context: DelegateContext;
  roots: readonly Root[];
  /** The agents to name in the delegate tool's description, read once the client has opened the connection. */
  agentsAtStart: Promise<readonly Agent[]>;
  codexHome?: string;
  shutdownSignal: AbortSignal;
  runs: RunManager;
  /** --max-wait, seconds: the longest one get_run call waits. */
  maxWaitS: number;
}

export const SERVER_INSTRUCTIONS = [
  "This server, codex-subagents, runs Codex sub-agents defined as agent files; they are not your client's own sub-agents or agent tools.",
  "To see them, call this server's list_agents tool (not a built-in ListAgents or Agent tool); to run one, call this server's delegate tool with a self-contained task: the sub-agent sees none of your conversation.",
  "A delegation can take minutes; its result carries the sub-agent's final answer, its token usage and, for worktree isolation, its changes as a patch.",
  "validate_agents checks agent files.",
  "A call that may outlast your client's tool timeout, or several sub-agents side by side: delegate with background: true (returns a run_id at once), keep working, then collect each with get_run (wait_s waits for the end); cancel_run stops one.",
  "In Codex, independent foreground delegate calls run side by side only when the server entry sets supports_parallel_tool_calls = true; background runs need no setting.",
  "Parallel writers with isolation \"none\" share one tree and overwrite each other: give each writer isolation \"worktree\".",
].join(" ");

/**
 * Every tool's schemas in `tools/list`, for every tool registered now or later, pass through portableToolList. The SDK
 * installs its tools/list handler on the first registerTool, through this one door, in both protocol eras; that is why
 * createServer declares no `tools` capability up front (which would install it in the constructor): registerTool adds
 * the capability. test/clients/schemas.test.ts fails if the SDK stops coming through here.
 */
function listPortableSchemas(server: McpServer): void {
  const lowLevel = server.server;
  const setRequestHandler = lowLevel.setRequestHandler.bind(lowLevel) as (...args: unknown[]) => void;
  lowLevel.setRequestHandler = ((method: unknown, ...rest: unknown[]) => {
    const handler = rest[0];
    if (method !== "tools/list" || rest.length !== 1 || typeof handler !== "function") return setRequestHandler(method, ...rest);
    return setRequestHandler(method, async (...args: unknown[]) => portableToolList((await handler(...args)) as { tools: [] }));
  }) as typeof lowLevel.setRequestHandler;
}

/**
 * `ready` resolves once the tool descriptions are final; until then the transport holds every request but the
 * opening one (`initialize` or `server/discover`, see transport.ts), so a client never lists tools with a provisional
 * description.
 */
export function createServer(deps: ServerDeps): { server: McpServer; ready: Promise<void> } {
  const server = new McpServer(
    { name: PRODUCT_NAME, version: VERSION },
    { capabilities: { logging: {} }, instructions: SERVER_INSTRUCTIONS },
  );
  listPortableSchemas(server);
  const delegateTool = registerDelegateTool(server, { context: deps.context, shutdownSignal: deps.shutdownSignal, runs: deps.runs });
  registerGetRunTool(server, { runs: deps.runs, maxWaitS: deps.maxWaitS });
  registerCancelRunTool(server, { runs: deps.runs, maxWaitS: deps.maxWaitS });
  registerListAgentsTool(server, { registry: deps.context.registry });
  registerValidateAgentsTool(server, {
    registry: deps.context.registry, roots: deps.roots, codexHome: deps.codexHome,
    declaredServers: () => codexDeclaredServers({ codex: deps.context.codexPath || null, env: deps.context.parentEnv, cwd: deps.context.defaultCwd }),
  });
  const ready = deps.agentsAtStart.then((agents) => {
    // Set directly, not with update(): no client has listed the tools yet, so there is no change to announce.
    delegateTool.description = describeDelegate(agents);
  });
  return { server, ready };
}

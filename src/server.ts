/**
 * createServer(deps) → McpServer with the three tools. No transport and no I/O at import time: cli.ts connects it.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Agent } from "./agents/schema.ts";
import type { DelegateContext } from "./delegate.ts";
import type { Root } from "./policy/roots.ts";
import { registerDelegateTool } from "./tools/delegate.ts";
import { registerListAgentsTool } from "./tools/list-agents.ts";
import { registerValidateAgentsTool } from "./tools/validate-agents.ts";
import { PRODUCT_NAME, VERSION } from "./version.ts";

export interface ServerDeps {
  context: DelegateContext;
  roots: readonly Root[];
  agentsAtStart: readonly Agent[];
  codexHome?: string;
  shutdownSignal: AbortSignal;
}

export const SERVER_INSTRUCTIONS = [
  "codex-subagents runs Codex sub-agents defined as files.",
  "Call list_agents to see who is available, then delegate with a self-contained task.",
  "Delegations can take minutes; results carry the sub-agent's final answer, token usage and, for worktree isolation, a patch.",
].join(" ");

export function createServer(deps: ServerDeps): McpServer {
  const server = new McpServer(
    { name: PRODUCT_NAME, version: VERSION },
    { capabilities: { tools: {}, logging: {} }, instructions: SERVER_INSTRUCTIONS },
  );
  registerDelegateTool(server, { context: deps.context, agentsAtStart: deps.agentsAtStart, shutdownSignal: deps.shutdownSignal });
  registerListAgentsTool(server, { registry: deps.context.registry });
  registerValidateAgentsTool(server, { registry: deps.context.registry, roots: deps.roots, codexHome: deps.codexHome });
  return server;
}

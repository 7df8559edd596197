import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { Registry } from "../agents/registry.ts";
import { listReport, listReportSchema } from "../agents/report.ts";
import { isRefusal, refusalText } from "../errors.ts";
import { errorResult, jsonResult } from "./results.ts";

export function registerListAgentsTool(server: McpServer, deps: { registry: () => Promise<Registry> }): void {
  server.registerTool("list_agents", {
    title: "List sub-agents",
    description: "List the Codex sub-agents this server's `delegate` tool can run: name, format (this server's own, claude-code or codex-role), description (long ones cut), model, sandbox, approval policy, isolation, what each may reach (capabilities: sandbox, network, web search, the MCP servers it is granted) and source file. Agents whose file has errors are listed with ok: false and cannot be delegated to (use validate_agents to see why). Reads agent files only; runs nothing.",
    inputSchema: z.strictObject({}),
    outputSchema: listReportSchema,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, async () => {
    try {
      const registry = await deps.registry();
      return jsonResult(listReport(registry.location, registry.files));
    } catch (error) {
      if (isRefusal(error)) return errorResult(refusalText(error));
      return errorResult(`could not read the agents: ${(error as Error).message}`);
    }
  });
}

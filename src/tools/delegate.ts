/**
 * The delegate tool: its schema, description, annotations, progress notifications and result mapping. The delegation
 * itself is delegation/ (plan.ts, run.ts), reached through the run table (runs/manager.ts).
 */
import type { McpServer, RegisteredTool } from "@modelcontextprotocol/server";
import type { Agent } from "../agents/schema.ts";
import { summarizeDescription } from "../agents/report.ts";
import { callerSandboxFromMeta } from "../policy/caller-sandbox.ts";
import { DEFAULT_SANDBOX } from "../policy/sandbox.ts";
import type { DelegateContext } from "../delegation/context.ts";
import { failureReason } from "../delegation/failure.ts";
import type { RunManager } from "../runs/manager.ts";
import { delegateInputSchema } from "../shapes/delegate-input.ts";
import { runResultSchema } from "../shapes/run-result.ts";
import { internalError, isRefusal, refusalText } from "../errors.ts";
import { errorResult } from "./results.ts";

export function describeDelegate(agents: readonly Agent[]): string {
  const grants = (a: Agent) => {
    const servers = Object.keys(a.mcp_servers ?? {});
    return `${servers.length ? `, MCP ${servers.join(" ")}` : ""}${a.web_search && a.web_search !== "disabled" ? `, web search ${a.web_search}` : ""}${a.network ? ", network" : ""}`;
  };
  const lines = agents.map((a) => `- ${a.name}: ${summarizeDescription(a.description) ?? "(no description)"} [sandbox ${a.sandbox_mode ?? DEFAULT_SANDBOX}${a.isolation && a.isolation !== "none" ? `, ${a.isolation}` : ""}${grants(a)}]`);
  return [
    "Delegate a self-contained task to a Codex sub-agent (a separate `codex exec` run with the agent's own instructions, model, sandbox and approval policy) and get back its final answer, its token usage and, for worktree isolation, its changes as a patch.",
    "Use it for work that benefits from a fresh context or a specialist: reviews, debugging, tests, docs, audits. Write the task so it stands alone: the sub-agent sees none of this conversation.",
    "It can take minutes. Pass thread_id from a result as `resume` to continue that conversation.",
    "For long or parallel work pass `background: true`: it returns a run_id at once; start several, keep working, then collect each with get_run (wait_s blocks up to the server's --max-wait). cancel_run ends one.",
    agents.length ? `Agents:\n${lines.join("\n")}` : "No agents are loaded; pass `persona` to define an ad-hoc agent.",
    "Unknown agent names need `persona` (an ad-hoc agent). Registry agents cannot be changed per call.",
  ].join("\n");
}

export interface DelegateToolDeps {
  context: DelegateContext;
  /** Ends in-flight calls when the server shuts down. */
  shutdownSignal: AbortSignal;
  /** The table of runs every call goes through (run ids, the concurrency queue, background runs). */
  runs: RunManager;
}

/** Progress notifications at least every this often while a call runs. */
export const HEARTBEAT_MS = 5000;

/** Registers the tool; its description names the agents once they are known (see createServer). */
export function registerDelegateTool(server: McpServer, deps: DelegateToolDeps): RegisteredTool {
  return server.registerTool("delegate", {
    title: "Delegate to a Codex sub-agent",
    description: describeDelegate([]),
    inputSchema: delegateInputSchema,
    outputSchema: runResultSchema,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  }, async (input, ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    let progress = 0;
    let finished = false;
    const startedAt = Date.now();
    let lastMessage = "starting";
    const notify = (message: string) => {
      if (finished || progressToken === undefined) return;
      progress += 1;
      lastMessage = message;
      ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress, message } }).catch(() => {});
    };
    const heartbeat = setInterval(() => notify(`${lastMessage.replace(/ \(\d+s\)$/, "")} (${Math.round((Date.now() - startedAt) / 1000)}s)`), HEARTBEAT_MS);
    try {
      const { background, ...request } = input;
      const run = await deps.runs.start(request, { callerSandbox: callerSandboxFromMeta(ctx.mcpReq._meta), ...(background ? {} : { signal: ctx.mcpReq.signal, onStep: notify }) });
      if (background) {
        finished = true;
        const view = deps.runs.view(run);
        return { content: [{ type: "text" as const, text: JSON.stringify(view, null, 2) }], structuredContent: view };
      }
      await run.done;
      if (run.refusal !== undefined) return errorResult(refusalText(run.refusal));
      const result = deps.runs.view(run);
      finished = true;
      const text = JSON.stringify(result, null, 2);
      // The first text block is exactly the structured result (for clients that read no structuredContent); a failure adds a one-line summary after it.
      const content = [{ type: "text" as const, text }];
      if (!result.ok) content.push({ type: "text", text: `delegation did not succeed: ${failureReason(result, "call")}; see notes and stderr_tail` });
      return { content, structuredContent: result, isError: !result.ok };
    } catch (error) {
      finished = true;
      if (isRefusal(error)) return errorResult(refusalText(error));
      deps.context.log.error(`delegate failed unexpectedly: ${(error as Error).stack ?? error}`);
      return errorResult(refusalText(internalError(error)));
    } finally {
      finished = true;
      clearInterval(heartbeat);
    }
  });
}

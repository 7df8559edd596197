/**
 * get_run: a run's status and, once it has finished, everything a foreground delegate returns. Optionally waits for
 * the end (at most --max-wait, so one call stays under every client's tool timeout).
 */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { refusalText } from "../errors.ts";
import { isFinal, type RunManager } from "../runs/manager.ts";
import { runResultSchema, type RunView } from "../shapes/run-result.ts";
import { HEARTBEAT_MS } from "./delegate.ts";
import { errorResult } from "./results.ts";

export const getRunInputSchema = z.strictObject({
  run_id: z.string().min(1).max(4096).describe("The run_id of a delegate result (its run_dir works too)"),
  wait_s: z.number().min(0).optional().describe("Wait up to this many seconds for the run to finish (capped by the server's --max-wait). Default 0: answer at once"),
});

export const DEFAULT_MAX_WAIT_S = 50;

export interface RunToolDeps {
  runs: RunManager;
  /** --max-wait: the longest one get_run call waits, in seconds. */
  maxWaitS: number;
}

export function runToolResult(view: RunView) {
  return { content: [{ type: "text" as const, text: JSON.stringify(view, null, 2) }], structuredContent: view };
}

export function describeGetRun(maxWaitS: number): string {
  return [
    "Get a run started with delegate (background: true, or any delegate result's run_id): its status (queued, running, succeeded, failed, timed_out, cancelled), elapsed_ms, its last steps and, once finished, everything delegate returns (final_message, structured, usage, patch, notes).",
    `wait_s blocks until the run finishes or wait_s passes (at most ${maxWaitS} s, the server's --max-wait); call again while status is queued or running. Reads only; a finished run stays readable after the server restarts.`,
  ].join(" ");
}

export function registerGetRunTool(server: McpServer, deps: RunToolDeps): void {
  server.registerTool("get_run", {
    title: "Get a sub-agent run",
    description: describeGetRun(deps.maxWaitS),
    inputSchema: getRunInputSchema,
    outputSchema: runResultSchema,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, async ({ run_id, wait_s }, ctx) => {
    const found = await deps.runs.lookup(run_id);
    if (found.found === "none") return errorResult(refusalText(found));
    if (found.found === "record") return runToolResult(found.view);
    const { run } = found;
    const waitS = Math.min(wait_s ?? 0, deps.maxWaitS);
    if (waitS > 0 && !isFinal(run.status)) {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      let progress = 0;
      let last = run.steps.at(-1) ?? run.status;
      const notify = (message: string) => {
        if (progressToken === undefined) return;
        progress += 1;
        ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress, message } }).catch(() => {});
      };
      const onStep = (step: string) => {
        last = step;
        notify(step);
      };
      const heartbeat = setInterval(() => notify(`${last} (${Math.round((Date.now() - run.acceptedAt) / 1000)}s)`), HEARTBEAT_MS);
      run.listeners.add(onStep);
      try {
        await deps.runs.wait(run, waitS * 1000, ctx.mcpReq.signal);
      } finally {
        clearInterval(heartbeat);
        run.listeners.delete(onStep);
      }
    }
    const view = deps.runs.view(run);
    // Only a run still going needs another call; a finished one is all there.
    if (wait_s !== undefined && wait_s > deps.maxWaitS && !isFinal(run.status)) view.notes = [...view.notes, `wait_s ${wait_s} was capped at the server's --max-wait of ${deps.maxWaitS} s; call get_run again`];
    return runToolResult(view);
  });
}

/** cancel_run: end a run and everything it started, and return its final result. A finished run is returned as is. */
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { refusalText } from "../errors.ts";
import { runResultSchema } from "../shapes/run-result.ts";
import { runToolResult, type RunToolDeps } from "./get-run.ts";
import { errorResult } from "./results.ts";

export const cancelRunInputSchema = z.strictObject({
  run_id: z.string().min(1).max(4096).describe("The run_id of a delegate result (its run_dir works too)"),
});

export function registerCancelRunTool(server: McpServer, deps: RunToolDeps): void {
  server.registerTool("cancel_run", {
    title: "Cancel a sub-agent run",
    description: "End a run (queued or running): codex and everything it started are ended within 5 s, its workspace is removed, and its final result (status cancelled) is returned. Cancelling a run that already finished is not an error: its result is returned unchanged.",
    inputSchema: cancelRunInputSchema,
    outputSchema: runResultSchema,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  }, async ({ run_id }) => {
    const found = await deps.runs.lookup(run_id);
    if (found.found === "none") return errorResult(refusalText(found));
    if (found.found === "record") return runToolResult(found.view);
    await deps.runs.cancel(found.run);
    return runToolResult(deps.runs.view(found.run));
  });
}

import { realpath } from "node:fs/promises";
import path from "node:path";
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { addMcpServerWarnings, type DeclaredServers } from "../agents/mcp-check.ts";
import { addEnvironmentWarnings, loadAgentsDir, type Registry } from "../agents/registry.ts";
import { validateReport, validateReportSchema } from "../agents/report.ts";
import { PolicyError, resolveAllowedDir, type Root } from "../policy/roots.ts";
import { isRefusal, refusalText } from "../errors.ts";
import { errorResult, jsonResult } from "./results.ts";

export interface ValidateToolDeps {
  registry: () => Promise<Registry>;
  roots: readonly Root[];
  codexHome?: string;
  /** Which MCP servers the user's codex config declares (asked in the first root), for the MCP_SERVER_UNDECLARED warning. */
  declaredServers?: () => DeclaredServers;
}

export function registerValidateAgentsTool(server: McpServer, deps: ValidateToolDeps): void {
  server.registerTool("validate_agents", {
    title: "Validate agent files",
    description: "Validate this server's Codex sub-agent files (YAML frontmatter + persona, JSON, Claude Code agents, Codex role files): report every error and warning with a code and what to fix. Without dir, checks the server's agents directory; dir must be that directory or inside one of the server's roots. Reads files only.",
    inputSchema: z.strictObject({ dir: z.string().optional().describe("Absolute directory of agent files; default: the server's agents directory") }),
    outputSchema: validateReportSchema,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, async ({ dir }) => {
    try {
      const registry = await deps.registry();
      const checkMcp = async (files: Registry["files"]) => {
        if (deps.declaredServers) await addMcpServerWarnings(files, deps.declaredServers());
      };
      if (dir === undefined) {
        await checkMcp(registry.files);
        return jsonResult(validateReport(registry.location.dir, registry.files));
      }
      const agentsDir = registry.location.dir;
      let target: string;
      const real = path.isAbsolute(dir) && !dir.includes("\0") ? await realpath(dir).catch(() => null) : null;
      if (agentsDir && real === agentsDir) target = agentsDir;
      else target = await resolveAllowedDir(dir, deps.roots, "dir");
      const files = await loadAgentsDir(target);
      await addEnvironmentWarnings(files, deps.codexHome);
      await checkMcp(files);
      return jsonResult(validateReport(target, files));
    } catch (error) {
      // The server's own agents directory is allowed too, outside the roots: the hint says so.
      if (error instanceof PolicyError) return errorResult(refusalText({ message: error.message, hint: error.hint && `${error.hint} (or the server's agents directory)` }));
      if (isRefusal(error)) return errorResult(refusalText(error));
      return errorResult(`could not validate: ${(error as Error).message}`);
    }
  });
}

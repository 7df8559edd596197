/**
 * The MCP servers codex would load for a run, as codex itself reports them: `codex [global options] mcp list --json`,
 * run with the same global options (`--profile`, `--cd`, `-c` overrides, `--disable`) and environment as the `exec`
 * it precedes. Codex merges config.toml, the profile's file and a trusted project's `.codex/config.toml` layers; asking
 * codex rather than reading those files ourselves means no layer is missed and none is read differently.
 */
import { isAbsolute } from "node:path";
import { z } from "zod";
import type { RefusalParts } from "../errors.ts";
import { notFoundAtStart, notStarted, probeCodex } from "./run.ts";

/** One entry of `codex mcp list --json` (codex 0.169 and 0.171 print the same shape); unknown fields are kept out. */
const mcpServerEntrySchema = z.object({
  name: z.string().min(1),
  enabled: z.boolean(),
  transport: z.object({
    type: z.string(),
    command: z.string().optional(),
    args: z.array(z.string()).nullish(),
    env: z.record(z.string(), z.string()).nullish(),
    env_vars: z.array(z.string()).nullish(),
    cwd: z.string().nullish(),
    url: z.string().optional(),
  }).loose(),
  startup_timeout_sec: z.number().nullish(),
  tool_timeout_sec: z.number().nullish(),
}).loose();

export type McpServerEntry = z.infer<typeof mcpServerEntrySchema>;

/** Longest `mcp list` may take: it only reads configuration (≈ 0.2 s here). */
export const MCP_LIST_TIMEOUT_MS = 15_000;

/** Pure: the JSON codex printed → its entries, or why it cannot be used. */
export function parseMcpList(stdout: string): { servers: McpServerEntry[] } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return { problem: "codex mcp list --json did not print JSON" };
  }
  const parsed = z.array(mcpServerEntrySchema).safeParse(value);
  if (!parsed.success) return { problem: `codex mcp list --json printed an unexpected shape (${parsed.error.issues[0]?.message ?? "invalid"})` };
  return { servers: parsed.data };
}

/** How codex limits one server's tools in its own config (`codex mcp get NAME --json`; `mcp list` does not say). */
const mcpServerToolsSchema = z.object({
  name: z.string(),
  enabled_tools: z.array(z.string()).nullish(),
  disabled_tools: z.array(z.string()).nullish(),
}).loose();

export type McpServerTools = { enabledTools: string[] | null; disabledTools: string[] };

/** Pure: the JSON of `codex mcp get NAME --json` → the tool limits the user's config sets, or why it cannot be used. */
export function parseMcpGet(stdout: string): McpServerTools | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return { problem: "codex mcp get --json did not print JSON" };
  }
  const parsed = mcpServerToolsSchema.safeParse(value);
  if (!parsed.success) return { problem: `codex mcp get --json printed an unexpected shape (${parsed.error.issues[0]?.message ?? "invalid"})` };
  return { enabledTools: parsed.data.enabled_tools ?? null, disabledTools: parsed.data.disabled_tools ?? [] };
}

/** What a failed probe says to its caller: why it failed (`problem`, one sentence) and, when there is one, the fix. */
export interface ProbeProblem {
  problem: string;
  hint?: string;
}

function probeProblem(what: string, probe: Awaited<ReturnType<typeof probeCodex>>, codexPath: string): ProbeProblem | null {
  const asProblem = ({ message, hint }: RefusalParts): ProbeProblem => ({ problem: message, hint });
  if (probe.spawnError === "ENOENT") return asProblem(notStarted(codexPath, probe.spawnError));
  // probeCodex never starts a codex that was not found at start-up (a bare name).
  if (!isAbsolute(codexPath)) return asProblem(notFoundAtStart(codexPath));
  if (probe.spawnError) return asProblem(notStarted(codexPath, probe.spawnError, what));
  if (probe.timedOut) return { problem: `codex did not answer within ${MCP_LIST_TIMEOUT_MS / 1000} s when asked to ${what}` };
  if (probe.exitCode !== 0) {
    const why = probe.stderr.trim().split("\n").slice(-3).join(" ").slice(0, 500);
    return { problem: `codex exited with ${probe.exitCode} when asked to ${what}${why ? `: ${why}` : ""}` };
  }
  return null;
}

/**
 * The tool limits (`enabled_tools`, `disabled_tools`) the user's config sets on one server, asked the same way as
 * listMcpServers. `name` must be a name listMcpServers reported and a grantable name (it never starts with `-`).
 */
export async function getMcpServerTools(req: {
  codexPath: string;
  globalArgs: readonly string[];
  cwd: string;
  env: Record<string, string>;
  name: string;
  signal?: AbortSignal;
}): Promise<McpServerTools | ProbeProblem> {
  const probe = await probeCodex(req.codexPath, [...req.globalArgs, "mcp", "get", req.name, "--json"], {
    timeoutMs: MCP_LIST_TIMEOUT_MS, cwd: req.cwd, env: req.env, signal: req.signal, maxOutputBytes: 1024 * 1024,
  });
  const problem = probeProblem(`read the MCP server "${req.name}"`, probe, req.codexPath);
  return problem ?? parseMcpGet(probe.stdout);
}

/**
 * Ask codex which MCP servers it would load, given the global options the run will use (everything before `exec`)
 * and the directory it will work in. `mcp list` ignores `--cd` (codex 0.171, measured: it finds project layers from
 * its own working directory), so it is started in `cwd`, which must be the run's `--cd`.
 * A failure is data (`problem`): the caller refuses the run rather than guess, since a server it cannot name it cannot
 * switch off.
 */
export async function listMcpServers(req: {
  codexPath: string;
  globalArgs: readonly string[];
  cwd: string;
  env: Record<string, string>;
  signal?: AbortSignal;
}): Promise<{ servers: McpServerEntry[] } | ProbeProblem> {
  const probe = await probeCodex(req.codexPath, [...req.globalArgs, "mcp", "list", "--json"], {
    timeoutMs: MCP_LIST_TIMEOUT_MS, cwd: req.cwd, env: req.env, signal: req.signal, maxOutputBytes: 4 * 1024 * 1024,
  });
  const problem = probeProblem("list its MCP servers", probe, req.codexPath);
  return problem ?? parseMcpList(probe.stdout);
}

/**
 * Claude Code (the pinned @anthropic-ai/claude-code), configured as docs/INTEGRATION.md says, its model an Anthropic
 * Messages mock on 127.0.0.1, the sub-agent the real codex against the codex mock. Its model calls ToolSearch (Claude
 * Code defers MCP tools), then list_agents, validate_agents and delegate; the sub-agent's answer must reach
 * `claude -p`'s final result. A call cut by MCP_TOOL_TIMEOUT must end the sub-agent.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SERVER_INSTRUCTIONS } from "../../src/server.ts";
import { expectClientCutsCall, integrationSnippet, runClient, shellWords, SLOW_TASK, SUBAGENT_MARKER } from "../helpers/client-world.ts";
import { clientBin, clientSuite, expectReviewRanWithKey, LONG_TASK, tappedDelegateTest } from "../helpers/client-suite.ts";
import { anthropicToolNames, plannedToolCalls, startAnthropicMock, type AnthropicMock } from "../helpers/mock-anthropic.ts";

const CLAUDE = clientBin("claude");
// The five tools docs/INTEGRATION.md says the model sees.
const TOOLS = ["mcp__subagents__list_agents", "mcp__subagents__validate_agents", "mcp__subagents__delegate", "mcp__subagents__get_run", "mcp__subagents__cancel_run"];

/** What the mock model does, step by step: each entry is the next tool call once the previous result is in. */
let plan: Array<{ name: string; input: unknown }> = [];
/** `cut`: set by the mock while the client still runs, after the cut call: the proof the sub-agent was ended. */
const { world, model, cut } = clientSuite<AnthropicMock>("claude", {
  // Side requests (titles, summaries) offer no ToolSearch; the conversation does.
  startModel: (_, beforeFinal) => startAnthropicMock(plannedToolCalls((names) => names.includes("ToolSearch"), () => plan, beforeFinal)),
});

beforeAll(async () => {
  // The guide's `claude mcp add`, run as a user would (it writes the throw-away HOME's ~/.claude.json).
  const words = shellWords(world.realize(integrationSnippet("claude-mcp-add")));
  expect(words.slice(0, 3)).toEqual(["claude", "mcp", "add"]);
  const add = await runClient(CLAUDE, words.slice(1), { env: clientEnv(), cwd: world.root });
  if (add.code !== 0) throw new Error(`claude mcp add failed (${add.code}): ${add.stderr}${add.stdout}`);
}, 60_000);

function clientEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...world.env,
    ANTHROPIC_BASE_URL: model.baseUrl,
    ANTHROPIC_API_KEY: "sk-ant-mock",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    ...extra,
  };
}

/** `claude -p` with the guide's --allowedTools (the prompt is the mock's business, not the test's). */
function allowedToolsArgs(): string[] {
  const words = shellWords(integrationSnippet("claude-allowed-tools"));
  const at = words.indexOf("--allowedTools");
  expect(at).toBeGreaterThan(0);
  return ["--allowedTools", words[at + 1]!];
}

async function claudeP(extraArgs: string[], env: Record<string, string> = {}) {
  const run = await runClient(CLAUDE, ["-p", "use the sub-agents", "--output-format", "json", ...extraArgs], { env: clientEnv(env), cwd: world.root });
  let result: any = null;
  try {
    result = JSON.parse(run.stdout);
  } catch {
    throw new Error(`claude -p printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { run, result };
}

const SELECT = { name: "ToolSearch", input: { query: `select:${TOOLS.join(",")}` } };

describe("Claude Code, configured as docs/INTEGRATION.md says", () => {
  test("its model delegates to review; the sub-agent's answer reaches claude -p's result; list_agents and validate_agents work", async () => {
    plan = [SELECT, { name: "mcp__subagents__list_agents", input: {} }, { name: "mcp__subagents__validate_agents", input: {} }, { name: "mcp__subagents__delegate", input: { agent: "review", task: "review the last commit" } }];
    const before = model.requests.length;
    const { run, result } = await claudeP(allowedToolsArgs());
    expect(run.code).toBe(0);
    expect(result.is_error).toBe(false);
    expect(result.permission_denials).toEqual([]);
    const final: string = result.result;
    expect(final).toContain(`${SUBAGENT_MARKER} from review`);
    expect(final).toMatch(/"name": ?"review"/); // list_agents
    expect(final).toMatch(/"with_errors": ?0/); // validate_agents
    expect(final).not.toContain("ERROR ");
    // Deferred tools: the first conversation request offers none of ours, only ToolSearch; after it, all three.
    const conversation = model.requests.slice(before).filter((r) => anthropicToolNames(r.body).includes("ToolSearch"));
    expect(anthropicToolNames(conversation[0]!.body).filter((n) => n.startsWith("mcp__"))).toEqual([]);
    expect(anthropicToolNames(conversation.at(-1)!.body)).toEqual(expect.arrayContaining(TOOLS));
    // The server's instructions reach Claude Code's system prompt, and they name this server's tools unambiguously.
    expect(conversation.some((r) => JSON.stringify(r.body).includes(SERVER_INSTRUCTIONS.slice(0, 60)))).toBe(true);
    await expectReviewRanWithKey(world);
  }, 120_000);

  test("the guide's ~/.claude/settings.json permission lets the tools run without --allowedTools", async () => {
    const settingsDir = path.join(world.home, ".claude");
    await mkdir(settingsDir, { recursive: true });
    await writeFile(path.join(settingsDir, "settings.json"), integrationSnippet("claude-settings"));
    plan = [SELECT, { name: "mcp__subagents__list_agents", input: {} }];
    try {
      const { run, result } = await claudeP([]);
      expect(run.code).toBe(0);
      expect(result.permission_denials).toEqual([]);
      expect(result.result).toMatch(/"name": ?"review"/);
    } finally {
      await writeFile(path.join(settingsDir, "settings.json"), "{}");
    }
    // And without either, headless Claude Code denies the call: the permission is what the guide says it is.
    plan = [SELECT, { name: "mcp__subagents__list_agents", input: {} }];
    const { result } = await claudeP([]);
    expect(result.permission_denials.map((d: any) => d.tool_name)).toContain("mcp__subagents__list_agents");
  }, 120_000);

  // MCP_PROTOCOL_NEGOTIATION: "auto" (what 2.1.328 does when it is unset) probes server/discover in a second,
  // short-lived copy of the server and takes 2026-07-28; "legacy" opens with initialize.
  for (const [negotiation, protocolVersion] of [["legacy", "2025-11-25"], ["auto", "2026-07-28"]] as const) {
    tappedDelegateTest(world, `claude-${negotiation}`, protocolVersion, async (executable) => {
      const config = path.join(world.scratch, "claude-tapped.json");
      await writeFile(config, JSON.stringify({ mcpServers: { subagents: { command: executable, env: { CODEX_SUBAGENTS_ROOTS: world.root } } } }));
      plan = [SELECT, { name: "mcp__subagents__list_agents", input: {} }, { name: "mcp__subagents__delegate", input: { agent: "review", task: LONG_TASK } }];
      const { run, result } = await claudeP([...allowedToolsArgs(), "--mcp-config", config, "--strict-mcp-config"], { MCP_PROTOCOL_NEGOTIATION: negotiation });
      return { run, output: result.result };
    }, `MCP_PROTOCOL_NEGOTIATION=${negotiation}`);
  }

  test("a call cut by MCP_TOOL_TIMEOUT ends the sub-agent: its run record says cancelled, no codex is left, the model reads a timeout", async () => {
    const timeoutVar = /^([A-Z_]+)=(\d+) claude$/.exec(integrationSnippet("claude-timeout").trim());
    expect(timeoutVar?.[1]).toBe("MCP_TOOL_TIMEOUT");
    expect(Number(timeoutVar![2])).toBeGreaterThan(1800 * 1000); // above the server's default --timeout
    plan = [SELECT, { name: "mcp__subagents__delegate", input: { agent: "review", task: SLOW_TASK } }];
    // Seen while claude was still running (so not the server's shutdown when the client exits).
    await expectClientCutsCall(world, cut, async () => {
      const { run, result } = await claudeP(allowedToolsArgs(), { [timeoutVar![1]!]: "3000" });
      expect(run.code).toBe(0);
      expect(result.result).toMatch(/ERROR .*timed out/i);
      expect(result.result).not.toContain(SUBAGENT_MARKER);
    });
  }, 120_000);
});

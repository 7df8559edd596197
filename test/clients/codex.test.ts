/**
 * Codex as the MCP client (the codex under test: the pinned one, or CODEX_SUBAGENTS_TEST_CODEX), configured with the
 * guide's complete entry (snippet codex-config), its top-level model and the sub-agent's both played by the codex
 * mock. What the client table in docs/INTEGRATION.md says about Codex: the protocol version and progress token it
 * sends, calls one at a time unless supports_parallel_tool_calls = true, and tool_timeout_sec as a hard limit that
 * ends the sub-agent. (The guide's snippets themselves are run by test/e2e/docs-snippets.test.ts.)
 */
import { describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { HEARTBEAT_MS } from "../../src/tools/delegate.ts";
import {
  expectClientCutsCall,
  expectProgressDuring,
  expectTappedCalls,
  integrationSnippet,
  MODERN_REVISION,
  readTap,
  runClient,
  sleepTask,
  SLOW_TASK,
  SUBAGENT_MARKER,
  takeCutEvidence,
} from "../helpers/client-world.ts";
import { clientSuite, LONG_TASK } from "../helpers/client-suite.ts";
import { assistantMessage, functionCall, functionCallOutputs, type OutputItem, type RecordedRequest } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";

/** The tool calls the top-level model makes in its first turn (all at once), then it reports what came back. */
let calls: Array<{ name: string; args: unknown }> = [];
const { world, cut } = clientSuite("codex", { topLevel });

async function topLevel(req: RecordedRequest): Promise<OutputItem[]> {
  const outputs = functionCallOutputs(req.body);
  if (outputs.length === 0) return calls.map((c, i) => functionCall({ name: c.name, namespace: "mcp__subagents", args: c.args, callId: `call_${i}` }));
  await takeCutEvidence(world, cut);
  return [assistantMessage(`FINAL\n${outputs.map((o) => o.output).join("\n---\n")}`)];
}

/**
 * One top-level `codex exec` with the guide's entry (through a tap) added to this world's config.toml for the run;
 * `codexArgs` go before `exec` (e.g. `--enable FEATURE`).
 */
async function codexExec(edit: (toml: string) => string = (t) => t, codexArgs: string[] = []) {
  const tapped = await world.tapped(`codex-${Date.now()}`);
  const entry = edit(world.realize(integrationSnippet("codex-config"), tapped.executable));
  const configFile = path.join(world.codexHome.dir, "config.toml");
  const original = await readFile(configFile, "utf8");
  await writeFile(configFile, `${original}\n${entry}\n`);
  try {
    const run = await runClient(codexBin, [...codexArgs, "exec", "--json", "--skip-git-repo-check", "-C", world.root, "use the sub-agents"], { env: world.env, cwd: world.root });
    const finals = run.stdout.split("\n").filter((l) => l.includes('"agent_message"')).map((l) => JSON.parse(l).item.text as string);
    return { run, final: finals.join("\n"), tap: await readTap(tapped.log) };
  } finally {
    await writeFile(configFile, original);
  }
}

describe("Codex as the client, with the guide's complete entry", () => {
  test("it sends protocol 2025-06-18 and a progress token on every call; with supports_parallel_tool_calls the calls overlap", async () => {
    calls = [0, 1, 2].map(() => ({ name: "delegate", args: { agent: "review", task: sleepTask(1500) } }));
    const { run, final, tap } = await codexExec();
    expect(run.code).toBe(0);
    // Each of the three results names the sub-agent's answer as its final_message (its steps may repeat it).
    expect(final.match(new RegExp(`"final_message":\\s*"${SUBAGENT_MARKER}`, "g"))?.length).toBe(3);
    expectTappedCalls(tap, "2025-06-18", 3);
    const [a, b] = tap.calls;
    expect(b!.at).toBeLessThan(a!.answeredAt!);
  }, 120_000);

  test("without supports_parallel_tool_calls it runs them one at a time", async () => {
    calls = [0, 1, 2].map(() => ({ name: "delegate", args: { agent: "review", task: sleepTask(1500) } }));
    const { run, tap } = await codexExec((t) => {
      expect(t).toContain("supports_parallel_tool_calls = true");
      return t.replace("supports_parallel_tool_calls = true\n", "");
    });
    expect(run.code).toBe(0);
    expect(tap.calls.length).toBe(3);
    for (let i = 1; i < tap.calls.length; i++) expect(tap.calls[i]!.at).toBeGreaterThanOrEqual(tap.calls[i - 1]!.answeredAt!);
  }, 120_000);

  test("with the mcp_2026_07_28 feature and CODEX_MCP_PROTOCOL_VERSION in the entry's env it speaks 2026-07-28: list_agents, and progress on a long delegate", async () => {
    calls = [{ name: "list_agents", args: {} }, { name: "delegate", args: { agent: "review", task: LONG_TASK } }];
    const { run, final, tap } = await codexExec((t) => {
      expect(t).toContain("[mcp_servers.subagents.env]\n");
      return t.replace("[mcp_servers.subagents.env]\n", `[mcp_servers.subagents.env]\n${integrationSnippet("codex-config-2026").trim()}\n`);
    }, ["--enable", "mcp_2026_07_28"]);
    expect(run.code).toBe(0);
    expect(final).toMatch(new RegExp(`"final_message":\\s*"${SUBAGENT_MARKER}`));
    expect(final).toMatch(/"name": ?"review"/);
    expectTappedCalls(tap, MODERN_REVISION, 2);
    expectProgressDuring(tap, tap.calls.find((c) => c.params.name === "delegate")!, HEARTBEAT_MS);
  }, 120_000);

  test("tool_timeout_sec is a hard limit despite progress: the cut call ends the sub-agent, cancelled, nothing left", async () => {
    calls = [{ name: "delegate", args: { agent: "review", task: SLOW_TASK } }];
    // Seen while codex was still running (so not the server's shutdown when the client exits).
    await expectClientCutsCall(world, cut, async () => {
      const { run, final, tap } = await codexExec((t) => {
        expect(t).toMatch(/^tool_timeout_sec = (\d+)$/m);
        return t.replace(/^tool_timeout_sec = \d+$/m, "tool_timeout_sec = 3");
      });
      expect(run.code).toBe(0);
      expect(final).toMatch(/timed out/i);
      expect(final).not.toContain(SUBAGENT_MARKER);
      expect(tap.notifications.map((n) => n.method)).toContain("notifications/cancelled");
    });
  }, 120_000);
});

/**
 * opencode (the pinned opencode-ai), configured as docs/INTEGRATION.md says, its model an Anthropic Messages mock on
 * 127.0.0.1 behind a custom provider (opencode's bundled @ai-sdk/anthropic), the sub-agent the real codex against the
 * codex mock. Its model calls list_agents, validate_agents and delegate; the answer must reach `opencode run`'s
 * output. opencode's timeout restarts on progress (tested); a call cut by it ends the sub-agent.
 */
import { describe, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { HEARTBEAT_MS } from "../../src/tools/delegate.ts";
import { expectClientCutsCall, integrationSnippet, runClient, runResults, sleepTask, SLOW_TASK, SUBAGENT_MARKER } from "../helpers/client-world.ts";
import { clientBin, clientSuite, expectReviewRanWithKey, LONG_TASK, tappedDelegateTest } from "../helpers/client-suite.ts";
import { anthropicToolNames, plannedToolCalls, startAnthropicMock, type AnthropicMock } from "../helpers/mock-anthropic.ts";

const OPENCODE = clientBin("opencode");

/** What the mock model does, step by step: each entry is the next tool call once the previous result is in. */
let plan: Array<{ name: string; input: unknown }> = [];
const { world, model, cut } = clientSuite<AnthropicMock>("opencode", {
  startModel: (_, beforeFinal) => startAnthropicMock(plannedToolCalls((names) => names.some((n) => n.startsWith("subagents_")), () => plan, beforeFinal)),
});

/** The project's opencode.json: the guide's snippet, plus the mock as the user's model provider. */
async function writeConfig(entry: (e: any) => void = () => {}, executable?: string): Promise<void> {
  const config = JSON.parse(world.realize(integrationSnippet("opencode-config"), executable));
  entry(config.mcp.subagents);
  config.model = "mock/mock-model";
  config.provider = { mock: { npm: "@ai-sdk/anthropic", name: "Mock", options: { baseURL: `${model.baseUrl}/v1`, apiKey: "mock" }, models: { "mock-model": { name: "Mock model" } } } };
  await writeFile(path.join(world.root, "opencode.json"), JSON.stringify(config, null, 2));
}

/** One `opencode run`, its model following `plan`, after writeConfig(entry, executable): its JSON events, and the text its model wrote. */
async function opencodeRun(opts: { plan: typeof plan; entry?: (e: any) => void; executable?: string }) {
  await writeConfig(opts.entry, opts.executable);
  plan = opts.plan;
  const home = world.home;
  const run = await runClient(OPENCODE, ["run", "use the sub-agents", "--format", "json"], {
    env: { ...world.env, OPENCODE_DISABLE_MODELS_FETCH: "1", XDG_CONFIG_HOME: `${home}/.config`, XDG_DATA_HOME: `${home}/.local/share`, XDG_CACHE_HOME: `${home}/.cache`, XDG_STATE_HOME: `${home}/.local/state` },
    cwd: world.root,
  });
  const events = run.stdout.split("\n").filter((l) => l.trim()).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return null;
    }
  }).filter(Boolean);
  const text = events.filter((e: any) => e.type === "text").map((e: any) => String(e.part?.text ?? "")).join("\n");
  return { run, events, text };
}

describe("opencode, configured as docs/INTEGRATION.md says", () => {
  test("its model delegates to review; the sub-agent's answer reaches opencode run's output; list_agents and validate_agents work", async () => {
    const { run, text } = await opencodeRun({
      plan: [{ name: "subagents_list_agents", input: {} }, { name: "subagents_validate_agents", input: {} }, { name: "subagents_delegate", input: { agent: "review", task: "review the last commit" } }],
    });
    expect(run.code).toBe(0);
    expect(text).toContain(`${SUBAGENT_MARKER} from review`);
    expect(text).toMatch(/"name": ?"review"/);
    expect(text).toMatch(/"with_errors": ?0/);
    expect(text).not.toContain("ERROR ");
    // The five tools docs/INTEGRATION.md says the model sees.
    const offered = new Set(model.messageRequests().flatMap((r) => anthropicToolNames(r.body)));
    for (const name of ["delegate", "get_run", "cancel_run", "list_agents", "validate_agents"]) expect(offered.has(`subagents_${name}`)).toBe(true);
    await expectReviewRanWithKey(world);
  }, 120_000);

  // opencode 1.18.33 negotiates within initialize only (its binary has no server/discover): 2025-11-25, also against
  // a server that offers 2026-07-28.
  tappedDelegateTest(world, "opencode", "2025-11-25", async (executable) => {
    const { run, text } = await opencodeRun({ executable, plan: [{ name: "subagents_list_agents", input: {} }, { name: "subagents_delegate", input: { agent: "review", task: LONG_TASK } }] });
    return { run, output: text };
  });

  test("progress restarts opencode's timeout: a run longer than it, with heartbeats inside it, completes", async () => {
    const timeoutMs = Math.round(HEARTBEAT_MS * 1.4);
    const { run, text } = await opencodeRun({ entry: (e) => (e.timeout = timeoutMs), plan: [{ name: "subagents_delegate", input: { agent: "review", task: sleepTask(timeoutMs + HEARTBEAT_MS) } }] });
    expect(run.code).toBe(0);
    expect(text).toContain(`${SUBAGENT_MARKER} from review`);
    expect((await runResults(world.runsDir)).at(-1)!.duration_ms).toBeGreaterThan(timeoutMs);
  }, 120_000);

  test("a call cut by the entry's timeout ends the sub-agent: its run record says cancelled, no codex is left", async () => {
    await expectClientCutsCall(world, cut, async () => {
      const { run, text } = await opencodeRun({
        entry: (e) => {
          expect(e.timeout).toBeGreaterThan(1800 * 1000); // above the server's default --timeout
          e.timeout = Math.round(HEARTBEAT_MS * 0.6); // shorter than the gap between heartbeats
        },
        plan: [{ name: "subagents_delegate", input: { agent: "review", task: SLOW_TASK } }],
      });
      expect(run.code).toBe(0);
      expect(text).toContain("Request timed out");
      expect(text).not.toContain(SUBAGENT_MARKER);
    });
  }, 120_000);
});

/**
 * opencode (the pinned opencode-ai), configured as docs/INTEGRATION.md says, its model an Anthropic Messages mock on
 * 127.0.0.1 behind a custom provider (opencode's bundled @ai-sdk/anthropic), the sub-agent the real codex against the
 * codex mock. Its model calls list_agents, validate_agents and delegate; the answer must reach `opencode run`'s
 * output. opencode's timeout restarts on progress (tested); a call cut by it ends the sub-agent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { HEARTBEAT_MS } from "../../src/tools/delegate.ts";
import {
  expectClientCutsCall,
  expectTappedCalls,
  integrationSnippet,
  newCutWatch,
  makeClientWorld,
  OPENAI_KEY,
  processesOf,
  readTap,
  runClient,
  runResults,
  sleepTask,
  SLOW_TASK,
  SUBAGENT_MARKER,
  takeCutEvidence,
  type ClientWorld,
} from "../helpers/client-world.ts";
import { plannedToolCalls, startAnthropicMock, type AnthropicMock } from "../helpers/mock-anthropic.ts";
import { repoRoot } from "../helpers/paths.ts";

const OPENCODE = path.join(repoRoot, "node_modules", ".bin", "opencode");

let world: ClientWorld;
let model: AnthropicMock;
let plan: Array<{ name: string; input: unknown }> = [];
const cut = newCutWatch();

beforeAll(async () => {
  world = await makeClientWorld("opencode");
  model = await startAnthropicMock(plannedToolCalls((names) => names.some((n) => n.startsWith("subagents_")), () => plan, () => takeCutEvidence(world, cut)));
}, 60_000);

afterAll(async () => {
  await model?.close();
  await world?.close();
});

/** The project's opencode.json: the guide's snippet, plus the mock as the user's model provider. */
async function writeConfig(entry: (e: any) => void = () => {}, executable?: string): Promise<void> {
  const config = JSON.parse(world.realize(integrationSnippet("opencode-config"), executable));
  entry(config.mcp.subagents);
  config.model = "mock/mock-model";
  config.provider = { mock: { npm: "@ai-sdk/anthropic", name: "Mock", options: { baseURL: `${model.baseUrl}/v1`, apiKey: "mock" }, models: { "mock-model": { name: "Mock model" } } } };
  await writeFile(path.join(world.root, "opencode.json"), JSON.stringify(config, null, 2));
}

/** `opencode run`, its JSON events, and the text its model wrote. */
async function opencodeRun() {
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
    await writeConfig();
    plan = [{ name: "subagents_list_agents", input: {} }, { name: "subagents_validate_agents", input: {} }, { name: "subagents_delegate", input: { agent: "review", task: "review the last commit" } }];
    const { run, text } = await opencodeRun();
    expect(run.code).toBe(0);
    expect(text).toContain(`${SUBAGENT_MARKER} from review`);
    expect(text).toMatch(/"name": ?"review"/);
    expect(text).toMatch(/"with_errors": ?0/);
    expect(text).not.toContain("ERROR ");
    expect(world.codexMock.responseRequests().at(-1)!.headers?.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect((await runResults(world.runsDir)).at(-1)).toMatchObject({ ok: true, agent: "review", cancelled: false });
    expect(await processesOf(world.codexHome.dir)).toEqual([]);
  }, 120_000);

  test("what it sends (seen through a tap): protocol 2025-11-25, a progress token on every call", async () => {
    const tapped = await world.tapped("opencode");
    await writeConfig(() => {}, tapped.executable);
    plan = [{ name: "subagents_delegate", input: { agent: "review", task: "review the last commit" } }];
    const { run, text } = await opencodeRun();
    expect(run.code).toBe(0);
    expect(text).toContain(SUBAGENT_MARKER);
    const tap = await readTap(tapped.log);
    expectTappedCalls(tap, "2025-11-25", 1);
  }, 120_000);

  test("progress restarts opencode's timeout: a run longer than it, with heartbeats inside it, completes", async () => {
    const timeoutMs = Math.round(HEARTBEAT_MS * 1.4);
    await writeConfig((e) => (e.timeout = timeoutMs));
    plan = [{ name: "subagents_delegate", input: { agent: "review", task: sleepTask(timeoutMs + HEARTBEAT_MS) } }];
    const { run, text } = await opencodeRun();
    expect(run.code).toBe(0);
    expect(text).toContain(`${SUBAGENT_MARKER} from review`);
    expect((await runResults(world.runsDir)).at(-1)!.duration_ms).toBeGreaterThan(timeoutMs);
  }, 120_000);

  test("a call cut by the entry's timeout ends the sub-agent: its run record says cancelled, no codex is left", async () => {
    await writeConfig((e) => {
      expect(e.timeout).toBeGreaterThan(1800 * 1000); // above the server's default --timeout
      e.timeout = Math.round(HEARTBEAT_MS * 0.6); // shorter than the gap between heartbeats
    });
    plan = [{ name: "subagents_delegate", input: { agent: "review", task: SLOW_TASK } }];
    await expectClientCutsCall(world, cut, async () => {
      const { run, text } = await opencodeRun();
      expect(run.code).toBe(0);
      expect(text).toContain("Request timed out");
      expect(text).not.toContain(SUBAGENT_MARKER);
    });
  }, 120_000);
});

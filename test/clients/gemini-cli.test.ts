/**
 * Gemini CLI (the pinned @google/gemini-cli), configured as docs/INTEGRATION.md says, its model a Gemini API mock on
 * 127.0.0.1, the sub-agent the real codex against the codex mock. Its model calls list_agents, validate_agents and
 * delegate; the sub-agent's answer must reach `gemini -p`'s response. A call cut by the entry's `timeout` must end
 * the sub-agent; without the guide's `"OPENAI_API_KEY": "$OPENAI_API_KEY"` the key does not reach codex.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
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
  shellWords,
  SLOW_TASK,
  SUBAGENT_MARKER,
  takeCutEvidence,
  type ClientWorld,
} from "../helpers/client-world.ts";
import { geminiDeclarations, geminiFunctionResponses, geminiToolNames, startGeminiMock, type GeminiMock, type GeminiPart } from "../helpers/mock-gemini.ts";
import { repoRoot } from "../helpers/paths.ts";

const GEMINI = path.join(repoRoot, "node_modules", ".bin", "gemini");
const TOOLS = ["mcp_subagents_list_agents", "mcp_subagents_validate_agents", "mcp_subagents_delegate"];

let world: ClientWorld;
let model: GeminiMock;
let plan: Array<{ name: string; args: unknown }> = [];
const cut = newCutWatch();

beforeAll(async () => {
  world = await makeClientWorld("gemini");
  model = await startGeminiMock(async (req): Promise<GeminiPart[]> => {
    if (!geminiToolNames(req.body).some((n) => n.startsWith("mcp_subagents_"))) return [{ text: "ok" }];
    const results = geminiFunctionResponses(req.body);
    const next = plan[results.length];
    if (next) return [{ functionCall: { name: next.name, args: next.args } }];
    await takeCutEvidence(world, cut);
    return [{ text: `FINAL\n${results.map((r) => r.text).join("\n---\n")}` }];
  });
  await mkdir(path.join(world.home, ".gemini"), { recursive: true });
}, 60_000);

afterAll(async () => {
  await model?.close();
  await world?.close();
});

/** ~/.gemini/settings.json: the guide's entry, plus the API-key sign-in a user picked (not ours to document). */
async function writeSettings(entry: (e: any) => void = () => {}, executable?: string): Promise<any> {
  const settings = JSON.parse(world.realize(integrationSnippet("gemini-settings"), executable));
  entry(settings.mcpServers.subagents);
  settings.security = { auth: { selectedType: "gemini-api-key" } };
  await writeFile(path.join(world.home, ".gemini", "settings.json"), JSON.stringify(settings, null, 2));
  return settings;
}

/** `gemini` with the guide's headless flags (the prompt is the mock's business). */
async function geminiP(opts: { withoutGuideFlags?: boolean } = {}) {
  const words = shellWords(integrationSnippet("gemini-trust"));
  expect(words[0]).toBe("gemini");
  const flags = words.slice(1).filter((w, i, all) => w.startsWith("--") && all[i - 1] !== "-p");
  expect(flags).toEqual(["--skip-trust"]);
  const run = await runClient(GEMINI, [...(opts.withoutGuideFlags ? [] : flags), "-p", "use the sub-agents", "--output-format", "json"], {
    env: { ...world.env, GOOGLE_GEMINI_BASE_URL: model.baseUrl, GEMINI_API_KEY: "gemini-mock-key", NO_COLOR: "1" },
    cwd: world.root,
  });
  let result: any = {};
  try {
    result = JSON.parse(run.stdout);
  } catch {
    if (!opts.withoutGuideFlags) throw new Error(`gemini -p printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { run, response: String(result.response ?? "") };
}

describe("Gemini CLI, configured as docs/INTEGRATION.md says", () => {
  test("its model delegates to review; the sub-agent's answer reaches gemini -p's response; list_agents and validate_agents work", async () => {
    await writeSettings();
    plan = [{ name: "mcp_subagents_list_agents", args: {} }, { name: "mcp_subagents_validate_agents", args: {} }, { name: "mcp_subagents_delegate", args: { agent: "review", task: "review the last commit" } }];
    const before = model.requests.length;
    const { run, response } = await geminiP();
    expect(run.code).toBe(0);
    expect(response).toContain(`${SUBAGENT_MARKER} from review`);
    expect(response).toMatch(/"name": ?"review"/);
    expect(response).toMatch(/"with_errors": ?0/);
    expect(response).toContain("<untrusted_context>");
    // The schemas Gemini hands its model carry none of the keywords its API may refuse.
    const declarations = model.requests.slice(before).flatMap((r) => geminiDeclarations(r.body)).filter((d) => TOOLS.includes(d.name));
    expect(new Set(declarations.map((d) => d.name))).toEqual(new Set(TOOLS));
    for (const d of declarations) expect(JSON.stringify(d)).not.toMatch(/"\$schema"|"propertyNames"|"exclusiveMinimum"/);
    expect(world.codexMock.responseRequests().at(-1)!.headers?.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect((await runResults(world.runsDir)).at(-1)).toMatchObject({ ok: true, agent: "review", cancelled: false });
    expect(await processesOf(world.codexHome.dir)).toEqual([]);
  }, 120_000);

  test("without the entry's OPENAI_API_KEY line, Gemini CLI strips the key: the sub-agent's codex never gets it", async () => {
    await writeSettings((e) => delete e.env.OPENAI_API_KEY);
    plan = [{ name: "mcp_subagents_delegate", args: { agent: "review", task: "review the last commit" } }];
    const requestsBefore = world.codexMock.responseRequests().length;
    const { response } = await geminiP();
    expect(response).not.toContain(SUBAGENT_MARKER);
    expect(response).toContain("OPENAI_API_KEY");
    expect(world.codexMock.responseRequests().length).toBe(requestsBefore);
  }, 120_000);

  test("what the guide's trust settings are for: without \"trust\": true no tool is offered; without --skip-trust, exit 55", async () => {
    await writeSettings((e) => delete e.trust);
    plan = [{ name: "mcp_subagents_list_agents", args: {} }];
    const before = model.requests.length;
    const untrusted = await geminiP();
    expect(untrusted.run.code).toBe(0);
    expect(model.requests.slice(before).flatMap((r) => geminiToolNames(r.body)).filter((n) => n.startsWith("mcp_subagents_"))).toEqual([]);
    await writeSettings();
    const noSkip = await geminiP({ withoutGuideFlags: true });
    expect(noSkip.run.code).toBe(55);
  }, 120_000);

  test("what it sends (seen through a tap): protocol 2025-06-18, a progress token on every call", async () => {
    const tapped = await world.tapped("gemini");
    await writeSettings(() => {}, tapped.executable);
    plan = [{ name: "mcp_subagents_delegate", args: { agent: "review", task: "review the last commit" } }];
    const { run, response } = await geminiP();
    expect(run.code).toBe(0);
    expect(response).toContain(SUBAGENT_MARKER);
    const tap = await readTap(tapped.log);
    expectTappedCalls(tap, "2025-06-18", 1);
  }, 120_000);

  test("a call cut by the entry's timeout ends the sub-agent: its run record says cancelled, no codex is left", async () => {
    const settings = await writeSettings((e) => {
      expect(e.timeout).toBeGreaterThan(1800 * 1000); // above the server's default --timeout
      e.timeout = 3000;
    });
    expect(settings.mcpServers.subagents.trust).toBe(true);
    plan = [{ name: "mcp_subagents_delegate", args: { agent: "review", task: SLOW_TASK } }];
    await expectClientCutsCall(world, cut, async () => {
      const { run, response } = await geminiP();
      expect(run.code).toBe(0);
      expect(response).not.toContain(SUBAGENT_MARKER);
    });
  }, 120_000);
});

/**
 * Gemini CLI (the pinned @google/gemini-cli), configured as docs/INTEGRATION.md says, its model a Gemini API mock on
 * 127.0.0.1, the sub-agent the real codex against the codex mock. Its model calls list_agents, validate_agents and
 * delegate; the sub-agent's answer must reach `gemini -p`'s response. A call cut by the entry's `timeout` must end
 * the sub-agent; without the guide's `"OPENAI_API_KEY": "$OPENAI_API_KEY"` the key does not reach codex.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { expectClientCutsCall, integrationSnippet, runClient, shellWords, SLOW_TASK, SUBAGENT_MARKER } from "../helpers/client-world.ts";
import { clientBin, clientSuite, expectReviewRanWithKey, LONG_TASK, tappedDelegateTest } from "../helpers/client-suite.ts";
import { geminiDeclarations, geminiFunctionResponses, geminiToolNames, startGeminiMock, type GeminiMock, type GeminiPart } from "../helpers/mock-gemini.ts";

const GEMINI = clientBin("gemini");
// The five tools docs/INTEGRATION.md says the model sees.
const TOOLS = ["mcp_subagents_list_agents", "mcp_subagents_validate_agents", "mcp_subagents_delegate", "mcp_subagents_get_run", "mcp_subagents_cancel_run"];

/** What the mock model does, step by step: each entry is the next function call once the previous result is in. */
let plan: Array<{ name: string; args: unknown }> = [];
const DELEGATE_REVIEW = { name: "mcp_subagents_delegate", args: { agent: "review", task: "review the last commit" } };
const { world, model, cut } = clientSuite<GeminiMock>("gemini", {
  startModel: (_, beforeFinal) =>
    startGeminiMock(async (req): Promise<GeminiPart[]> => {
      if (!geminiToolNames(req.body).some((n) => n.startsWith("mcp_subagents_"))) return [{ text: "ok" }];
      const results = geminiFunctionResponses(req.body);
      const next = plan[results.length];
      if (next) return [{ functionCall: { name: next.name, args: next.args } }];
      await beforeFinal();
      return [{ text: `FINAL\n${results.map((r) => r.text).join("\n---\n")}` }];
    }),
});

beforeAll(async () => {
  await mkdir(path.join(world.home, ".gemini"), { recursive: true });
});

/** ~/.gemini/settings.json: the guide's entry, plus the API-key sign-in a user picked (not ours to document). */
async function writeSettings(entry: (e: any) => void = () => {}, executable?: string): Promise<any> {
  const settings = JSON.parse(world.realize(integrationSnippet("gemini-settings"), executable));
  entry(settings.mcpServers.subagents);
  settings.security = { auth: { selectedType: "gemini-api-key" } };
  await writeFile(path.join(world.home, ".gemini", "settings.json"), JSON.stringify(settings, null, 2));
  return settings;
}

/**
 * One `gemini` with the guide's headless flags (the prompt is the mock's business), its model following `plan`, after
 * writeSettings(entry, executable); also returns the settings written.
 */
async function geminiP(opts: { plan: typeof plan; entry?: (e: any) => void; executable?: string; withoutGuideFlags?: boolean }) {
  const settings = await writeSettings(opts.entry, opts.executable);
  plan = opts.plan;
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
  return { run, response: String(result.response ?? ""), settings };
}

describe("Gemini CLI, configured as docs/INTEGRATION.md says", () => {
  test("its model delegates to review; the sub-agent's answer reaches gemini -p's response; list_agents and validate_agents work", async () => {
    const before = model.requests.length;
    const { run, response } = await geminiP({ plan: [{ name: "mcp_subagents_list_agents", args: {} }, { name: "mcp_subagents_validate_agents", args: {} }, DELEGATE_REVIEW] });
    expect(run.code).toBe(0);
    expect(response).toContain(`${SUBAGENT_MARKER} from review`);
    expect(response).toMatch(/"name": ?"review"/);
    expect(response).toMatch(/"with_errors": ?0/);
    expect(response).toContain("<untrusted_context>");
    // The schemas Gemini hands its model carry none of the keywords its API may refuse.
    const declarations = model.requests.slice(before).flatMap((r) => geminiDeclarations(r.body)).filter((d) => TOOLS.includes(d.name));
    expect(new Set(declarations.map((d) => d.name))).toEqual(new Set(TOOLS));
    for (const d of declarations) expect(JSON.stringify(d)).not.toMatch(/"\$schema"|"propertyNames"|"exclusiveMinimum"/);
    await expectReviewRanWithKey(world);
  }, 120_000);

  test("without the entry's OPENAI_API_KEY line, Gemini CLI strips the key: the sub-agent's codex never gets it", async () => {
    const requestsBefore = world.codexMock.responseRequests().length;
    const { response } = await geminiP({ entry: (e) => delete e.env.OPENAI_API_KEY, plan: [DELEGATE_REVIEW] });
    expect(response).not.toContain(SUBAGENT_MARKER);
    expect(response).toContain("OPENAI_API_KEY");
    expect(world.codexMock.responseRequests().length).toBe(requestsBefore);
  }, 120_000);

  test("what the guide's trust settings are for: without \"trust\": true no tool is offered; without --skip-trust, exit 55", async () => {
    const listAgents = [{ name: "mcp_subagents_list_agents", args: {} }];
    const before = model.requests.length;
    const untrusted = await geminiP({ entry: (e) => delete e.trust, plan: listAgents });
    expect(untrusted.run.code).toBe(0);
    expect(model.requests.slice(before).flatMap((r) => geminiToolNames(r.body)).filter((n) => n.startsWith("mcp_subagents_"))).toEqual([]);
    const noSkip = await geminiP({ plan: listAgents, withoutGuideFlags: true });
    expect(noSkip.run.code).toBe(55);
  }, 120_000);

  // Gemini CLI 0.61 speaks only the 2025 revisions: it opens with initialize, whatever the server offers.
  tappedDelegateTest(world, "gemini", "2025-06-18", async (executable) => {
    const { run, response } = await geminiP({ executable, plan: [{ name: "mcp_subagents_list_agents", args: {} }, { name: "mcp_subagents_delegate", args: { agent: "review", task: LONG_TASK } }] });
    return { run, output: response };
  });

  test("a call cut by the entry's timeout ends the sub-agent: its run record says cancelled, no codex is left", async () => {
    await expectClientCutsCall(world, cut, async () => {
      const { run, response, settings } = await geminiP({
        entry: (e) => {
          expect(e.timeout).toBeGreaterThan(1800 * 1000); // above the server's default --timeout
          e.timeout = 3000;
        },
        plan: [{ name: "mcp_subagents_delegate", args: { agent: "review", task: SLOW_TASK } }],
      });
      expect(settings.mcpServers.subagents.trust).toBe(true);
      expect(run.code).toBe(0);
      expect(response).not.toContain(SUBAGENT_MARKER);
    });
  }, 120_000);
});

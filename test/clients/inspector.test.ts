/**
 * The MCP Inspector CLI (the pinned @modelcontextprotocol/inspector), run as docs/INTEGRATION.md says: its command line
 * (run by bash, so the guide's quoting and `$VARS` are what a user gets) with the guide's mcpServers JSON as --config.
 * delegate's answer must be in its output; list_agents and validate_agents work; its fixed 60-second limit cuts a
 * longer call, and that must end the sub-agent.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { HEARTBEAT_MS } from "../../src/tools/delegate.ts";
import {
  codexProcessesOf,
  expectProgressDuring,
  integrationSnippet,
  MODERN_REVISION,
  processesOf,
  readTap,
  runClient,
  runResults,
  SLOW_TASK,
  SUBAGENT_MARKER,
  waitFor,
} from "../helpers/client-world.ts";
import { clientBin, clientSuite, expectReviewRanWithKey, LONG_TASK } from "../helpers/client-suite.ts";

const INSPECTOR = clientBin("mcp-inspector");

const { world } = clientSuite("inspector");

beforeAll(async () => {
  // The guide's generic mcpServers block, saved where the guide's command looks for it.
  await writeFile(path.join(world.root, "mcp.json"), world.realize(integrationSnippet("mcp-json")));
});

/** The guide's command, with the pinned Inspector for `npx …`, and its `--method …` part replaced when given. */
async function inspector(method?: string, edit: (command: string) => string = (c) => c) {
  let command = edit(integrationSnippet("inspector-call").replace(/\\\n\s*/g, ""));
  expect(command.startsWith("npx @modelcontextprotocol/inspector --cli ")).toBe(true);
  command = command.replace("npx @modelcontextprotocol/inspector", JSON.stringify(INSPECTOR));
  if (method) command = `${command.slice(0, command.indexOf("--method"))}${method}`;
  const run = await runClient("bash", ["-c", command], { env: world.env, cwd: world.root });
  let result: any = null;
  try {
    result = JSON.parse(run.stdout);
  } catch {}
  return { run, result };
}

describe("MCP Inspector CLI, run as docs/INTEGRATION.md says", () => {
  test("the guide's delegate call prints the sub-agent's answer; OPENAI_API_KEY and CODEX_HOME reach codex through -e", async () => {
    const { run, result } = await inspector();
    expect(run.code).toBe(0);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.final_message).toBe(`${SUBAGENT_MARKER} from review`);
    await expectReviewRanWithKey(world);
  }, 120_000);

  test("without the guide's -e OPENAI_API_KEY the key does not reach codex (the Inspector passes almost no environment)", async () => {
    const requestsBefore = world.codexMock.responseRequests().length;
    const { result } = await inspector(undefined, (c) => {
      expect(c).toContain('-e OPENAI_API_KEY="$OPENAI_API_KEY"');
      return c.replace('-e OPENAI_API_KEY="$OPENAI_API_KEY" ', "");
    });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result)).toContain("OPENAI_API_KEY");
    expect(world.codexMock.responseRequests().length).toBe(requestsBefore);
  }, 120_000);

  test("list_agents, validate_agents and tools/list --strict work from it", async () => {
    const listed = await inspector("--method tools/call --tool-name list_agents");
    expect(listed.run.code).toBe(0);
    expect(listed.result.structuredContent.agents.map((a: any) => a.name)).toContain("review");
    const validated = await inspector("--method tools/call --tool-name validate_agents");
    expect(validated.run.code).toBe(0);
    expect(validated.result.structuredContent.summary.with_errors).toBe(0);
    const tools = await inspector("--method tools/list --strict");
    expect(tools.run.code).toBe(0);
    expect(tools.run.stderr).not.toContain("Warning");
    // A failed call (unknown agent) is an isError result: exit status 5, as the guide says.
    const failed = await inspector("--method tools/call --tool-name delegate --tool-arg agent=no-such-agent --tool-arg task=x");
    expect(failed.run.code).toBe(5);
  }, 120_000);

  test("what it sends (seen through a tap): protocol 2025-11-25, no progress token", async () => {
    const tapped = await world.tapped("inspector");
    await writeFile(path.join(world.root, "mcp.json"), world.realize(integrationSnippet("mcp-json"), tapped.executable));
    try {
      const { run, result } = await inspector();
      expect(run.code).toBe(0);
      expect(result.structuredContent.final_message).toContain(SUBAGENT_MARKER);
    } finally {
      await writeFile(path.join(world.root, "mcp.json"), world.realize(integrationSnippet("mcp-json")));
    }
    const tap = await readTap(tapped.log);
    expect(tap.opening).toEqual({ method: "initialize", protocolVersion: "2025-11-25" });
    expect(tap.calls.length).toBe(1);
    expect(tap.calls[0]!.params._meta?.progressToken).toBeUndefined();
  }, 120_000);

  // Its --protocol-era: "modern" speaks 2026-07-28 only, "auto" negotiates it; without it, the 2025 handshake.
  for (const era of [undefined, "modern", "auto"] as const) {
    const label = era ? `--protocol-era ${era}` : "no --protocol-era";
    test(`${label}: the guide's delegate call, list_agents and tools/list --strict work, and --tool-metadata progressToken=1 gets progress on a long call`, async () => {
      const tapped = await world.tapped(`inspector-${era ?? "default"}`);
      await writeFile(path.join(world.root, "mcp.json"), world.realize(integrationSnippet("mcp-json"), tapped.executable));
      const withEra = (c: string) => (era ? c.replace(" --method ", ` --protocol-era ${era} --method `) : c);
      try {
        const delegated = await inspector(undefined, withEra);
        expect(delegated.run.code).toBe(0);
        expect(delegated.result.structuredContent.final_message).toBe(`${SUBAGENT_MARKER} from review`);
        const listed = await inspector("--method tools/call --tool-name list_agents", withEra);
        expect(listed.result.structuredContent.agents.map((a: any) => a.name)).toContain("review");
        const strict = await inspector("--method tools/list --strict", withEra);
        expect(strict.run.code).toBe(0);
        expect(strict.run.stderr).not.toContain("Warning");
        const long = await inspector(`--method tools/call --tool-name delegate --tool-arg agent=review --tool-arg "task=${LONG_TASK}" --tool-metadata progressToken=1`, withEra);
        expect(long.run.code).toBe(0);
        expect(long.result.structuredContent.final_message).toBe(`${SUBAGENT_MARKER} from review`);
      } finally {
        await writeFile(path.join(world.root, "mcp.json"), world.realize(integrationSnippet("mcp-json")));
      }
      const tap = await readTap(tapped.log);
      if (era) {
        expect(tap.opening).toEqual({ method: "server/discover", protocolVersion: MODERN_REVISION });
        expect(tap.initialize).toBeNull();
        for (const call of tap.calls) expect(call.params._meta?.["io.modelcontextprotocol/protocolVersion"]).toBe(MODERN_REVISION);
      } else {
        expect(tap.opening).toEqual({ method: "initialize", protocolVersion: "2025-11-25" });
      }
      expect(tap.calls.length).toBe(3);
      expectProgressDuring(tap, tap.calls[2]!, HEARTBEAT_MS);
    }, 120_000);
  }

  test("its fixed 60 s limit cuts a longer call, and that ends the sub-agent: the run record says cancelled, no codex is left", async () => {
    const before = (await runResults(world.runsDir)).length;
    const { run } = await inspector(`--method tools/call --tool-name delegate --tool-arg agent=review --tool-arg "task=${SLOW_TASK}"`);
    expect(run.code).not.toBe(0);
    expect(run.durationMs).toBeGreaterThan(59_000);
    expect(`${run.stdout}${run.stderr}`).toMatch(/timed out|timeout/i);
    const record = await waitFor(async () => (await runResults(world.runsDir)).slice(before).find((r) => r.cancelled === true), 15_000);
    expect(record).toMatchObject({ cancelled: true, ok: false, agent: "review" });
    expect(await codexProcessesOf(world.codexHome.dir)).toEqual([]);
    expect(await waitFor(async () => ((await processesOf(world.codexHome.dir)).length === 0 ? true : undefined), 10_000)).toBe(true);
  }, 120_000);
});

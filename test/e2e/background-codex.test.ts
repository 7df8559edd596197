/**
 * A run longer than the client's tool timeout completes. A top-level real codex is the MCP
 * client, configured as docs/INTEGRATION.md says but with tool_timeout_sec = 5. The mock model makes it call
 * delegate with background: true; the review sub-agent (a second real codex) gets its answer from the mock only
 * after 8 s, longer than any one tool call may last; the top-level model polls get_run (wait_s 3) until the run has
 * finished, and quotes the sub-agent's answer. The timeline comes from the mock's own request log.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { starterPersonaFirstLine } from "../helpers/agents.ts";
import { makeCodexHome, runCodex, type CodexHome, type CodexRun } from "../helpers/codex-home.ts";
import { assistantMessage, delay, developerMessages, functionCall, functionCallOutputs, startMockModel, type MockModel } from "../helpers/mock-model.ts";
import { appendCodexConfig } from "../helpers/toml.ts";
import { subagentsServerEntry } from "../helpers/e2e-subagents-entry.ts";

const MARKER = "BACKGROUND-ANSWER-7c41";
const SUBAGENT_DELAY_MS = 8000;
const TOOL_TIMEOUT_S = 5;

interface Event {
  at: number;
  level: "top" | "review";
  did: string;
}

/** run_id and status out of a tool output as the model sees it (JSON text, possibly escaped once more). */
function field(output: string, name: string): string | undefined {
  return new RegExp(`${name}\\\\?"\\s*:\\s*\\\\?"([^"\\\\]+)`).exec(output)?.[1];
}

describe("background delegation past the client's tool_timeout_sec", () => {
  let mock: MockModel;
  let home: CodexHome;
  let workDir: string;
  let run: CodexRun;
  let startedAt = 0;
  const timeline: Event[] = [];
  let reviewPersona = "";

  beforeAll(async () => {
    reviewPersona = await starterPersonaFirstLine("review");
    mock = await startMockModel(async (req) => {
      const at = Date.now() - startedAt;
      const isReview = developerMessages(req.body).join("\n").includes(reviewPersona);
      const outputs = functionCallOutputs(req.body);
      if (isReview) {
        timeline.push({ at, level: "review", did: "asked" });
        await delay(SUBAGENT_DELAY_MS);
        timeline.push({ at: Date.now() - startedAt, level: "review", did: "answered" });
        return [assistantMessage(`${MARKER}: the commit looks fine`)];
      }
      if (outputs.length === 0) {
        timeline.push({ at, level: "top", did: "delegate background" });
        return [functionCall({ name: "delegate", namespace: "mcp__subagents", args: { agent: "review", task: "Review the last commit.", background: true }, callId: "call_bg" })];
      }
      const last = outputs.at(-1)!.output;
      const status = field(last, "status");
      const runId = field(outputs[0]!.output, "run_id");
      if ((status === "queued" || status === "running") && runId && outputs.length < 12) {
        timeline.push({ at, level: "top", did: `get_run (saw ${status})` });
        return [functionCall({ name: "get_run", namespace: "mcp__subagents", args: { run_id: runId, wait_s: 3 }, callId: `call_poll_${outputs.length}` })];
      }
      timeline.push({ at, level: "top", did: `final (saw ${status})` });
      return [assistantMessage(`The background reviewer said: ${last}`)];
    });
    workDir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-bg-codex-")));
    home = await makeCodexHome({ baseUrl: mock.baseUrl });
    await appendCodexConfig(
      home.dir,
      subagentsServerEntry({ root: workDir, runsDir: path.join(home.dir, "runs"), envVars: ["CODEX_HOME", "CODEX_SUBAGENTS_DEPTH"], toolTimeoutSec: TOOL_TIMEOUT_S }),
    );
    startedAt = Date.now();
    run = await runCodex({
      args: ["exec", "--json", "--skip-git-repo-check", "-C", workDir, "-"],
      env: home.env,
      cwd: workDir,
      stdin: "Get a review of the last commit in the background and tell me what it said.",
      hangGuardMs: 100_000,
    });
  }, 120_000);

  afterAll(async () => {
    await mock?.close();
    await home?.cleanup();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test("the sub-agent's answer, which took longer than tool_timeout_sec, reaches the top-level codex", () => {
    process.stderr.write(`  timeline (ms since start): ${timeline.map((e) => `${e.at} ${e.level}: ${e.did}`).join("; ")}\n`);
    expect(run.exitCode).toBe(0);
    const messages = run.events.filter((e) => e.type === "item.completed" && e.item?.type === "agent_message").map((e) => e.item.text);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toStartWith("The background reviewer said: ");
    expect(messages[0]).toContain(MARKER);
    expect(messages[0]).toContain("succeeded");
  });

  test("timeline: delegate answered at once, the sub-agent ran longer than the timeout, get_run polls collected it", () => {
    const at = (level: Event["level"], did: string) => timeline.find((e) => e.level === level && e.did.startsWith(did));
    const start = at("top", "delegate background")!;
    const asked = at("review", "asked")!;
    const answered = at("review", "answered")!;
    const polls = timeline.filter((e) => e.level === "top" && e.did.startsWith("get_run"));
    const final = at("top", "final")!;
    expect(start && asked && answered && final).toBeTruthy();
    // The first poll came while the sub-agent was still working: delegate did not hold the call.
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls[0]!.at).toBeLessThan(answered.at);
    expect(answered.at - asked.at).toBeGreaterThan(TOOL_TIMEOUT_S * 1000);
    expect(final.at).toBeGreaterThan(answered.at);
    expect(final.did).toBe("final (saw succeeded)");
    // Every tool call codex made completed (none hit tool_timeout_sec).
    const calls = run.events.filter((e) => e.type === "item.completed" && e.item?.type === "mcp_tool_call").map((e) => e.item);
    expect(calls.map((c) => c.tool)).toEqual(["delegate", ...polls.map(() => "get_run")]);
    for (const call of calls) expect(call.status).toBe("completed");
  });
});

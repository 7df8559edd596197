/**
 * The whole path a user runs: a top-level real codex is the MCP client, configured the way
 * docs/INTEGRATION.md says, with this server as its MCP server. The mock model makes the top-level codex call
 * `delegate`; the server runs a second real codex (the sub-agent) against the same mock; the sub-agent's answer
 * travels back through the tool result to the top-level codex and into its final message.
 *
 * It also pins down how the nesting depth reaches a nested server: codex starts MCP servers with a reduced
 * environment, so CODEX_SUBAGENTS_DEPTH (which our server sets for its codex child) reaches the nested server's
 * own environment only when the codex config lists it in `env_vars`; on Linux the server also finds it in its
 * ancestors' environments (src/policy/depth.ts), so the limit holds either way there.
 *
 * A sub-agent reaches the server's `delegate` only when it is granted that MCP server like any other: the reviewer here
 * is an ad-hoc agent with `mcp_servers: ["subagents"]`, and the server runs with `--allow-mcp subagents`.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeCodexHome, runCodex, type CodexHome, type CodexRun } from "../helpers/codex-home.ts";
import { assistantMessage, developerMessages, functionCall, functionCallOutputs, startMockModel, toolNames, userMessages, type MockModel, type RecordedRequest } from "../helpers/mock-model.ts";
import { bunBin } from "../helpers/paths.ts";
import { suiteValue } from "../helpers/e2e-suite.ts";
import { appendCodexConfig, mcpServerToml } from "../helpers/toml.ts";
import { subagentsServerEntry } from "../helpers/e2e-subagents-entry.ts";
import { starterPersonaFirstLine } from "../helpers/agents.ts";

const MARKER = "SUBAGENT-MARKER-5b1e";
const TOP_TASK = "Get a review of the last commit from the review agent and tell me what it said.";
const REVIEW_TASK = "Review the last commit (full-path test).";
const NESTED_TASK = "Explain the layout (nested delegation attempt).";

let reviewPersona = "";
let explainPersona = "";

type Level = "top" | "review" | "explain";

/** Top level vs sub-agent: only sub-agents carry a persona in their developer messages. */
function levelOf(req: RecordedRequest): Level {
  const developer = developerMessages(req.body).join("\n");
  if (developer.includes(reviewPersona)) return "review";
  if (developer.includes(explainPersona)) return "explain";
  return "top";
}

interface Scenario {
  mock: MockModel;
  home: CodexHome;
  workDir: string;
  run: CodexRun;
  byLevel(level: Level): RecordedRequest[];
  cleanup(): Promise<void>;
}

/**
 * One top-level `codex exec`. The mock: top level calls `delegate` to review; the review sub-agent tries to
 * delegate once more (to explain) and then answers with the marker plus what its own delegate call returned;
 * an explain sub-sub-agent (if the nesting was not refused) answers plainly; the top level quotes the tool result.
 */
async function runScenario(envVars: string[]): Promise<Scenario> {
  const mock = await startMockModel((req) => {
    const outputs = functionCallOutputs(req.body);
    switch (levelOf(req)) {
      case "top":
        if (outputs.length === 0) {
          return [functionCall({ name: "delegate", namespace: "mcp__subagents", args: { agent: "reviewer", persona: reviewPersona, mcp_servers: ["subagents"], task: REVIEW_TASK }, callId: "call_top" })];
        }
        return [assistantMessage(`The reviewer said: ${outputs.map((o) => o.output).join(" | ")}`)];
      case "review":
        if (outputs.length === 0) {
          return [functionCall({ name: "delegate", namespace: "mcp__subagents", args: { agent: "explain", task: NESTED_TASK }, callId: "call_nested" })];
        }
        return [assistantMessage(`${MARKER} nested-result<<${outputs.map((o) => o.output).join(" | ")}>>`)];
      case "explain":
        return [assistantMessage("NESTED-EXPLAIN-RAN")];
    }
  });
  const workDir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-fullpath-work-")));
  const home = await makeCodexHome({ baseUrl: mock.baseUrl, extraConfig: "" });
  // The entry needs the home's own path for the runs directory, so it is appended after the home exists.
  const entry = subagentsServerEntry({ root: workDir, runsDir: path.join(home.dir, "runs"), envVars, extraArgs: ["--allow-mcp", "subagents"] });
  await appendCodexConfig(home.dir, entry);
  const run = await runCodex({
    args: ["exec", "--json", "--skip-git-repo-check", "-C", workDir, "-"],
    env: home.env,
    cwd: workDir,
    stdin: TOP_TASK,
    hangGuardMs: 100_000,
  });
  return {
    mock,
    home,
    workDir,
    run,
    byLevel: (level) => mock.responseRequests().filter((r) => levelOf(r) === level),
    cleanup: async () => {
      await mock.close();
      await home.cleanup();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

function agentMessages(run: CodexRun): string[] {
  return run.events.filter((e) => e.type === "item.completed" && e.item?.type === "agent_message").map((e) => e.item.text);
}

function mcpCalls(run: CodexRun): any[] {
  return run.events.filter((e) => e.type === "item.completed" && e.item?.type === "mcp_tool_call").map((e) => e.item);
}

/** The JSON result the server returned, as the top-level model saw it in its function_call_output. */
function delegateResultSeenByTop(s: Scenario): any {
  const second = s.byLevel("top").find((r) => functionCallOutputs(r.body).length > 0);
  expect(second).toBeDefined();
  const output = functionCallOutputs(second!.body)[0]!;
  expect(output.callId).toBe("call_top");
  return output.output;
}

beforeAll(async () => {
  reviewPersona = await starterPersonaFirstLine("review");
  explainPersona = await starterPersonaFirstLine("explain");
  expect(reviewPersona.length).toBeGreaterThan(20);
  expect(explainPersona.length).toBeGreaterThan(20);
});

describe("top-level codex → codex-subagents → sub-agent codex → back", () => {
  const scenario = suiteValue(() => runScenario(["CODEX_HOME", "CODEX_SUBAGENTS_DEPTH"]), (s) => s.cleanup());

  test("the top-level codex offers delegate to its model and calls it", () => {
    const s = scenario();
    expect(s.run.exitCode).toBe(0);
    const first = s.byLevel("top")[0]!;
    expect(toolNames(first.body)).toEqual(expect.arrayContaining(["mcp__subagents/delegate", "mcp__subagents/list_agents", "mcp__subagents/validate_agents"]));
    const calls = mcpCalls(s.run);
    expect(calls.map((c) => `${c.server}/${c.tool}`)).toEqual(["subagents/delegate"]);
    expect(calls[0].status).toBe("completed");
  });

  test("the sub-agent request carries the review persona and the task", () => {
    const s = scenario();
    const review = s.byLevel("review");
    expect(review.length).toBeGreaterThanOrEqual(1);
    expect(developerMessages(review[0]!.body).join("\n")).toContain(reviewPersona);
    expect(userMessages(review[0]!.body).at(-1)).toBe(REVIEW_TASK);
    // The top-level request carries no persona: the two are told apart by developer message content.
    expect(developerMessages(s.byLevel("top")[0]!.body).join("\n")).not.toContain(reviewPersona);
  });

  test("the marker flows back: sub-agent → tool result → top-level model → codex exec --json output", () => {
    const s = scenario();
    const seen = delegateResultSeenByTop(s);
    expect(seen).toContain(MARKER);
    const finals = agentMessages(s.run);
    expect(finals).toHaveLength(1);
    expect(finals[0]).toStartWith("The reviewer said: ");
    expect(finals[0]).toContain(MARKER);
  });

  test("with env_vars naming CODEX_SUBAGENTS_DEPTH, the sub-agent's own server refuses to nest past --max-depth 1", () => {
    const s = scenario();
    // The review sub-agent's codex read the same config.toml, and it was granted that server, so it started its own
    // codex-subagents server; nothing else of the config (the top-level codex sees no other server here).
    const review = s.byLevel("review");
    expect(toolNames(review[0]!.body)).toContain("mcp__subagents/delegate");
    const seen: string = delegateResultSeenByTop(s);
    expect(JSON.parse(seen.slice(seen.indexOf("Output:") + "Output:".length)).capabilities.mcp_servers).toEqual({ subagents: "all" });
    const nested = review.find((r) => functionCallOutputs(r.body).length > 0);
    expect(nested).toBeDefined();
    const refusal = functionCallOutputs(nested!.body)[0]!.output;
    expect(refusal).toContain("nesting limit reached");
    expect(refusal).toContain("depth 1");
    expect(s.byLevel("explain")).toHaveLength(0);
    // And that refusal travelled back to the top level too.
    expect(agentMessages(s.run)[0]).toContain("nesting limit reached");
  });
});

describe("nesting depth without env_vars = [\"CODEX_SUBAGENTS_DEPTH\"]", () => {
  const scenario = suiteValue(() => runScenario(["CODEX_HOME"]), (s) => s.cleanup());

  // Codex hands MCP servers only HOME, LANG, LC_*, LOGNAME, PATH, SHELL, TERM, TMPDIR, TZ, USER and a few
  // certificate variables (observed with codex 0.169), so CODEX_SUBAGENTS_DEPTH does not reach the nested server
  // through its own environment. On Linux the server finds it in its ancestors' environments (/proc/<pid>/environ
  // of the sub-agent's codex); elsewhere only env_vars carries it.
  test.if(process.platform === "linux")("Linux: the nested server still finds its depth (from the sub-agent codex's environment) and refuses", () => {
    const s = scenario();
    expect(s.run.exitCode).toBe(0);
    const nested = s.byLevel("review").find((r) => functionCallOutputs(r.body).length > 0);
    expect(nested).toBeDefined();
    const output = functionCallOutputs(nested!.body)[0]!.output;
    expect(output).toContain("nesting limit reached");
    expect(output).toContain("depth 1");
    expect(s.byLevel("explain")).toHaveLength(0);
    expect(agentMessages(s.run)[0]).toContain(MARKER);
  });

  test.if(process.platform !== "linux")("elsewhere: without env_vars the nested server starts at depth 0 and delegates again", () => {
    const s = scenario();
    expect(s.run.exitCode).toBe(0);
    const nested = s.byLevel("review").find((r) => functionCallOutputs(r.body).length > 0);
    expect(functionCallOutputs(nested!.body)[0]!.output).toContain("NESTED-EXPLAIN-RAN");
  });
});

describe("what environment codex gives an MCP server", () => {
  /** Starts codex with CODEX_SUBAGENTS_DEPTH=1 and a probe MCP server that records the environment it was given. */
  async function probeEnvironment(envVars: string[] | null): Promise<{ env: Record<string, string>; cwd: string; sessionDir: string }> {
    const mock = await startMockModel(() => [assistantMessage("done")]);
    const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-envprobe-")));
    const out = path.join(dir, "env.json");
    const script = path.join(dir, "probe.mjs");
    // Not an MCP server at all: it records its environment and exits, and codex skips it (required is false).
    await Bun.write(script, `import { writeFileSync } from "node:fs";\nwriteFileSync(process.argv[2], JSON.stringify({ env: process.env, cwd: process.cwd() }));\n`);
    const entry = mcpServerToml("probe", { command: bunBin, args: [script, out], settings: envVars ? { env_vars: envVars } : {} });
    const home = await makeCodexHome({ baseUrl: mock.baseUrl, extraConfig: entry });
    try {
      const run = await runCodex({
        args: ["exec", "--json", "--skip-git-repo-check", "-C", dir, "-"],
        // codex itself runs elsewhere: the probe shows the server starts in the session's directory (-C).
        cwd: os.tmpdir(),
        env: { ...home.env, CODEX_SUBAGENTS_DEPTH: "1", OPENAI_API_KEY: "sk-probe-not-a-key", SOME_CANARY: "x" },
        stdin: "hello",
      });
      expect(run.exitCode).toBe(0);
      return { ...JSON.parse(await readFile(out, "utf8")), sessionDir: dir };
    } finally {
      await mock.close();
      await home.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  }

  test("codex 0.169 starts it in the session directory and drops CODEX_SUBAGENTS_DEPTH, CODEX_HOME and OPENAI_API_KEY unless env_vars names them", async () => {
    const { env: plain, cwd, sessionDir } = await probeEnvironment(null);
    expect(cwd).toBe(sessionDir);
    expect(plain.HOME).toBeDefined();
    expect(plain.PATH).toBeDefined();
    expect(plain.CODEX_SUBAGENTS_DEPTH).toBeUndefined();
    expect(plain.CODEX_HOME).toBeUndefined();
    expect(plain.OPENAI_API_KEY).toBeUndefined();
    expect(plain.SOME_CANARY).toBeUndefined();

    const { env: forwarded } = await probeEnvironment(["CODEX_SUBAGENTS_DEPTH", "CODEX_HOME", "OPENAI_API_KEY"]);
    expect(forwarded.CODEX_SUBAGENTS_DEPTH).toBe("1");
    expect(forwarded.CODEX_HOME).toBeDefined();
    expect(forwarded.OPENAI_API_KEY).toBe("sk-probe-not-a-key");
    expect(forwarded.SOME_CANARY).toBeUndefined();
  });
});

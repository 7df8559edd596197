// Limits that cannot be walked around:
// - codex's own multi-agent tools (spawn_agent & co., and the `collaboration` set of multi_agent_v2) are never offered
//   to a sub-agent, so it cannot start agents outside --max-depth and --max-concurrency (real codex, mock request log);
// - resume continues only a thread this server started; another session's thread id is refused before codex runs;
// - a caller that says its sandbox (codex's x-codex-turn-metadata) caps the sub-agent's sandbox; metadata that is
//   garbage, or looser than the agent, never loosens it (real codex as the MCP client, and the SDK client for garbage);
// - approval_policy "untrusted", which codex refuses at every run, is flagged by validate and refused per call.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeCodexHome, runCodex, type CodexHome } from "../helpers/codex-home.ts";
import { assistantMessage, developerMessages, functionCall, functionCallOutputs, startMockModel, toolNames, type MockModel, type RecordedRequest } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";
import { appendCodexConfig } from "../helpers/toml.ts";
import { subagentsServerEntry } from "../helpers/e2e-subagents-entry.ts";
import { runCli } from "../doctor/run-cli.ts";
import { afterCase, countBadInput, fakeCall, makeScratch, newToken, reportFiles, reportTally, startServer, type AdversarialServer, type Scratch } from "./harness.ts";

/** Tools of codex's own sub-agents, in either generation. */
const NATIVE_AGENT_TOOL = /^(multi_agent_v1|collaboration)\/|(^|\/)(spawn_agent|wait_agent|send_input|close_agent|resume_agent|interrupt_agent)$/;

afterAll(() => reportTally(import.meta.file));

describe("codex's own multi-agent tools are never offered to a sub-agent (real codex)", () => {
  for (const config of ["default", "multi_agent_v2 switched on in config.toml"] as const) {
    describe(`with the ${config} codex config`, () => {
      let mock: MockModel;
      let home: CodexHome;
      let scratch: Scratch;
      let server: AdversarialServer;
      const PERSONA = `You are the spawner under test (${config}).`;

      beforeAll(async () => {
        // Asked to spawn: the sub-agent's first turn calls spawn_agent the way the native tool is called.
        mock = await startMockModel((req) => {
          if (functionCallOutputs(req.body).length === 0) {
            return [functionCall({ name: "spawn_agent", namespace: "multi_agent_v1", args: { message: "spawned-marker do it", agent_type: "default" }, callId: "call_spawn" })];
          }
          return [assistantMessage("spawner done")];
        });
        home = await makeCodexHome({ baseUrl: mock.baseUrl, extraConfig: config === "default" ? "" : "multi_agent_v2 = true" });
        scratch = await makeScratch();
        server = await startServer(scratch, { codex: codexBin, env: { CODEX_HOME: home.dir, HOME: path.dirname(home.dir) } });
      });

      afterAll(async () => {
        await server?.close();
        await mock?.close();
        await home?.cleanup();
        await scratch?.cleanup();
      });

      test("the request log of a first run and of a resumed run holds no native agent tool, and nothing was spawned", async () => {
        countBadInput(2);
        const first: any = await server.client.callTool({ name: "delegate", arguments: { agent: "spawner", persona: PERSONA, task: "spawn an agent with spawn_agent" } });
        expect(first.structuredContent.ok).toBe(true);
        const again: any = await server.client.callTool({ name: "delegate", arguments: { agent: "spawner", persona: PERSONA, task: "spawn again", resume: first.structuredContent.thread_id } });
        expect(again.structuredContent.ok).toBe(true);
        const requests = mock.responseRequests();
        // First run: the spawn call, then the answer; the resumed run answers at once (its thread holds the output).
        expect(requests.length).toBeGreaterThanOrEqual(3);
        for (const req of requests) {
          // Every request came from our sub-agent (a spawned agent would carry no persona) ...
          expect(developerMessages(req.body).join("\n")).toContain(PERSONA);
          // ... and offered the model no native agent tool (the test can fail: codex offers them unless told not to).
          expect(toolNames(req.body).filter((name) => NATIVE_AGENT_TOOL.test(name))).toEqual([]);
          expect(JSON.stringify(req.body.tools ?? [])).not.toContain("spawn_agent");
        }
        // The call the model made anyway did not start an agent: codex answered it as a tool it does not have.
        const answered = requests.flatMap((r) => functionCallOutputs(r.body)).filter((o) => o.callId === "call_spawn");
        expect(answered.length).toBeGreaterThan(0);
        await afterCase(server);
      }, 90_000);
    });
  }
});

describe("limits a caller cannot walk around (fake codex)", () => {
  let scratch: Scratch;
  let server: AdversarialServer;

  beforeAll(async () => {
    scratch = await makeScratch();
    server = await startServer(scratch);
  });

  afterAll(async () => {
    await server?.close();
    await scratch?.cleanup();
  });

  async function argvOfLastRun(): Promise<string[]> {
    const argvs = await reportFiles(scratch, "argv-");
    expect(argvs.length).toBe(1);
    return JSON.parse(argvs[0]!);
  }

  const sandboxOf = (argv: string[]) => argv[argv.indexOf("--sandbox") + 1];

  test("resume with another session's thread id is refused before codex runs, with the hint", async () => {
    countBadInput(2);
    for (const foreign of ["01a230e6-fa85-7431-a81e-78cf01a1b419", "0199A213-81C0-7800-8AA1-0000000000FF"]) {
      const token = newToken("foreign-resume");
      const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { resume: foreign }) });
      expect(result.isError).toBe(true);
      const text = result.content[0].text;
      expect(text).toContain(`resume "${foreign}" is not a thread this server started`);
      expect(text).toContain("codex-subagents runs");
      expect(await reportFiles(scratch, "argv-")).toEqual([]); // codex never started
      await afterCase(server, token);
    }
  });

  test("resume of a thread this server started still works", async () => {
    const token = newToken("own-resume");
    const first: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token) });
    const threadId = first.structuredContent.thread_id;
    expect(threadId).toMatch(/^[0-9a-f-]{36}$/);
    await afterCase(server, token);
    const again: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { resume: threadId }) });
    expect(again.structuredContent.ok).toBe(true);
    expect(await argvOfLastRun()).toEqual(expect.arrayContaining(["exec", "resume", threadId]));
    await afterCase(server, token);
  });

  /** A delegate call of an agent wanting `sandbox_mode`, from a caller whose x-codex-turn-metadata is `meta`. */
  function delegateWithCallerMeta(token: string, sandbox_mode: string, meta: unknown): Promise<any> {
    return server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { sandbox_mode }), _meta: { "x-codex-turn-metadata": meta } });
  }

  test("a read-only caller's metadata caps a workspace-write agent: codex gets --sandbox read-only, the notes say so", async () => {
    countBadInput(2);
    for (const meta of [{ sandbox_mode: "read-only", model: "m" }, JSON.stringify({ sandbox_mode: "read-only" })]) {
      const token = newToken("caller-sandbox");
      const result = await delegateWithCallerMeta(token, "workspace-write", meta);
      expect(result.structuredContent.ok).toBe(true);
      expect(sandboxOf(await argvOfLastRun())).toBe("read-only");
      expect(result.structuredContent.notes.join("\n")).toContain('sandbox lowered from "workspace-write" to "read-only"');
      await afterCase(server, token);
    }
  });

  test("garbage or looser metadata never loosens: the agent's own sandbox holds, no note", async () => {
    const garbage: unknown[] = [
      { sandbox_mode: "danger-full-access" },
      { sandbox_mode: "none" },
      { sandbox_mode: "READ-ONLY" },
      { sandbox_mode: ["read-only"] },
      { sandbox_mode: null },
      "{not json",
      JSON.stringify({ sandbox_mode: "danger-full-access" }),
      42,
      null,
      ["read-only"],
      "x".repeat(70_000),
    ];
    countBadInput(garbage.length);
    for (const meta of garbage) {
      const token = newToken("garbage-meta");
      const result = await delegateWithCallerMeta(token, "read-only", meta);
      expect(result.structuredContent.ok).toBe(true);
      expect(sandboxOf(await argvOfLastRun())).toBe("read-only");
      expect(result.structuredContent.notes.join("\n")).not.toContain("sandbox lowered");
      await afterCase(server, token);
    }
    // And a workspace-write agent under garbage keeps workspace-write (garbage does not tighten by accident either).
    const token = newToken("garbage-meta-ww");
    // In a mirror: in place in the server's working directory, a writer could plant ./agents (planted-agents.test.ts).
    await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { sandbox_mode: "workspace-write", isolation: "mirror" }), _meta: { "x-codex-turn-metadata": { sandbox_mode: "bogus" } } });
    expect(sandboxOf(await argvOfLastRun())).toBe("workspace-write");
    await afterCase(server, token);
  });

  test('approval_policy "untrusted": refused per call, flagged by validate_agents and by validate, with what to use instead', async () => {
    countBadInput(3);
    const token = newToken("untrusted");
    const call: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { approval_policy: "untrusted" }) });
    expect(call.isError).toBe(true);
    expect(call.content[0].text).toContain('approval_policy "untrusted" is refused by codex');
    expect(call.content[0].text).toContain('use "on-request"');
    expect(await reportFiles(scratch, "argv-")).toEqual([]);
    await afterCase(server, token);

    const agentsDir = path.join(scratch.root, "agents-untrusted");
    await mkdir(agentsDir);
    await writeFile(path.join(agentsDir, "careful.md"), "---\ndescription: asks for everything\napproval_policy: untrusted\n---\nBe careful.\n");
    const validated: any = await server.client.callTool({ name: "validate_agents", arguments: { dir: agentsDir } });
    const issue = validated.structuredContent.files[0].issues[0];
    expect(validated.structuredContent.ok).toBe(false);
    expect(issue).toMatchObject({ level: "error", code: "UNSUPPORTED_APPROVAL_POLICY", field: "approval_policy" });
    const cli = await runCli(["validate", agentsDir, "--json"], { cwd: scratch.root, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch.base } });
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout).files[0].issues[0].code).toBe("UNSUPPORTED_APPROVAL_POLICY");
    await afterCase(server);
  });
});

describe("a real codex caller's own sandbox caps its sub-agent (codex → codex-subagents → codex)", () => {
  let mock: MockModel;
  let home: CodexHome;
  let workDir: string;
  const PERSONA = "You are the writer sub-agent under the caller-sandbox test.";
  const isSubAgent = (req: RecordedRequest) => developerMessages(req.body).join("\n").includes(PERSONA);

  beforeAll(async () => {
    mock = await startMockModel((req) => {
      const outputs = functionCallOutputs(req.body);
      if (isSubAgent(req)) return [assistantMessage("writer done")];
      if (outputs.length === 0) {
        // In a mirror: in place in the server's working directory, a writer could plant ./agents (planted-agents.test.ts).
        return [functionCall({ name: "delegate", namespace: "mcp__subagents", args: { agent: "writer", persona: PERSONA, sandbox_mode: "workspace-write", isolation: "mirror", task: "write something" }, callId: "call_top" })];
      }
      return [assistantMessage(`top saw: ${outputs.map((o) => o.output).join(" | ")}`)];
    });
    workDir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-adv-caller-")));
    home = await makeCodexHome({ baseUrl: mock.baseUrl });
    await appendCodexConfig(home.dir, subagentsServerEntry({ root: workDir, runsDir: path.join(home.dir, "runs"), envVars: ["CODEX_HOME", "CODEX_SUBAGENTS_DEPTH"] }));
  });

  afterAll(async () => {
    await mock?.close();
    await home?.cleanup();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  for (const [callerSandbox, expected] of [["read-only", "read-only"], ["workspace-write", "workspace-write"]] as const) {
    test(`a ${callerSandbox} caller: the workspace-write sub-agent runs ${expected}`, async () => {
      countBadInput();
      const before = mock.requests.length;
      const run = await runCodex({ args: ["-s", callerSandbox, "exec", "--json", "--skip-git-repo-check", "-C", workDir, "-"], env: home.env, cwd: workDir, stdin: "delegate the writing", hangGuardMs: 100_000 });
      expect(run.exitCode).toBe(0);
      const requests = mock.responseRequests().filter((r) => r.index >= before);
      const sub = requests.filter(isSubAgent);
      expect(sub.length).toBeGreaterThanOrEqual(1);
      // Codex tells its model the sandbox it really runs in.
      expect(developerMessages(sub[0]!.body).join("\n")).toContain(`\`sandbox_mode\` is \`${expected}\``);
      const seenByTop = requests.filter((r) => !isSubAgent(r)).flatMap((r) => functionCallOutputs(r.body)).find((o) => o.callId === "call_top");
      expect(seenByTop).toBeDefined();
      if (expected === "read-only") expect(seenByTop!.output).toContain('sandbox lowered from \\"workspace-write\\" to \\"read-only\\"');
      else expect(seenByTop!.output).not.toContain("sandbox lowered");
    }, 120_000);
  }
});

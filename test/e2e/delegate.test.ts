/**
 * The proof that delegation works: the built server, driven through the official MCP client, runs the REAL codex
 * against a mock model on 127.0.0.1. Twice: a client of the 2025 handshake (`initialize`) and one that negotiates
 * (`auto`: it probes `server/discover` and takes the 2026-07-28 revision).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, realpath, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import type { ConnectedServer, ProtocolEra } from "../helpers/mcp-client.ts";
import { assistantMessage, developerMessages, startMockModel, userMessages, type MockModel } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";
import { starterPersonaFirstLine } from "../helpers/agents.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";

let mock: MockModel;
let home: CodexHome;
let workDir: string;
const servers = new Map<ProtocolEra, ConnectedServer>();
const ERAS: readonly ProtocolEra[] = ["legacy", "auto"];

beforeAll(async () => {
  mock = await startMockModel((req) => {
    const users = userMessages(req.body);
    const task = users[users.length - 1] ?? "";
    if (task.includes("structured")) return [assistantMessage(JSON.stringify({ verdict: "pass", findings: 0 }))];
    const turn = req.body.input.filter((i: any) => i.role === "assistant").length + 1;
    return [assistantMessage(`mock answer ${turn} to: ${task}`)];
  });
  home = await makeCodexHome({ baseUrl: mock.baseUrl });
  workDir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-e2e-work-")));
  await mkdir(path.join(workDir, "sub"));
  for (const era of ERAS) servers.set(era, await serveWithCodexHome(home, ["--root", workDir, "--codex", codexBin], workDir, {}, era));
});

afterAll(async () => {
  for (const server of servers.values()) await server.close();
  await closeServerWorld({ mock, home }, workDir);
});

function structured(result: any): any {
  expect(result.structuredContent).toBeDefined();
  return result.structuredContent;
}

describe.each(ERAS)("delegate with the real codex (%s client)", (era) => {
  const server = { get client() { return servers.get(era)!.client; } };

  test("the client speaks the revision it negotiated", () => {
    expect(server.client.getProtocolEra()).toBe(era === "auto" ? "modern" : "legacy");
  });

  test("review agent: final answer, thread id and usage come back; persona and task reach the model", async () => {
    const before = mock.requests.length;
    const result: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "Review the last commit please" } });
    const out = structured(result);
    expect(result.isError).toBeFalsy();
    expect(out.ok).toBe(true);
    expect(out.exit_code).toBe(0);
    expect(out.final_message).toBe("mock answer 1 to: Review the last commit please");
    expect(out.thread_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.usage).toEqual({ input_tokens: 10, cached_input_tokens: 0, output_tokens: 5, reasoning_output_tokens: 0 });
    expect(out.working_dir).toBe(workDir);
    expect(out.isolation).toBe("none");
    expect(out.timed_out).toBe(false);
    expect(JSON.parse(result.content[0].text).final_message).toBe(out.final_message);

    const request = mock.requests.slice(before).find((r) => r.path.endsWith("/responses"))!;
    const developer = developerMessages(request.body).join("\n");
    // The review persona from agents/review.md reaches the model as developer instructions, and its read-only
    // sandbox reached codex as a real flag (codex tells the model its sandbox).
    const personaFirstLine = await starterPersonaFirstLine("review");
    expect(personaFirstLine.length).toBeGreaterThan(20);
    expect(developer).toContain(personaFirstLine);
    expect(developer).toContain("`sandbox_mode` is `read-only`");
    expect(userMessages(request.body).at(-1)).toBe("Review the last commit please");
    expect(request.body.model).toBe("mock-model");
  });

  test("resume continues the same thread", async () => {
    const first: any = structured(await server.client.callTool({ name: "delegate", arguments: { agent: "explain", task: "first question" } }));
    const before = mock.requests.length;
    const second: any = structured(await server.client.callTool({ name: "delegate", arguments: { agent: "explain", task: "second question", resume: first.thread_id } }));
    expect(second.ok).toBe(true);
    expect(second.thread_id).toBe(first.thread_id);
    expect(second.final_message).toBe("mock answer 2 to: second question");
    const request = mock.requests.slice(before).find((r) => r.path.endsWith("/responses"))!;
    expect(userMessages(request.body)).toContain("first question");
    expect(second.usage.input_tokens).toBe(20);
  });

  test("a task that looks like a flag stays text", async () => {
    const out: any = structured(await server.client.callTool({ name: "delegate", arguments: { agent: "explain", task: "--help" } }));
    expect(out.ok).toBe(true);
    expect(out.final_message).toBe("mock answer 1 to: --help");
  });

  test("ad-hoc agent with its own persona, in a subdirectory", async () => {
    const before = mock.requests.length;
    const out: any = structured(await server.client.callTool({
      name: "delegate",
      arguments: { agent: "haiku", persona: "You answer only in haiku. MARKER-7731", task: "hello", cwd: path.join(workDir, "sub") },
    }));
    expect(out.ok).toBe(true);
    expect(out.working_dir).toBe(path.join(workDir, "sub"));
    const request = mock.requests.slice(before).find((r) => r.path.endsWith("/responses"))!;
    expect(developerMessages(request.body).join("\n")).toContain("MARKER-7731");
  });

  test("output_schema comes back parsed in structured", async () => {
    const schema = { type: "object", properties: { verdict: { type: "string" }, findings: { type: "integer" } }, required: ["verdict", "findings"], additionalProperties: false };
    const before = mock.requests.length;
    const out: any = structured(await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "structured please", output_schema: schema } }));
    expect(out.ok).toBe(true);
    expect(out.structured).toEqual({ verdict: "pass", findings: 0 });
    const request = mock.requests.slice(before).find((r) => r.path.endsWith("/responses"))!;
    expect(JSON.stringify(request.body.text ?? {})).toContain("verdict");
  });

  test("mirror isolation works in a filtered copy that is removed afterwards", async () => {
    await writeFile(path.join(workDir, ".env"), "SECRET=1\n");
    const out: any = structured(await server.client.callTool({ name: "delegate", arguments: { agent: "explain", task: "look around", mirror_repo: true } }));
    expect(out.ok).toBe(true);
    expect(out.isolation).toBe("mirror");
    expect(out.working_dir).not.toBe(workDir);
    expect(await Bun.file(out.working_dir).exists()).toBe(false);
  });
});

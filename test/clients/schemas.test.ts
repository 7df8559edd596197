/**
 * Every tool's schemas, as the built server lists them, fit what every client and model API takes: input schemas in
 * the JSON Schema subset of Gemini's and OpenAI's function calling, output schemas free of what the MCP Inspector's
 * `--strict` lint calls ambiguous. The tools come from tools/list, so a tool added later is linted without a change
 * here. The server's own check stays as strict as its zod schemas (unknown keys, bounds).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connectServer, type ConnectedServer } from "../helpers/mcp-client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { inputSchemaProblems, outputSchemaProblems } from "../helpers/schema-lint.ts";
import { serverCommand } from "../helpers/server-command.ts";

let scratch: string;
let server: ConnectedServer;
let tools: any[];

beforeAll(async () => {
  scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-schemas-")));
  server = await connectServer({ ...serverCommand(["--root", scratch]), env: { HOME: scratch }, cwd: scratch });
  tools = (await server.client.listTools()).tools;
});

afterAll(async () => {
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("tool schemas every client and model API accepts", () => {
  test("the server lists tools, each with an input schema", () => {
    expect(tools.length).toBeGreaterThanOrEqual(3);
    for (const tool of tools) expect(tool.inputSchema).toBeDefined();
  });

  test("every input schema is in the Gemini / OpenAI function-calling subset", () => {
    const problems = tools.flatMap((t) => inputSchemaProblems(t.inputSchema).map((p) => `${t.name}: ${p}`));
    expect(problems).toEqual([]);
  });

  test("every output schema is free of the ambiguities the Inspector lints", () => {
    const problems = tools.flatMap((t) => (t.outputSchema ? outputSchemaProblems(t.outputSchema).map((p) => `${t.name}: ${p}`) : []));
    expect(problems).toEqual([]);
  });

  test("the lint catches what it is for (on the schemas the SDK emits without our post-processing)", () => {
    expect(inputSchemaProblems({ $schema: "x", type: "object", properties: { a: { type: "integer", exclusiveMinimum: 0 }, b: { type: ["string", "null"] }, c: { type: "object", propertyNames: { type: "string" }, additionalProperties: {} } } })).toEqual([
      "inputSchema.$schema: not in the function-calling subset",
      "inputSchema.properties.a.exclusiveMinimum: not in the function-calling subset",
      'inputSchema.properties.b.type: must be one of object, array, string, number, integer, boolean, is ["string","null"]',
      "inputSchema.properties.c.propertyNames: not in the function-calling subset",
      "inputSchema.properties.c.additionalProperties: must be true or false",
    ]);
    expect(outputSchemaProblems({ type: "object", properties: { a: {}, b: { type: ["number", "null"] } } })).toEqual([
      "outputSchema.properties.a: constrains nothing (a bare {})",
      'outputSchema.properties.b.type: an array ["number","null"]; use anyOf',
    ]);
  });

  test("the MCP Inspector's own --strict lint reports nothing", () => {
    const { command, args } = serverCommand(["--root", scratch]);
    const run = spawnSync(path.join(repoRoot, "node_modules", ".bin", "mcp-inspector"), ["--cli", command, ...args, "--method", "tools/list", "--strict"], { cwd: scratch, encoding: "utf8", env: { PATH: process.env.PATH!, HOME: scratch }, timeout: 60_000 });
    expect(run.status).toBe(0);
    expect(run.stderr).not.toContain("Warning");
    expect(JSON.parse(run.stdout).tools.map((t: any) => t.name).sort()).toEqual(tools.map((t) => t.name).sort());
  });

  test("the server's own check is as strict as before: unknown keys and a timeout_s of 0 are refused", async () => {
    const unknown: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "x", colour: "blue" } });
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0].text).toContain("colour");
    const zero: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "x", timeout_s: 0 } });
    expect(zero.isError).toBe(true);
    expect(zero.content[0].text).toContain("timeout_s");
    const listUnknown: any = await server.client.callTool({ name: "list_agents", arguments: { verbose: true } });
    expect(listUnknown.isError).toBe(true);
  });
});

describe("tool texts that read well in every client", () => {
  test("the instructions name this server's tools, apart from a client's own ListAgents / Agent tools", () => {
    const instructions = server.client.getInstructions() ?? "";
    expect(instructions).toContain("this server's list_agents tool");
    expect(instructions).toContain("this server's delegate tool");
    expect(instructions).toContain("not a built-in ListAgents or Agent tool");
  });

  test("each description names the tool's purpose in its first words (clients that defer tools show only those)", () => {
    const firstWords = Object.fromEntries(tools.map((t) => [t.name, String(t.description).split(/\s+/).slice(0, 5).join(" ")]));
    expect(firstWords.list_agents).toBe("List the Codex sub-agents this");
    expect(firstWords.validate_agents).toBe("Validate this server's Codex sub-agent");
    expect(firstWords.delegate).toMatch(/^Delegate a self-contained task to/);
    for (const tool of tools) expect(String(tool.description).length).toBeGreaterThan(40);
  });
});

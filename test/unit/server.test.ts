/**
 * createServer in-process, through the SDK's in-memory transport: what a client sees of the tools (names, descriptions,
 * annotations) and how a failure reaches it. A refusal (a request the server will not run) is an isError text that
 * says what to do; only a broken invariant is "internal error".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { EMBEDDED_AGENTS } from "../../src/agents/embedded.ts";
import { loadRegistry, type Registry } from "../../src/agents/registry.ts";
import type { DelegateContext } from "../../src/delegate.ts";
import { Limiter } from "../../src/limiter.ts";
import { silentLogger } from "../../src/log.ts";
import { createRedactor } from "../../src/policy/redact.ts";
import { resolveRoots } from "../../src/policy/roots.ts";
import { RunManager } from "../../src/runs/manager.ts";
import { createServer } from "../../src/server.ts";

let dir: string;
let outside: string;
const shutdown = new AbortController();

beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-unit-server-")));
  outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-unit-server-outside-")));
});
afterAll(async () => {
  shutdown.abort();
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const starterAgents = () => loadRegistry({ dir: null, source: "embedded", foundBy: "test" }, EMBEDDED_AGENTS);

/** A client connected in-process to a server whose registry is `registry` (the embedded starter agents by default). */
async function connect(registry: () => Promise<Registry> = starterAgents): Promise<Client> {
  const context: DelegateContext = {
    registry,
    roots: await resolveRoots([dir], dir),
    codexPath: "/nonexistent/codex",
    workDir: path.join(dir, "work"),
    maxTimeoutS: 60,
    maxSandbox: "workspace-write",
    passEnv: [],
    depth: 0,
    maxDepth: 1,
    parentEnv: {},
    limiter: new Limiter(1),
    redact: createRedactor([]),
    log: silentLogger,
  };
  const runs = new RunManager({ context, shutdownSignal: shutdown.signal, runsDir: null });
  const agentsAtStart = registry().then((r) => r.agents(), () => []);
  const { server, ready } = createServer({ context, roots: context.roots, agentsAtStart, shutdownSignal: shutdown.signal, runs, maxWaitS: 30 });
  await ready;
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "in-process-test", version: "0" });
  await client.connect(clientSide);
  return client;
}

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

describe("tools as a client lists them", () => {
  test("five tools, each with a description and annotations; delegate names the agents it can run", async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["cancel_run", "delegate", "get_run", "list_agents", "validate_agents"]);
    for (const tool of tools) {
      expect(tool.description?.length ?? 0).toBeGreaterThan(20);
      expect(tool.annotations).toBeDefined();
      expect(typeof tool.annotations?.readOnlyHint).toBe("boolean");
    }
    const delegate = tools.find((t) => t.name === "delegate")!;
    expect(delegate.description).toContain("- review:");
    expect(delegate.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    await client.close();
  });
});

describe("how a failure reaches the client", () => {
  test("a cwd outside the roots is a refusal that names the roots, not an internal error", async () => {
    const client = await connect();
    const result: any = await client.callTool({ name: "delegate", arguments: { agent: "review", task: "look", cwd: outside } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("outside the allowed roots");
    expect(text(result)).not.toContain("internal error");
    await client.close();
  });

  test("an unknown agent with no persona is a refusal that lists the known agents", async () => {
    const client = await connect();
    const result: any = await client.callTool({ name: "delegate", arguments: { agent: "reviw", task: "look" } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("review");
    expect(text(result)).not.toContain("internal error");
    await client.close();
  });

  test("arguments the schema refuses are an isError text naming the field", async () => {
    const client = await connect();
    const result: any = await client.callTool({ name: "delegate", arguments: { agent: "review" } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("task");
    await client.close();
  });

  test("a broken invariant (a plain Error from inside) is an internal error, and the server keeps answering", async () => {
    let calls = 0;
    const client = await connect(async () => {
      calls += 1;
      if (calls > 1) throw new Error("registry exploded");
      return starterAgents();
    });
    const result: any = await client.callTool({ name: "delegate", arguments: { agent: "review", task: "look" } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("internal error: registry exploded");
    expect(text(result)).toContain("report this if it repeats");
    expect((await client.listTools()).tools).toHaveLength(5);
    await client.close();
  });
});

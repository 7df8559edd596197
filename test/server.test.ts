/**
 * createServer in-process, through the SDK's in-memory transport: what a client sees of the tools (names, descriptions,
 * annotations) and how a failure reaches it. A refusal (a request the server will not run) is an isError text that
 * says what to do; only a broken invariant is "internal error".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Client, InMemoryTransport } from "@modelcontextprotocol/client";
import type { Registry } from "../src/agents/registry.ts";
import { RunManager } from "../src/runs/manager.ts";
import { createServer } from "../src/server.ts";
import { starterRegistry, testContext } from "./helpers/delegate-context.ts";

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

/** A client connected in-process to a server whose registry is `registry` (the embedded starter agents by default). */
async function connect(registry: () => Promise<Registry> = starterRegistry): Promise<Client> {
  const context = await testContext(dir, { registry, workDir: path.join(dir, "work") });
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
  /** Call delegate and expect a refusal: an isError text with `fragment` in it, never "internal error". */
  async function expectRefusal(args: Record<string, unknown>, fragment: string): Promise<void> {
    const client = await connect();
    const result: any = await client.callTool({ name: "delegate", arguments: args });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain(fragment);
    expect(text(result)).not.toContain("internal error");
    await client.close();
  }

  test("a cwd outside the roots is a refusal that names the roots, not an internal error", async () => {
    await expectRefusal({ agent: "review", task: "look", cwd: outside }, "outside the allowed roots");
  });

  test("an unknown agent with no persona is a refusal that lists the known agents", async () => {
    await expectRefusal({ agent: "reviw", task: "look" }, "review");
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
      return starterRegistry();
    });
    const result: any = await client.callTool({ name: "delegate", arguments: { agent: "review", task: "look" } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("internal error: registry exploded");
    expect(text(result)).toContain("report this if it repeats");
    expect((await client.listTools()).tools).toHaveLength(5);
    await client.close();
  });
});

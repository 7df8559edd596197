/**
 * The same program under every runtime it promises: the TypeScript source under `bun` and under
 * `deno run` (Deno 2.9 runs src/cli.ts directly, text imports of the starter agents included), and the one-file
 * bundle `codex-subagents.mjs` (built once per run, see test/helpers/bundle.ts) under Node 20, Deno and Bun. Each
 * gets an MCP handshake, list_agents and one delegation to a fake codex through the official SDK client.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { bundledScript } from "../helpers/bundle.ts";
import { connectServer } from "../helpers/mcp-client.ts";
import { bunBin, denoBin, repoRoot } from "../helpers/paths.ts";
import { scratchWithDirs } from "../helpers/e2e-scratch.ts";

const SLOW_CODEX = path.join(repoRoot, "test", "fixtures", "slow-codex", "slow-codex.mjs");
const SOURCE = path.join(repoRoot, "src", "cli.ts");

let scratch: string;
let work: string;
let tmp: string;
let bundle: string;

beforeAll(async () => {
  [scratch, work, tmp] = await scratchWithDirs("cs-runtimes-", "work", "tmp");
  bundle = bundledScript();
  expect(existsSync(bundle)).toBe(true);
}, 120_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Deno's permissions for serving: read agent files, spawn codex, write only its own temporary dirs and run records. */
function denoArgs(script: string): string[] {
  return ["run", "--quiet", "--node-modules-dir=manual", "--allow-env", "--allow-read", "--allow-run", `--allow-write=${scratch}`, script];
}

const RUNTIMES: Array<{ name: string; command: () => string; args: () => string[] }> = [
  { name: "bun, TypeScript source", command: () => bunBin, args: () => [SOURCE] },
  { name: "deno run, TypeScript source", command: () => denoBin, args: () => denoArgs(SOURCE) },
  { name: "node 20, bundled .mjs", command: () => "node", args: () => [bundle] },
  { name: "deno run, bundled .mjs", command: () => denoBin, args: () => denoArgs(bundle) },
  { name: "bun, bundled .mjs", command: () => bunBin, args: () => [bundle] },
];

test("node is version 20 or later (the bundle's floor)", () => {
  const run = spawnSync("node", ["--version"], { encoding: "utf8" });
  expect(run.status).toBe(0);
  expect(Number(/^v(\d+)/.exec(run.stdout)?.[1])).toBeGreaterThanOrEqual(20);
});

describe.each(RUNTIMES)("$name", ({ command, args }) => {
  test("MCP handshake, list_agents and one delegation", async () => {
    const server = await connectServer({
      command: command(),
      args: [...args(), "serve", "--root", work, "--codex", SLOW_CODEX, "--runs-dir", path.join(scratch, "runs")],
      env: {
        HOME: scratch,
        TMPDIR: tmp,
        CODEX_HOME: path.join(scratch, "codex-home"),
        DENO_DIR: path.join(scratch, "deno-cache"),
        DENO_NO_UPDATE_CHECK: "1",
      },
      cwd: work,
    });
    try {
      const { version } = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8"));
      expect(server.client.getServerVersion()).toMatchObject({ name: "codex-subagents", version });
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["cancel_run", "delegate", "get_run", "list_agents", "validate_agents"]);

      const listed: any = await server.client.callTool({ name: "list_agents", arguments: {} });
      expect(listed.isError).toBeFalsy();
      // No agents directory near the work dir or the program: the embedded starters, read from the text imports.
      expect(listed.structuredContent.source).toBe("embedded");
      const names = listed.structuredContent.agents.map((a: any) => a.name);
      expect(names).toEqual(expect.arrayContaining(["review", "debugger", "security", "test", "docs"]));
      expect(listed.structuredContent.agents.every((a: any) => a.ok)).toBe(true);

      const delegated: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "hello total_ms=0" } });
      expect(delegated.isError).toBeFalsy();
      expect(delegated.structuredContent).toMatchObject({ ok: true, exit_code: 0, final_message: "slow codex finished: hello total_ms=0", working_dir: work });
    } catch (error) {
      throw new Error(`${String(error)}\nserver stderr:\n${server.stderr()}`);
    } finally {
      await server.close();
    }
  }, 60_000);
});

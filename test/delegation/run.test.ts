/** delegate() in-process, for paths the MCP-level tests cannot time precisely. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DelegateContext } from "../../src/delegation/context.ts";
import { DelegateError } from "../../src/delegation/plan.ts";
import { delegate } from "../../src/delegation/run.ts";
import { noAgents, testContext } from "../helpers/delegate-context.ts";

let repo: string;

beforeAll(async () => {
  repo = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-unit-delegate-")));
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
  await writeFile(path.join(repo, "a.txt"), "a\n");
  for (const args of [["init", "-q"], ["add", "."], ["commit", "-qm", "init"]]) spawnSync("git", args, { cwd: repo, env });
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
  await rm(`${repo}-work`, { recursive: true, force: true });
});

async function context(): Promise<DelegateContext> {
  // No starter agents: every call here is an ad-hoc agent. The work dir sits beside the repository, not in ~/.codex.
  return testContext(repo, { registry: noAgents });
}

describe("delegate()", () => {
  test("a cancel while the worktree is being prepared is a cancellation, and leaves no worktree", async () => {
    const ctx = await context();
    const controller = new AbortController();
    const error = await delegate(
      { agent: "adhoc", persona: "p", task: "t", isolation: "worktree" },
      ctx,
      { signal: controller.signal, onProgress: (m) => m.startsWith("preparing") && controller.abort() },
    ).then(() => null, (e) => e);
    expect(error).toBeInstanceOf(DelegateError);
    expect(error.message).toContain("cancelled before codex started");
    expect(ctx.limiter.active).toBe(0);
    const worktrees = spawnSync("git", ["worktree", "list"], { cwd: repo, encoding: "utf8" }).stdout.trim().split("\n");
    expect(worktrees).toHaveLength(1);
  });

  test("codex missing: refused before anything runs (its MCP servers cannot be listed), saying what to do", async () => {
    const error = await delegate({ agent: "adhoc", persona: "p", task: "t" }, await context()).then(() => null, (e) => e);
    expect(error).toBeInstanceOf(DelegateError);
    expect(error.message).toContain("could not learn which MCP servers codex would start");
    expect(error.hint).toContain("pass --codex PATH");
  });
  test("a sub-agent that writes one Latin-1 file: the re-encoding note reaches the result", async () => {
    const fakeCodex = path.join(import.meta.dir, "..", "fixtures", "fake-codex", "fake-codex.mjs");
    const latin1 = Buffer.from("caf\xe9\n", "latin1").toString("base64");
    const script = { plant: [{ path: "latin1.txt", base64: latin1 }] };
    const ctx = { ...(await context()), codexPath: fakeCodex };
    const result = await delegate({ agent: "adhoc", persona: `FAKE-CODEX ${JSON.stringify(script)}`, task: "t", isolation: "worktree" }, ctx);
    expect(result.ok).toBe(true);
    expect(result.patch).toContain("b/latin1.txt");
    expect(result.notes.join("\n")).toContain("not UTF-8");
  });
});

// A client's discovery probe may start a second copy of the server and end it at once (Claude Code does, and so does
// the SDK's own stdio client in "auto" mode). Start-up has no side effects until a tool call needs them: a copy that
// only answered `server/discover` has written nothing (no run record, work directory, spare worktree, lock or ledger)
// whether it was killed or told to go, and the copy that stays serves normally.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { connectServer } from "../helpers/mcp-client.ts";
import { serverCommand } from "../helpers/server-command.ts";
import {
  countBadInput, expectNoSurvivors, fakeCall, newToken, recordedResults, reportTally, serverArgs, serverEnv,
  startRawServer, withFreshScratch, type Scratch, type StartOptions,
} from "./harness.ts";

afterAll(() => reportTally(import.meta.file));

/** Each case on a scratch area of its own, the servers' HOME inside it, so nothing they could write escapes the snapshot. */
function onFreshScratch(body: (scratch: Scratch, opts: StartOptions) => Promise<void>): Promise<void> {
  return withFreshScratch(async (scratch) => {
    const home = path.join(scratch.base, "home");
    mkdirSync(home);
    await body(scratch, { env: { HOME: home } });
  });
}

/** Every entry below `dir` with its type, size and modification time: any write, even one undone, changes it. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const walk = async (at: string) => {
    const info = await lstat(at);
    seen.set(path.relative(dir, at) || ".", `${info.isDirectory() ? "dir" : info.isFile() ? "file" : "other"} ${info.size} ${info.mtimeMs}`);
    if (info.isDirectory()) for (const entry of await readdir(at)) await walk(path.join(at, entry));
  };
  await walk(dir);
  return seen;
}

/** What differs between two snapshots, as "path: before → after". */
function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  return paths.filter((p) => before.get(p) !== after.get(p)).map((p) => `${p}: ${before.get(p) ?? "(none)"} → ${after.get(p) ?? "(none)"}`);
}

describe("a copy that only answered server/discover", () => {
  test("two copies at once, one killed right after server/discover: nothing was written, and the other serves", () => onFreshScratch(async (scratch, opts) => {
    countBadInput();
    const before = await snapshot(scratch.base);
    const stays = startRawServer(scratch, opts);
    const probe = startRawServer(scratch, opts);
    try {
      const [kept, probed] = await Promise.all([stays.discover(), probe.discover()]);
      expect(probed).toEqual(kept);
      await probe.kill();
      // Both copies have started and answered; neither has written anything anywhere.
      expect(changes(before, await snapshot(scratch.base))).toEqual([]);

      // The copy that stays lists tools and agents (still nothing written), then runs a delegation.
      stays.sendModern(1, "tools/list");
      expect((await stays.response(1)).result.tools).toHaveLength(5);
      stays.sendModern(2, "tools/call", { name: "list_agents", arguments: {} });
      expect((await stays.response(2)).result.structuredContent.agents.length).toBeGreaterThan(0);
      expect(changes(before, await snapshot(scratch.base))).toEqual([]);
      const token = newToken("probe-stays");
      stays.sendModern(3, "tools/call", { name: "delegate", arguments: fakeCall(scratch, token) });
      const result = (await stays.response(3, 60_000)).result;
      expect(result.structuredContent).toMatchObject({ ok: true, final_message: "fake done" });
      expect(await recordedResults(scratch)).toHaveLength(1);
      stays.child.stdin.end();
      expect(await stays.exited).toEqual({ code: 0, signal: null });
      await expectNoSurvivors(scratch, token);
    } finally {
      await probe.kill();
      await stays.kill();
    }
  }), 90_000);

  test("a copy told to go right after server/discover (stdin closed) exits 0, quietly, having written nothing", () => onFreshScratch(async (scratch, opts) => {
    countBadInput();
    const before = await snapshot(scratch.base);
    const probe = startRawServer(scratch, opts);
    try {
      await probe.discover();
      probe.child.stdin.end();
      expect(await probe.exited).toEqual({ code: 0, signal: null });
      expect(probe.stderr()).not.toMatch(/\n\s+at |unexpected error|Unhandled|error:/);
      expect(changes(before, await snapshot(scratch.base))).toEqual([]);
    } finally {
      await probe.kill();
    }
  }), 30_000);

  test("the SDK client in auto mode probes in a second copy, then speaks 2026-07-28 to the first; the probe leaves nothing", () => onFreshScratch(async (scratch, opts) => {
    const before = await snapshot(scratch.base);
    const server = await connectServer({ ...serverCommand(serverArgs(scratch, opts)), env: serverEnv(scratch, opts.env), cwd: scratch.root, protocol: "auto" });
    try {
      expect(server.client.getProtocolEra()).toBe("modern");
      expect((await server.client.listTools()).tools).toHaveLength(5);
      expect(changes(before, await snapshot(scratch.base))).toEqual([]);
    } finally {
      await server.close();
    }
    // The session ended without a tool call that writes: still nothing.
    expect(changes(before, await snapshot(scratch.base))).toEqual([]);
  }), 30_000);
});

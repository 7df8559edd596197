// No orphans when the server itself goes: the client closing stdin, SIGTERM, SIGINT, or a write to a closed stdout
// (EPIPE) make the server end every running codex with all it started, remove its temporary directories, and exit
// promptly and quietly.
import { describe, expect, test } from "bun:test";
import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import {
  countBadInput, expectNoSurvivors, expectNoTempDirs, fakePersona, isAlive, newToken, startRawServer, tally,
  useScratch, waitFor, type RawServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);

/** A raw server with two delegations running (mirror and none), each a SIGTERM-ignoring codex with grandchildren. */
async function serverWithRunningChildren(token: string): Promise<{ raw: RawServer; pids: number[] }> {
  await rm(scratch.report, { recursive: true, force: true });
  await mkdir(scratch.report);
  const raw = startRawServer(scratch);
  await raw.initialize();
  for (const [id, isolation] of [[1, "mirror"], [2, "none"]] as const) {
    raw.send({
      jsonrpc: "2.0", id, method: "tools/call",
      params: {
        name: "delegate",
        arguments: { agent: "fake", task: "t", isolation, persona: fakePersona({ token, report: scratch.report, ignoreTerm: true, grandchildren: 2, sleepMs: 120_000 }) },
        _meta: { progressToken: `p${id}` },
      },
    });
  }
  const pidsDir = path.join(scratch.report, "pids");
  const started = await waitFor(async () => (await readdir(pidsDir).catch(() => [])).length === 6, 20_000);
  if (!started) throw new Error(`the fake codex did not start; stderr:\n${raw.stderr()}`);
  const pids = (await readdir(pidsDir)).map(Number);
  expect(pids.every(isAlive)).toBe(true);
  return { raw, pids };
}

async function expectServerGoneCleanly(raw: RawServer, pids: number[], token: string): Promise<void> {
  const exit = await Promise.race([raw.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
  if (exit === null) {
    tally().crashes += 1;
    await raw.kill();
    throw new Error(`the server did not exit; stderr:\n${raw.stderr()}`);
  }
  expect(exit.signal).toBe(null);
  expect(exit.code).toBe(0);
  expect(pids.filter(isAlive)).toEqual([]);
  await expectNoSurvivors(scratch, token);
  await expectNoTempDirs(scratch);
  // Quietly: no stack trace, no "unexpected error".
  expect(raw.stderr()).not.toMatch(/\n\s+at |unexpected error|Unhandled|EPIPE/);
  // Stdout carried only protocol frames.
  for (const line of raw.lines) expect(JSON.parse(line).jsonrpc).toBe("2.0");
}

describe("the server goes, its children go with it", () => {
  test("stdin EOF (the client went away): the server exits promptly and ends running codex and grandchildren", async () => {
    countBadInput();
    const token = newToken("eof");
    const { raw, pids } = await serverWithRunningChildren(token);
    raw.child.stdin.end();
    await expectServerGoneCleanly(raw, pids, token);
  }, 40_000);

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} to the server ends running codex and grandchildren, removes workspaces, exits 0`, async () => {
      countBadInput();
      const token = newToken(signal.toLowerCase());
      const { raw, pids } = await serverWithRunningChildren(token);
      raw.child.kill(signal);
      await expectServerGoneCleanly(raw, pids, token);
    }, 40_000);
  }

  test("EPIPE: stdout closed by the client ends the server quietly and kills its children", async () => {
    countBadInput();
    const token = newToken("epipe");
    const { raw, pids } = await serverWithRunningChildren(token);
    // Close the read end of the server's stdout; the next frame it writes (an answer to this ping) meets EPIPE.
    raw.child.stdout.destroy();
    raw.send({ jsonrpc: "2.0", id: 99, method: "ping" });
    await expectServerGoneCleanly(raw, pids, token);
  }, 40_000);
});

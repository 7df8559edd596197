// No orphans when the server itself goes: the client closing stdin, SIGTERM, SIGINT, or a write to a closed stdout
// (EPIPE) make the server end every running codex with all it started (foreground and background runs alike, each
// recorded as cancelled), remove its temporary directories, and exit promptly and quietly: code 0, no stack trace.
// Both protocol revisions: a client that opened with `initialize` (2025) and one that opened with `server/discover`
// (2026-07-28).
import { describe, expect, test } from "bun:test";
import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import {
  countBadInput, expectNoSurvivors, expectNoTempDirs, fakePersona, isAlive, newToken, recordedResults, startRawServer,
  tally, useScratch, waitFor, type RawServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);

type Era = "2025-11-25" | "2026-07-28";
const ERAS: readonly Era[] = ["2025-11-25", "2026-07-28"];

/** A request of the era the connection was opened with: the 2026-07-28 one carries the `_meta` envelope. */
function request(raw: RawServer, era: Era, id: number, method: string, params: Record<string, unknown>, meta: Record<string, unknown> = {}): void {
  if (era === "2026-07-28") raw.sendModern(id, method, params, meta);
  else raw.send({ jsonrpc: "2.0", id, method, params: { ...params, _meta: meta } });
}

/**
 * A raw server, opened in `era`, with three delegations running: two foreground (mirror and none) and one background,
 * each a SIGTERM-ignoring codex with grandchildren. Resolves with their pids and how many run records there were.
 */
async function serverWithRunningChildren(token: string, era: Era): Promise<{ raw: RawServer; pids: number[]; recordsBefore: number }> {
  await rm(scratch.report, { recursive: true, force: true });
  await mkdir(scratch.report);
  const recordsBefore = (await recordedResults(scratch)).length;
  const raw = startRawServer(scratch);
  if (era === "2026-07-28") await raw.discover();
  else await raw.initialize();
  const persona = fakePersona({ token, report: scratch.report, ignoreTerm: true, grandchildren: 2, sleepMs: 120_000 });
  for (const [id, isolation] of [[1, "mirror"], [2, "none"]] as const) {
    request(raw, era, id, "tools/call", { name: "delegate", arguments: { agent: "fake", task: "t", isolation, persona } }, { progressToken: `p${id}` });
  }
  request(raw, era, 3, "tools/call", { name: "delegate", arguments: { agent: "fake", task: "t", background: true, persona } });
  expect((await raw.response(3)).result.structuredContent.run_id).toBeString();
  const pidsDir = path.join(scratch.report, "pids");
  const started = await waitFor(async () => (await readdir(pidsDir).catch(() => [])).length === 9, 20_000);
  if (!started) throw new Error(`the fake codex did not start; stderr:\n${raw.stderr()}`);
  const pids = (await readdir(pidsDir)).map(Number);
  expect(pids.every(isAlive)).toBe(true);
  return { raw, pids, recordsBefore };
}

async function expectServerGoneCleanly(raw: RawServer, pids: number[], token: string, recordsBefore: number): Promise<void> {
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
  // The two foreground runs and the background one, each recorded as cancelled (docs/BACKGROUND.md).
  const records = (await recordedResults(scratch)).slice(recordsBefore);
  expect(records.map((r) => ({ cancelled: r.cancelled, ok: r.ok }))).toEqual(Array(3).fill({ cancelled: true, ok: false }));
  // Quietly: no stack trace, no "unexpected error".
  expect(raw.stderr()).not.toMatch(/\n\s+at |unexpected error|Unhandled|EPIPE/);
  // Stdout carried only protocol frames.
  for (const line of raw.lines) expect(JSON.parse(line).jsonrpc).toBe("2.0");
}

describe.each(ERAS)("the server goes, its children go with it (a client of %s)", (era) => {
  test("stdin EOF (the client went away): the server exits promptly and ends running codex and grandchildren", async () => {
    countBadInput();
    const token = newToken("eof");
    const { raw, pids, recordsBefore } = await serverWithRunningChildren(token, era);
    raw.child.stdin.end();
    await expectServerGoneCleanly(raw, pids, token, recordsBefore);
  }, 40_000);

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal} to the server ends running codex and grandchildren, removes workspaces, exits 0`, async () => {
      countBadInput();
      const token = newToken(signal.toLowerCase());
      const { raw, pids, recordsBefore } = await serverWithRunningChildren(token, era);
      raw.child.kill(signal);
      await expectServerGoneCleanly(raw, pids, token, recordsBefore);
    }, 40_000);
  }

  test("EPIPE: stdout closed by the client ends the server quietly and kills its children", async () => {
    countBadInput();
    const token = newToken("epipe");
    const { raw, pids, recordsBefore } = await serverWithRunningChildren(token, era);
    // Close the read end of the server's stdout; the next frame it writes (an answer to this call) meets EPIPE.
    raw.child.stdout.destroy();
    request(raw, era, 99, "tools/call", { name: "list_agents", arguments: {} });
    await expectServerGoneCleanly(raw, pids, token, recordsBefore);
  }, 40_000);
});

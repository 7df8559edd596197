// What the top of every real-client test file did alike, once: its client world and its client's model mock, started
// before the file's tests and closed after them; and the checks that several clients' tests make in the same words.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import { HEARTBEAT_MS } from "../../src/tools/delegate.ts";
import {
  expectProgressDuring,
  expectTappedCalls,
  makeClientWorld,
  newCutWatch,
  OPENAI_KEY,
  processesOf,
  readTap,
  runResults,
  sleepTask,
  SUBAGENT_MARKER,
  takeCutEvidence,
  type ClientRun,
  type ClientWorld,
  type CutWatch,
} from "./client-world.ts";
import type { Responder } from "./mock-model.ts";
import { repoRoot } from "./paths.ts";

/** A pinned client's executable in node_modules/.bin. */
export function clientBin(name: string): string {
  return path.join(repoRoot, "node_modules", ".bin", name);
}

export interface ClientSuite<M> {
  /**
   * This file's world and model mock. They are filled in by the suite's beforeAll (the same objects, so a test file
   * can name them once at its top, as it named its `let world` before); before that they are empty.
   */
  world: ClientWorld;
  model: M;
  /** Watched by expectClientCutsCall; the model mock takes the cut-call proof before its final answer. */
  cut: CutWatch;
}

/**
 * Registers this test file's beforeAll (the world, then the model mock `startModel` starts, handed the world and what
 * to await before its final answer) and afterAll (closes the mock, then the world). `topLevel` is makeClientWorld's.
 */
export function clientSuite<M extends { close(): Promise<void> } = never>(
  prefix: string,
  opts: { startModel?: (world: ClientWorld, beforeFinal: () => Promise<void>) => Promise<M>; topLevel?: Responder } = {},
): ClientSuite<M> {
  const suite: ClientSuite<M> = { world: {} as ClientWorld, model: {} as M, cut: newCutWatch() };
  const started: { world?: ClientWorld; model?: M } = {};
  beforeAll(async () => {
    started.world = Object.assign(suite.world, await makeClientWorld(prefix, { topLevel: opts.topLevel }));
    if (opts.startModel) started.model = Object.assign(suite.model, await opts.startModel(suite.world, () => takeCutEvidence(suite.world, suite.cut)));
  }, 60_000);
  afterAll(async () => {
    await started.model?.close();
    await started.world?.close();
  });
  return suite;
}

/**
 * After a delegate to review that answered: OPENAI_API_KEY and CODEX_HOME reached the sub-agent's codex (it used this
 * CODEX_HOME's provider, with the key), the last run record says it ended well, and no process of this world is left.
 */
export async function expectReviewRanWithKey(world: ClientWorld): Promise<void> {
  expect(world.codexMock.responseRequests().at(-1)!.headers?.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  expect((await runResults(world.runsDir)).at(-1)).toMatchObject({ ok: true, agent: "review", cancelled: false });
  expect(await processesOf(world.codexHome.dir)).toEqual([]);
}

/** A task the sub-agent takes longer than one heartbeat over (src/tools/delegate.ts HEARTBEAT_MS) to answer. */
export const LONG_TASK = sleepTask(HEARTBEAT_MS + 2000);

/**
 * The test the Claude Code, Gemini CLI and opencode files share: `delegateThrough(executable)` points the client at a
 * tapped server and has its model call list_agents, then delegate to review with LONG_TASK; the run must end well
 * with the agents and the sub-agent's answer in `output`. The tap must show how the client opened (`protocolVersion`
 * through `initialize`, or `server/discover` for 2026-07-28), a progress token on both calls, and on the long one a
 * heartbeat while it ran. `label` names the client's setting, when one chose the revision.
 */
export function tappedDelegateTest(world: ClientWorld, name: string, protocolVersion: string, delegateThrough: (executable: string) => Promise<{ run: ClientRun; output: string }>, label = ""): void {
  test(`what it sends (seen through a tap)${label ? ` with ${label}` : ""}: protocol ${protocolVersion}, a progress token on every call, progress on a long one`, async () => {
    const tapped = await world.tapped(name);
    const { run, output } = await delegateThrough(tapped.executable);
    expect(run.code).toBe(0);
    expect(output).toContain(SUBAGENT_MARKER);
    expect(output).toMatch(/"name": ?"review"/);
    const tap = await readTap(tapped.log);
    expectTappedCalls(tap, protocolVersion, 2);
    expectProgressDuring(tap, tap.calls.at(-1)!, HEARTBEAT_MS);
  }, 120_000);
}

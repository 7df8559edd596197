// What the top of every real-client test file did alike, once: its client world and its client's model mock, started
// before the file's tests and closed after them; and the checks that several clients' tests make in the same words.
import { afterAll, beforeAll, expect, test } from "bun:test";
import path from "node:path";
import {
  expectTappedCalls,
  makeClientWorld,
  newCutWatch,
  OPENAI_KEY,
  processesOf,
  readTap,
  runResults,
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

/**
 * The test the Claude Code, Gemini CLI and opencode files share: `delegateThrough(executable)` points the client at a
 * tapped server and runs its one delegate to review, which must end well with the sub-agent's answer in `output`; the
 * tap must show `protocolVersion` in initialize and a progress token on the call. Call it inside the file's describe.
 */
export function tappedDelegateTest(world: ClientWorld, name: string, protocolVersion: string, delegateThrough: (executable: string) => Promise<{ run: ClientRun; output: string }>): void {
  test(`what it sends (seen through a tap): protocol ${protocolVersion}, a progress token on every call`, async () => {
    const tapped = await world.tapped(name);
    const { run, output } = await delegateThrough(tapped.executable);
    expect(run.code).toBe(0);
    expect(output).toContain(SUBAGENT_MARKER);
    const tap = await readTap(tapped.log);
    expectTappedCalls(tap, protocolVersion, 1);
  }, 120_000);
}

// What every real-client test needs: a project directory, a throw-away HOME, the codex mock with its CODEX_HOME (the
// sub-agent's model), the guide's snippets, a way to run the client, and the proofs that a cut call left nothing
// behind (its run record, the processes still holding this world's CODEX_HOME).
import { expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { starterPersonaFirstLine } from "./agents.ts";
import { makeCodexHome, type CodexHome } from "./codex-home.ts";
import { markdownFences } from "./markdown.ts";
import { assistantMessage, developerMessages, startMockModel, userMessages, type MockModel, type Responder } from "./mock-model.ts";
import { codexBin, distBinary, repoRoot } from "./paths.ts";
import { runToEnd, type Finished } from "./run-to-end.ts";

export const EXECUTABLE_PLACEHOLDER = "/home/me/.local/bin/codex-subagents";
export const ROOT_PLACEHOLDER = "/home/me/src";
/** What the review sub-agent answers (only the codex mock knows it, so seeing it in a client's output is the proof). */
export const SUBAGENT_MARKER = "CLIENT-SUITE-SUBAGENT-ANSWER-7f3a";
/** A task containing this makes the sub-agent's model hang until the world closes: the call can only be cut. */
export const SLOW_TASK = "SLOW: take your time";
/** A task that makes the sub-agent's model answer after `ms` milliseconds (a run that is slow but ends). */
export function sleepTask(ms: number): string {
  return `SLEEP ${ms}ms, then answer`;
}
/** The OPENAI_API_KEY the client is started with; the codex mock sees it only if the guide passes it through. */
export const OPENAI_KEY = "sk-client-suite-not-a-real-key";

export interface Snippet {
  name: string;
  lang: string;
  text: string;
}

const INTEGRATION_GUIDE = path.join(repoRoot, "docs", "INTEGRATION.md");

function snippetsOf(markdown: string): Map<string, Snippet> {
  const found = new Map<string, Snippet>();
  for (const fence of markdownFences(INTEGRATION_GUIDE, markdown)) {
    if (fence.marker) found.set(fence.marker, { name: fence.marker, lang: fence.lang, text: fence.text });
  }
  return found;
}

/** Marked fenced blocks (`<!-- snippet: NAME -->` on the line before the fence) of docs/INTEGRATION.md. */
export async function integrationSnippets(): Promise<Map<string, Snippet>> {
  return snippetsOf(await readFile(INTEGRATION_GUIDE, "utf8"));
}

/** The text of the guide's snippet NAME; throws naming it when docs/INTEGRATION.md has none. */
export function integrationSnippet(name: string): string {
  const found = snippetsOf(readFileSync(INTEGRATION_GUIDE, "utf8")).get(name);
  if (!found) throw new Error(`docs/INTEGRATION.md has no snippet "${name}"`);
  return found.text;
}

/** Shell words of a one-command snippet: continuation lines joined, one level of double quotes removed. */
export function shellWords(text: string): string[] {
  return (text.replace(/\\\n/g, " ").trim().match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"(.*)"$/, "$1"));
}

export interface ClientWorld {
  scratch: string;
  /** The project the client works in, and the server's only root. */
  root: string;
  /** The client's HOME (its own configuration lives here). */
  home: string;
  codexHome: CodexHome;
  /** Where the server keeps run records: `$CODEX_HOME/subagents/runs`, so only if the client passed CODEX_HOME. */
  runsDir: string;
  codexMock: MockModel;
  /** The built executable (it serves when started without a command, as the guides start it). */
  server: string;
  /** The environment a user's shell would give the client: PATH (with codex), HOME, CODEX_HOME, OPENAI_API_KEY. */
  env: Record<string, string>;
  /** A snippet's text with the placeholders replaced: the root, and the executable by `executable` (default the built one). */
  realize(text: string, executable?: string): string;
  /**
   * An executable that runs the built server through test/fixtures/mcp-tap, logging every message to the returned
   * log file: to see what a client sends. Put in a snippet with realize(text, tapped.executable).
   */
  tapped(name: string): Promise<{ executable: string; log: string }>;
  close(): Promise<void>;
}

export async function makeClientWorld(prefix: string, opts: { topLevel?: Responder } = {}): Promise<ClientWorld> {
  const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), `cs-${prefix}-`)));
  const root = path.join(scratch, "src");
  const home = path.join(scratch, "home");
  await mkdir(root);
  await mkdir(home);
  const reviewPersona = await starterPersonaFirstLine("review");
  const release = new AbortController();
  const codexMock = await startMockModel(async (req) => {
    const isReview = developerMessages(req.body).join("\n").includes(reviewPersona);
    // With Codex as the client, the same mock also plays its top-level model (no starter persona in its request).
    if (!isReview && opts.topLevel) return opts.topLevel(req);
    if (userMessages(req.body).some((m) => m.includes(SLOW_TASK))) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 120_000);
        release.signal.addEventListener("abort", () => { clearTimeout(timer); resolve(undefined); });
      });
    }
    const sleep = userMessages(req.body).map((m) => /SLEEP (\d+)ms, then answer/.exec(m)?.[1]).find(Boolean);
    if (sleep) await new Promise((resolve) => setTimeout(resolve, Number(sleep)));
    const persona = isReview ? "review" : "other";
    return [assistantMessage(`${SUBAGENT_MARKER} from ${persona}`)];
  });
  const codexHome = await makeCodexHome({ baseUrl: codexMock.baseUrl, envKey: "OPENAI_API_KEY" });
  if (!existsSync(distBinary)) throw new Error(`${distBinary} is missing: run bun run build.ts first (the client tests start the built server)`);
  const server = distBinary;
  const env: Record<string, string> = {
    PATH: `${path.dirname(codexBin)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: home,
    CODEX_HOME: codexHome.dir,
    OPENAI_API_KEY: OPENAI_KEY,
    LANG: "C.UTF-8",
  };
  return {
    scratch,
    root,
    home,
    codexHome,
    runsDir: path.join(codexHome.dir, "subagents", "runs"),
    codexMock,
    server,
    env,
    realize: (text, executable = server) => text.replaceAll(ROOT_PLACEHOLDER, root).replaceAll(EXECUTABLE_PLACEHOLDER, executable),
    tapped: async (name) => {
      const executable = path.join(scratch, `${name}-tapped-server`);
      const log = path.join(scratch, `${name}-tap.jsonl`);
      const tap = path.join(repoRoot, "test", "fixtures", "mcp-tap", "mcp-tap.mjs");
      await writeFile(executable, `#!/bin/sh\nexec node ${JSON.stringify(tap)} ${JSON.stringify(log)} ${JSON.stringify(server)} "$@"\n`, { mode: 0o755 });
      return { executable, log };
    },
    close: async () => {
      release.abort();
      await codexMock.close();
      await codexHome.cleanup();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

export interface ClientRun extends Finished {
  durationMs: number;
}

/** Runs a client to its end (stdin closed), in its own process group so a hang is ended with everything it started. */
export async function runClient(command: string, args: string[], opts: { env: Record<string, string>; cwd: string; hangGuardMs?: number }): Promise<ClientRun> {
  const started = Date.now();
  const run = await runToEnd(command, args, { env: opts.env, cwd: opts.cwd, hangGuardMs: opts.hangGuardMs ?? 90_000 });
  return { ...run, durationMs: Date.now() - started };
}

/** Processes whose environment has `CODEX_HOME=dir`, i.e. this world's server and every codex it started. */
export async function processesOf(codexHomeDir: string): Promise<Array<{ pid: number; argv: string[]; env: string[] }>> {
  const found: Array<{ pid: number; argv: string[]; env: string[] }> = [];
  const needle = `CODEX_HOME=${codexHomeDir}`;
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const environ = await readFile(`/proc/${entry}/environ`, "utf8").catch(() => "");
    if (!environ.split("\0").includes(needle)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\0").filter(Boolean);
    if (argv.length === 0 && (await readlink(`/proc/${entry}/exe`).catch(() => null)) === null) continue; // a zombie
    found.push({ pid: Number(entry), argv, env: environ.split("\0") });
  }
  return found;
}

/**
 * The codex sub-agents among them: argv has `exec` (the server is `codex-subagents serve`), and the environment has
 * the CODEX_SUBAGENTS_DEPTH the server gives every codex it starts (a top-level `codex exec` client has none).
 */
export async function codexProcessesOf(codexHomeDir: string): Promise<Array<{ pid: number; argv: string[] }>> {
  return (await processesOf(codexHomeDir)).filter((p) => p.argv.includes("exec") && p.env.some((e) => e.startsWith("CODEX_SUBAGENTS_DEPTH=")));
}

/** Every run record's result.json under runsDir (records without one are runs that have not finished). */
export async function runResults(runsDir: string): Promise<any[]> {
  const results: any[] = [];
  for (const dir of (await readdir(runsDir).catch(() => [] as string[])).sort()) {
    const text = await readFile(path.join(runsDir, dir, "result.json"), "utf8").catch(() => null);
    if (text !== null) results.push(JSON.parse(text));
  }
  return results;
}

/** Polls until `check` returns a value (not undefined) or `timeoutMs` passes; then returns its last value. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What a model does after the client cut a call: wait (the client is still running) until the run's record says
 * `cancelled` and no codex of this world is left, and say so. Used inside a model mock's responder.
 */
export async function cutCallEvidence(world: ClientWorld): Promise<{ cancelledRecord: any; codexLeft: number; waitedMs: number }> {
  const started = Date.now();
  const record = await waitFor(async () => {
    const cancelled = (await runResults(world.runsDir)).find((r) => r.cancelled === true);
    if (!cancelled) return undefined;
    return (await codexProcessesOf(world.codexHome.dir)).length === 0 ? cancelled : undefined;
  }, 20_000);
  return { cancelledRecord: record, codexLeft: (await codexProcessesOf(world.codexHome.dir)).length, waitedMs: Date.now() - started };
}

/**
 * The proof that a call cut by the client's timeout ended its sub-agent: `evidence` (taken while the client still
 * ran, so not the server's shutdown) shows the run recorded as cancelled and no codex left; afterwards there is one
 * run record more than `recordsBefore` and no process of this world.
 */
export async function expectCutCallEnded(world: ClientWorld, evidence: CutEvidence | null, recordsBefore: number): Promise<void> {
  expect(evidence).not.toBeNull();
  expect(evidence!.cancelledRecord).toMatchObject({ cancelled: true, ok: false, agent: "review" });
  expect(evidence!.codexLeft).toBe(0);
  expect((await runResults(world.runsDir)).length).toBe(recordsBefore + 1);
  expect(await processesOf(world.codexHome.dir)).toEqual([]);
}

export type CutEvidence = Awaited<ReturnType<typeof cutCallEvidence>>;

/** Shared by a client test and its model mock: whether the mock's final answer waits for the cut-call proof, and the proof. */
export interface CutWatch {
  waiting: boolean;
  evidence: CutEvidence | null;
}

export function newCutWatch(): CutWatch {
  return { waiting: false, evidence: null };
}

/** In a model mock's responder, before its final answer: takes the proof while a cut call is watched. */
export async function takeCutEvidence(world: ClientWorld, watch: CutWatch): Promise<void> {
  if (watch.waiting) watch.evidence = await cutCallEvidence(world);
}

/**
 * Runs a client whose call it will cut itself (`runAndCheck` runs it and asserts on its output), with the mock told
 * to take the proof while the client still runs; then asserts the sub-agent ended (expectCutCallEnded).
 */
export async function expectClientCutsCall(world: ClientWorld, watch: CutWatch, runAndCheck: () => Promise<void>): Promise<void> {
  watch.waiting = true;
  watch.evidence = null;
  const before = (await runResults(world.runsDir)).length;
  try {
    await runAndCheck();
    await expectCutCallEnded(world, watch.evidence, before);
  } finally {
    watch.waiting = false;
  }
}

export interface TapLog {
  /**
   * How the client opened the connection: the protocol version of its `initialize` (2025 revisions), or the one in
   * the `_meta` envelope of its `server/discover` (2026-07-28). The first of either (a client that probes sends
   * `server/discover` first, maybe from a second copy of the server); null when neither was sent.
   */
  opening: { method: "initialize" | "server/discover"; protocolVersion: string } | null;
  /** The client's initialize params (protocolVersion, capabilities, clientInfo), or null when it sent none. */
  initialize: any;
  /** Every tools/call the client sent, with when it arrived and when the server answered it. */
  calls: Array<{ at: number; answeredAt: number | null; params: any }>;
  /** Every notification the client sent (e.g. notifications/cancelled). */
  notifications: Array<{ at: number; method: string; params: any }>;
  /** Every notifications/progress the server sent, with when. */
  progress: Array<{ at: number; params: any }>;
}

/** The protocol revision without `initialize`, and the `_meta` key that names it on every request. */
export const MODERN_REVISION = "2026-07-28";
const PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion";

/**
 * What a tap shows a client sent: it opened with `protocolVersion` (through `initialize`, or for 2026-07-28 through
 * `server/discover` with every call carrying that version in its envelope), `callCount` tools/calls, a progress token
 * on each.
 */
export function expectTappedCalls(tap: TapLog, protocolVersion: string, callCount: number): void {
  expect(tap.opening).toEqual({ method: protocolVersion === MODERN_REVISION ? "server/discover" : "initialize", protocolVersion });
  expect(tap.calls.length).toBe(callCount);
  for (const call of tap.calls) {
    expect(call.params._meta?.progressToken).toBeDefined();
    if (protocolVersion === MODERN_REVISION) expect(call.params._meta?.[PROTOCOL_VERSION_META]).toBe(protocolVersion);
  }
}

/**
 * The server's progress on a long call reached the client: notifications/progress with the call's own token, sent
 * while it ran, one of them at least `silentMs` after it arrived (a heartbeat while codex said nothing).
 */
export function expectProgressDuring(tap: TapLog, call: TapLog["calls"][number], silentMs: number): void {
  const token = call.params._meta?.progressToken;
  expect(token).toBeDefined();
  const during = tap.progress.filter((p) => p.params.progressToken === token && p.at >= call.at && (call.answeredAt === null || p.at <= call.answeredAt));
  expect(during.map((p) => p.at - call.at).some((after) => after >= silentMs)).toBe(true);
}

/** Reads a mcp-tap log. */
export async function readTap(log: string): Promise<TapLog> {
  const lines = (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const fromClient = lines.filter((l) => l.from === "client").map((l) => ({ at: l.at as number, m: l.message }));
  const answers = new Map<unknown, number>();
  for (const l of lines) if (l.from === "server" && l.message?.id !== undefined && !l.message.method) answers.set(l.message.id, l.at);
  const first = fromClient.find((c) => c.m?.method === "initialize" || c.m?.method === "server/discover")?.m;
  return {
    opening: first === undefined ? null : first.method === "initialize"
      ? { method: "initialize", protocolVersion: first.params?.protocolVersion }
      : { method: "server/discover", protocolVersion: first.params?._meta?.[PROTOCOL_VERSION_META] },
    initialize: fromClient.find((c) => c.m?.method === "initialize")?.m.params ?? null,
    calls: fromClient.filter((c) => c.m?.method === "tools/call").map((c) => ({ at: c.at, answeredAt: answers.get(c.m.id) ?? null, params: c.m.params })),
    notifications: fromClient.filter((c) => c.m?.method && c.m.id === undefined).map((c) => ({ at: c.at, method: c.m.method, params: c.m.params })),
    progress: lines.filter((l) => l.from === "server" && l.message?.method === "notifications/progress").map((l) => ({ at: l.at as number, params: l.message.params })),
  };
}

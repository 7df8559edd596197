// Shared pieces of the adversarial suite: a scratch area per server (its own TMPDIR, root, report dir), the fake
// codex, the checks run after every case (server alive, no process of the run left, no temp dir left), and the tally
// printed when the suite ends.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect } from "bun:test";
import { connectServer, type ConnectedServer } from "../helpers/mcp-client.ts";
import { repoRoot } from "../helpers/paths.ts";
import { serverCommand } from "../helpers/server-command.ts";
import { LEDGER_FILE } from "../../src/runs/writer-ledger.ts";

export const FAKE_CODEX = path.join(repoRoot, "test", "fixtures", "fake-codex", "fake-codex.mjs");

// ---- tally ------------------------------------------------------------------------------------------------------

export interface Tally {
  badInputs: number;
  crashes: number;
  leakedProcesses: number;
  leftoverDirs: number;
  secretsSeen: number;
  filesDone: Set<string>;
}

/** Bun runs every test file in one process and one global scope, so the tally adds up across files. */
export function tally(): Tally {
  const g = globalThis as { __codexSubagentsAdversarialTally?: Tally };
  g.__codexSubagentsAdversarialTally ??= { badInputs: 0, crashes: 0, leakedProcesses: 0, leftoverDirs: 0, secretsSeen: 0, filesDone: new Set() };
  return g.__codexSubagentsAdversarialTally;
}

export function countBadInput(n = 1): void {
  tally().badInputs += n;
}

/**
 * Call from each file's afterAll. Prints the running tally; when the last adversarial file of the directory is done
 * (the whole suite, or the directory, was run), it says so.
 */
export function reportTally(file: string): void {
  const t = tally();
  t.filesDone.add(path.basename(file));
  const all = readdirSync(import.meta.dir).filter((f) => f.endsWith(".test.ts"));
  const complete = all.every((f) => t.filesDone.has(f));
  const line = `bad inputs tried: ${t.badInputs}, crashes: ${t.crashes}, leaked processes: ${t.leakedProcesses}, leftover directories: ${t.leftoverDirs}, secrets seen: ${t.secretsSeen}`;
  process.stderr.write(complete
    ? `\n== adversarial tally (all ${all.length} files): ${line}\n`
    : `\n-- adversarial tally so far (${t.filesDone.size}/${all.length} files): ${line}\n`);
}

// ---- scratch area and server ------------------------------------------------------------------------------------

export interface Scratch {
  base: string;
  /** The server's TMPDIR: it must make nothing there (runs live in its private work dir). Empty after every case. */
  tmp: string;
  /** The --root the server allows. */
  root: string;
  /** Where the fake codex writes what it saw. */
  report: string;
  /** CODEX_HOME for the server (its run records go below it). */
  codexHome: string;
  cleanup(): Promise<void>;
}

export async function makeScratch(): Promise<Scratch> {
  return makeScratchNow();
}

function makeScratchNow(): Scratch {
  const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), "cs-adv-")));
  const scratch: Scratch = {
    base,
    tmp: path.join(base, "tmp"),
    root: path.join(base, "repo"),
    report: path.join(base, "report"),
    codexHome: path.join(base, "codex-home"),
    cleanup: () => rm(base, { recursive: true, force: true }),
  };
  for (const dir of [scratch.tmp, scratch.root, scratch.report, scratch.codexHome]) mkdirSync(dir);
  return scratch;
}

/** Make `dir` a git repository with one commit of what it holds; a failing git step throws with its stderr. */
export function commitAll(dir: string): void {
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.invalid", GIT_CONFIG_NOSYSTEM: "1" };
  for (const args of [["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]]) {
    const r = spawnSync("git", args, { cwd: dir, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  }
}

/** The servers startServer started on each scratch area, so useScratch can close them. */
const serversOn = new WeakMap<Scratch, ConnectedServer[]>();

/**
 * The set-up every adversarial file shares: a scratch area made at once, and when the file's tests are done every
 * server startServer started on it closed, the area removed and the file's tally reported.
 */
export function useScratch(file: string): Scratch {
  const scratch = makeScratchNow();
  afterAll(async () => {
    for (const server of serversOn.get(scratch) ?? []) await server.close();
    await scratch.cleanup();
    reportTally(file);
  });
  return scratch;
}

export interface StartOptions {
  /** Extra server flags (after --root and --codex). */
  args?: string[];
  env?: Record<string, string>;
  /** Replace the default `--root <scratch.root>`. */
  roots?: string[];
  /** Replace the fake codex. */
  codex?: string;
}

export interface AdversarialServer extends ConnectedServer {
  scratch: Scratch;
}

export function serverEnv(scratch: Scratch, extra: Record<string, string> = {}): Record<string, string> {
  return { TMPDIR: scratch.tmp, CODEX_HOME: scratch.codexHome, CODEX_SUBAGENTS_LOG: "info", ...extra };
}

export function serverArgs(scratch: Scratch, opts: StartOptions = {}): string[] {
  const roots = opts.roots ?? [scratch.root];
  return [...roots.flatMap((r) => ["--root", r]), "--codex", opts.codex ?? FAKE_CODEX, ...(opts.args ?? [])];
}

/** Starts the server on a scratch area. If it cannot start, the scratch area is removed before the error is thrown. */
export async function startServer(scratch: Scratch, opts: StartOptions = {}): Promise<AdversarialServer> {
  try {
    const connected = await connectServer({
      ...serverCommand(serverArgs(scratch, opts)),
      env: serverEnv(scratch, opts.env),
      cwd: scratch.root,
    });
    serversOn.set(scratch, [...(serversOn.get(scratch) ?? []), connected]);
    return Object.assign(connected, { scratch });
  } catch (error) {
    await scratch.cleanup();
    throw error;
  }
}

export interface CaseOptions extends StartOptions {
  /** The case's token, for afterCase's check that no process carrying it survives. */
  token?: string;
}

/**
 * One case on a server of its own: starts it on `scratch`, runs `body`, then the checks after every case (only if
 * `body` passed); the server is closed whatever happened.
 */
export async function caseOnServer(scratch: Scratch, opts: CaseOptions, body: (server: AdversarialServer) => Promise<void>): Promise<void> {
  const { token, ...start } = opts;
  const server = await startServer(scratch, start);
  try {
    await body(server);
    await afterCase(server, token);
  } finally {
    await server.close();
  }
}

/** Runs `body` on a scratch area made for it alone, removed afterwards whatever happened. */
export async function withFreshScratch(body: (scratch: Scratch) => Promise<void>): Promise<void> {
  const fresh = makeScratchNow();
  try {
    await body(fresh);
  } finally {
    await fresh.cleanup();
  }
}

// ---- the fake codex ---------------------------------------------------------------------------------------------

export interface FakeScript {
  token?: string;
  report?: string;
  readStdin?: boolean;
  ignoreTerm?: boolean;
  grandchildren?: number;
  sleepMs?: number;
  stdoutBytes?: number;
  stdoutNoNewline?: boolean;
  stderrBytes?: number;
  malformed?: boolean;
  secrets?: string[];
  final?: string;
  exitCode?: number;
  crash?: boolean;
  stderrPad?: number;
  textPad?: number;
  writeFiles?: Record<string, string>;
  reportTree?: boolean;
  markCwd?: string;
  plantLastMessage?: "fifo" | { symlink: string };
  plantEvents?: { runsDir: string; kind: "fifo" | "symlink"; target?: string };
  /** What the fake writes in its working directory before it finishes (a hostile sub-agent's files). */
  plant?: PlantItem[];
}

/** One entry the fake codex plants: a file (text or base64), a directory, a symlink, a FIFO, or a removal. */
export interface PlantItem {
  path: string;
  text?: string;
  base64?: string;
  mode?: number;
  dir?: boolean;
  symlink?: string;
  fifo?: boolean;
  remove?: boolean;
  renameTo?: string;
  /** `path` as bytes, one Latin-1 byte a character: a name that is not UTF-8 (dir, fifo or text only). */
  latin1?: boolean;
}

let tokenCounter = 0;
export function newToken(label: string): string {
  tokenCounter += 1;
  return `advtok-${label}-${process.pid}-${tokenCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A persona that scripts the fake codex (it reads it back from `-c developer_instructions=…`). */
export function fakePersona(script: FakeScript): string {
  return `FAKE-CODEX ${JSON.stringify(script)}`;
}

/** delegate arguments for an ad-hoc agent run by the fake codex. */
export function fakeCall(scratch: Scratch, token: string, script: FakeScript = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { agent: "fake", task: "do the thing", persona: fakePersona({ token, report: scratch.report, ...script }), ...extra };
}

/** Files the fake wrote, by prefix: e.g. "stdin-" → contents of every stdin-<pid>.txt. */
export async function reportFiles(scratch: Scratch, prefix: string): Promise<string[]> {
  const names = (await readdir(scratch.report)).filter((n) => n.startsWith(prefix)).sort();
  return Promise.all(names.map((n) => readFile(path.join(scratch.report, n), "utf8")));
}

// ---- processes and directories ----------------------------------------------------------------------------------

function processState(pid: number): string | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return /^State:\s+(\S)/m.exec(status)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Live (not zombie) processes whose argv contains `token`. */
export function processesWith(token: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmdline.includes(token) && processState(pid) !== "Z") found.push(pid);
  }
  return found;
}

/** Processes the fake recorded (itself and its grandchildren) that are still alive. */
export function recordedSurvivors(scratch: Scratch): number[] {
  const dir = path.join(scratch.report, "pids");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map(Number).filter((pid) => {
    const state = processState(pid);
    if (state === null || state === "Z") return false;
    // A recycled pid is not ours: ours run the fake or carry the fake-grandchild marker.
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return cmdline.includes("fake-codex") || cmdline.includes("fake-grandchild");
    } catch {
      return false;
    }
  });
}

export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== "Z";
}

/** Waits for `condition` up to `limitMs`; returns whether it became true. A promised bound, not a speed test. */
export async function waitFor(condition: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Kill whatever a failed case left behind, so one failure does not poison the rest of the suite. */
function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Asserts nothing of the run survives (within the 5 s the docs promise); counts leaks in the tally. */
export async function expectNoSurvivors(scratch: Scratch, token?: string): Promise<void> {
  const survivors = () => [...new Set([...recordedSurvivors(scratch), ...(token ? processesWith(token) : [])])];
  await waitFor(() => survivors().length === 0, 5000);
  const left = survivors();
  if (left.length) {
    tally().leakedProcesses += left.length;
    killAll(left);
  }
  expect(left).toEqual([]);
}

/** The server's private work directory under the scratch CODEX_HOME (src/workspace/private-dir.ts). */
export function workDirOf(scratch: Scratch): string {
  return path.join(scratch.codexHome, "subagents", "work");
}

async function entriesOf(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/**
 * Asserts nothing was left behind: the server's TMPDIR is empty (it makes nothing there any more) and so is its private
 * work directory (no run dir, mirror or worktree), but for the server's spare worktrees (one per repository, never
 * touched by a sub-agent, kept in the work directory while the server runs; `expectNothingLeftAfterClose` checks that
 * they go at exit).
 */
export async function expectNoTempDirs(scratch: Scratch, options: { sparesAllowed?: number } = {}): Promise<void> {
  const sparesAllowed = options.sparesAllowed ?? 1;
  const isSpare = (entry: string) => path.dirname(entry) === workDirOf(scratch) && path.basename(entry).startsWith("codex-subagents-spare-");
  const leftovers = async () => {
    const all = [
      ...(await entriesOf(scratch.tmp)).map((e) => path.join(scratch.tmp, e)),
      // The in-place writers ledger is kept for good (src/runs/writer-ledger.ts); anything else is a leftover.
      ...(await entriesOf(workDirOf(scratch))).filter((e) => e !== LEDGER_FILE).map((e) => path.join(workDirOf(scratch), e)),
    ];
    const spares = all.filter(isSpare);
    return [...all.filter((e) => !isSpare(e)), ...(spares.length > sparesAllowed ? spares : [])];
  };
  // A used worktree is removed just after the result is sent, a mirror before it; a short grace covers both, and a
  // server that was killed and cleans up on its way out.
  await waitFor(async () => (await leftovers()).length === 0, 5000);
  const left = await leftovers();
  if (left.length) {
    tally().leftoverDirs += left.length;
    for (const entry of left) await rm(entry, { recursive: true, force: true });
  }
  expect(left).toEqual([]);
}

/** After `server.close()`: the server's TMPDIR and work directory hold nothing at all, spare worktrees included. */
export async function expectNothingLeftAfterClose(server: AdversarialServer): Promise<void> {
  await server.close();
  await expectNoTempDirs(server.scratch, { sparesAllowed: 0 });
}

/** The checks after every case: the server still answers, nothing of the run survives, no temp dir remains. */
export async function afterCase(server: AdversarialServer, token?: string): Promise<void> {
  try {
    await server.client.ping();
    const tools = await server.client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(["cancel_run", "delegate", "get_run", "list_agents", "validate_agents"]);
  } catch (error) {
    tally().crashes += 1;
    throw new Error(`the server stopped answering: ${String(error)}\nstderr:\n${server.stderr()}`);
  }
  await expectNoSurvivors(server.scratch, token);
  await expectNoTempDirs(server.scratch);
  // The next case starts with an empty report dir.
  for (const entry of await readdir(server.scratch.report)) await rm(path.join(server.scratch.report, entry), { recursive: true, force: true });
}

// ---- secrets ----------------------------------------------------------------------------------------------------

/** Every 12-character piece of a secret: a partial leak counts as a leak. */
function secretPieces(secret: string): string[] {
  const pieces = new Set<string>([secret]);
  if (secret.length > 12) for (let i = 0; i + 12 <= secret.length; i++) pieces.add(secret.slice(i, i + 12));
  return [...pieces];
}

/** Which of `secrets` (or any 12-character piece of one) appear in `text`. Counts them in the tally. */
export function secretsIn(text: string, secrets: readonly string[], where: string): string[] {
  const seen = secrets.filter((s) => secretPieces(s).some((p) => text.includes(p))).map((s) => `${where}: ${s.slice(0, 12)}…`);
  tally().secretsSeen += seen.length;
  return seen;
}

// ---- a raw stdio pipe, for protocol abuse ------------------------------------------------------------------------

/** The protocol revision without `initialize`: every request carries its `_meta` envelope. */
export const MODERN_REVISION = "2026-07-28";

/** The 2026-07-28 per-request `_meta` envelope (protocol version, client identity and capabilities), plus `extra`. */
export function envelope(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": MODERN_REVISION,
    "io.modelcontextprotocol/clientInfo": { name: "raw-2026", version: "0" },
    "io.modelcontextprotocol/clientCapabilities": {},
    ...extra,
  };
}

/** The server's run records (result.json of each finished run) under the scratch CODEX_HOME, oldest first. */
export async function recordedResults(scratch: Scratch): Promise<any[]> {
  const runsDir = path.join(scratch.codexHome, "subagents", "runs");
  const results: any[] = [];
  for (const dir of (await readdir(runsDir).catch(() => [] as string[])).sort()) {
    const text = await readFile(path.join(runsDir, dir, "result.json"), "utf8").catch(() => null);
    if (text !== null) results.push(JSON.parse(text));
  }
  return results;
}

export interface RawServer {
  child: ChildProcessWithoutNullStreams;
  /** Every complete stdout line so far (each must be a JSON-RPC frame). */
  lines: string[];
  /** Raw stdout text (to check nothing but frames was written). */
  stdout(): string;
  stderr(): string;
  write(data: string | Buffer): void;
  send(message: unknown): void;
  /** Resolves with the next frame answering `id` (a response or error). */
  response(id: number | string | null, limitMs?: number): Promise<any>;
  /** The frames received so far, parsed. */
  frames(): any[];
  initialize(): Promise<void>;
  /** Opens the connection the 2026-07-28 way: `server/discover`, no `initialize`; resolves with the DiscoverResult. */
  discover(): Promise<any>;
  /** A request of the 2026-07-28 revision: `params._meta` carries the envelope (and `meta`, e.g. a progressToken). */
  sendModern(id: number | string, method: string, params?: Record<string, unknown>, meta?: Record<string, unknown>): void;
  exited: Promise<{ code: number | null; signal: string | null }>;
  kill(): Promise<void>;
}

export function startRawServer(scratch: Scratch, opts: StartOptions = {}): RawServer {
  const { command, args } = serverCommand(serverArgs(scratch, opts));
  const child = spawn(command, args, {
    cwd: scratch.root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? scratch.base, ...serverEnv(scratch, opts.env) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const lines: string[] = [];
  let partial = "";
  const waiters: Array<() => void> = [];
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => {
    out += text;
    partial += text;
    let nl: number;
    while ((nl = partial.indexOf("\n")) !== -1) {
      lines.push(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => (err += text));
  child.stdin.on("error", () => {});
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters.splice(0)) w();
    });
  });
  const frames = () => lines.map((l) => JSON.parse(l));
  const raw: RawServer = {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    write: (data) => void child.stdin.write(data),
    send: (message) => void child.stdin.write(JSON.stringify(message) + "\n"),
    frames,
    response: async (id, limitMs = 30_000) => {
      const until = Date.now() + limitMs;
      for (;;) {
        const found = frames().find((f) => f.id === id && ("result" in f || "error" in f));
        if (found) return found;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited before answering id ${id}; stderr:\n${err}`);
        if (Date.now() > until) throw new Error(`no answer for id ${id}; stdout:\n${out}\nstderr:\n${err}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    initialize: async () => {
      raw.send({ jsonrpc: "2.0", id: "init", method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } } });
      const answer = await raw.response("init");
      expect(answer.result?.serverInfo?.name).toBe("codex-subagents");
      raw.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    },
    discover: async () => {
      raw.send({ jsonrpc: "2.0", id: "discover", method: "server/discover", params: { _meta: envelope() } });
      const answer = await raw.response("discover");
      expect(answer.result?.supportedVersions).toContain(MODERN_REVISION);
      return answer.result;
    },
    sendModern: (id, method, params = {}, meta = {}) => {
      raw.send({ jsonrpc: "2.0", id, method, params: { ...params, _meta: envelope(meta) } });
    },
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
  return raw;
}

/**
 * `codex-subagents runs show RUN_ID [--follow] [--json]`: what one run did, step by step, read from its record:
 * each command with its exit code, each file change, each message, then the final answer, usage and duration.
 * `--follow` keeps reading a live run's events.jsonl until its result.json appears.
 *
 * The core (eventSteps, formatStep, formatSummary) is pure; the reading and polling are at the bottom.
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { oneLine } from "../codex/events.ts";
import { NotFoundError } from "../errors.ts";
import { describeCapabilities } from "../policy/capabilities.ts";
import { parseCodexLine } from "../codex/event-schema.ts";
import { capabilitiesSchema } from "../shapes/delegate-result.ts";
import { readRegularFileFrom } from "../safe-fs.ts";
import { printable } from "../escape.ts";
import type { RunStatus } from "../shapes/run-result.ts";
import { finalStatusOf } from "./manager.ts";
import { abandonedBy, parseRunDirName, readRecordJson, RUN_DIR_PATTERN, RUN_FILES } from "./record.ts";

export type Step =
  | { type: "command"; command: string; exit_code: number | null }
  | { type: "file_change"; path: string; kind: string }
  | { type: "message"; text: string }
  | { type: "tool_call"; tool: string }
  | { type: "error"; message: string };

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null);
const asString = (v: unknown): string | null => (typeof v === "string" ? v : null);

/** The steps one codex event line reports (a completed item, an error); none for anything else. */
export function eventSteps(line: string): Step[] {
  const parsed = parseCodexLine(line);
  if (parsed.kind !== "event") return [];
  const { event } = parsed;
  if (event.type === "error") return [{ type: "error", message: event.message ?? "" }];
  if (event.type === "turn.failed") return [{ type: "error", message: event.error?.message ?? "turn failed" }];
  if (event.type !== "item.completed") return [];
  const { item } = event;
  switch (item.type) {
    case "command_execution":
      return [{ type: "command", command: item.command ?? "", exit_code: item.exit_code ?? null }];
    case "file_change":
      return item.changes.flatMap((c) => (c ? [{ type: "file_change" as const, path: c.path ?? "?", kind: c.kind ?? "change" }] : []));
    case "agent_message":
      return [{ type: "message", text: item.text ?? "" }];
    case "mcp_tool_call":
      return [{ type: "tool_call", tool: `${item.server ?? ""}.${item.tool ?? ""}` }];
    case "error":
      return [{ type: "error", message: item.message ?? "" }];
    default:
      return [];
  }
}

export function formatStep(step: Step): string {
  return printable(formatStepText(step));
}

function formatStepText(step: Step): string {
  switch (step.type) {
    case "command":
      return `$ ${oneLine(step.command, 160)}${step.exit_code === null ? "" : `  (exit ${step.exit_code})`}`;
    case "file_change":
      return `~ ${step.kind} ${step.path}`;
    case "message":
      return `> ${oneLine(step.text, 200)}`;
    case "tool_call":
      return `* tool ${step.tool}`;
    case "error":
      return `! ${oneLine(step.message, 200)}`;
  }
}

export interface RunShow {
  run_id: string;
  dir: string;
  agent: string;
  started_at: string;
  status: RunStatus | "incomplete";
  request: Json | null;
  steps: Step[];
  result: Json | null;
  /** Set when there is no result and the server that ran the run is gone: why it will never finish. */
  abandoned?: string;
}

export function formatHeader(show: Pick<RunShow, "run_id" | "agent" | "started_at" | "request">): string {
  const task = asString(show.request?.task);
  const lines = [`run ${show.run_id}`, `agent ${show.agent}, started ${show.started_at}${show.request?.cwd ? `, in ${show.request.cwd}` : ""}${show.request?.isolation ? ` (${show.request.isolation})` : ""}`];
  if (task !== null) lines.push(`task: ${oneLine(task, 200)}`);
  // Recorded before codex started (delegation/run.ts openRecord), so a run that never finished shows it too.
  const capabilities = capabilitiesSchema.safeParse(show.request?.capabilities);
  if (capabilities.success) lines.push(`could reach: ${describeCapabilities(capabilities.data)}`);
  return printable(lines.join("\n")) + "\n";
}

export function formatSummary(result: Json | null): string {
  if (!result) return "status: incomplete (no result.json: still running, or its server was killed before it finished)\n";
  const status = finalStatusOf(result as { ok: boolean; timed_out: boolean; cancelled: boolean });
  const usage = asObject(result.usage);
  const duration = typeof result.duration_ms === "number" ? `${(result.duration_ms / 1000).toFixed(1)} s` : "?";
  const lines = [`status: ${status}, exit code ${result.exit_code ?? "none"}, duration ${duration}`];
  lines.push(usage
    ? `usage: input ${usage.input_tokens ?? "?"} (cached ${usage.cached_input_tokens ?? "?"}), output ${usage.output_tokens ?? "?"} (reasoning ${usage.reasoning_output_tokens ?? "?"}) tokens`
    : "usage: not reported");
  // A refused run's hint is a note of its own (delegation/result.ts resultWithoutRun), shown as the CLI shows a hint.
  for (const note of Array.isArray(result.notes) ? result.notes.map((n) => oneLine(String(n), 300)) : []) lines.push(note.startsWith("hint: ") ? note : `note: ${note}`);
  const final = asString(result.final_message) ?? "";
  lines.push("final answer:", final === "" ? "(none)" : final.trimEnd());
  return printable(lines.join("\n")) + "\n";
}

// ---- reading a record ------------------------------------------------------------------------------------------

/** A record file's JSON object, or null (record.ts readRecordJson: a planted link or FIFO is not followed). */
async function readJson(file: string): Promise<Json | null> {
  return (await readRecordJson(file)) as Json | null;
}

/** The most of events.jsonl one call reads; the next call goes on from there. */
const MAX_EVENTS_READ_BYTES = 64 * 1024 * 1024;

/** Reads events.jsonl from where the last call stopped; returns the complete new lines. */
export class EventsTail {
  private offset = 0;
  private partial = "";
  // A read can end inside a multi-byte character the writer has not finished; the decoder keeps its first bytes.
  private readonly decoder = new StringDecoder("utf8");
  constructor(private readonly file: string) {}
  async next(): Promise<string[]> {
    // Security: read through safe-fs, so a symlink or FIFO planted at events.jsonl is not followed or read.
    const bytes = await readRegularFileFrom(this.file, this.offset, MAX_EVENTS_READ_BYTES);
    if (bytes === null) return [];
    this.offset += bytes.length;
    const text = this.partial + this.decoder.write(bytes);
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    return lines.filter((l) => l !== "");
  }
}

export class RunNotFound extends NotFoundError {
  override name = "RunNotFound";
}

/** The record directory of a run id (any name `runs` lists), or RunNotFound. */
export async function runRecordDir(runsDir: string, runId: string): Promise<string> {
  if (!RUN_DIR_PATTERN.test(runId)) throw new RunNotFound(`"${oneLine(runId, 120)}" is not a run id; run ids look like 20261125T031500.123Z-review-<32 hex>`, { hint: "list recent ones with: codex-subagents runs" });
  const dir = path.join(runsDir, runId);
  const info = await lstat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new RunNotFound(`no run "${runId}" in ${runsDir}`, { hint: "list recent ones with: codex-subagents runs (or pass --runs-dir with the server's directory)" });
  return dir;
}

export interface ShowOptions {
  follow: boolean;
  json: boolean;
  out: (text: string) => void;
  pollMs?: number;
  signal?: AbortSignal;
}

/** Print a run; with follow, keep printing its steps until its result appears (or the signal aborts). */
export async function showRun(runsDir: string, runId: string, opts: ShowOptions): Promise<RunShow> {
  const dir = await runRecordDir(runsDir, runId);
  const parsed = parseRunDirName(runId)!;
  const request = await readJson(path.join(dir, RUN_FILES.request));
  const show: RunShow = { run_id: runId, dir, agent: parsed.agent, started_at: parsed.startedAt.toISOString(), status: "incomplete", request, steps: [], result: null };
  const tail = new EventsTail(path.join(dir, RUN_FILES.events));
  const emit = (steps: Step[]) => {
    show.steps.push(...steps);
    if (!opts.follow) return;
    for (const step of steps) opts.out(opts.json ? JSON.stringify({ step }) + "\n" : `  ${formatStep(step)}\n`);
  };
  if (opts.follow && !opts.json) opts.out(formatHeader(show));
  let gone: { pid: number } | null = null;
  for (;;) {
    // The result is looked for before the events are read: once it exists, every event is already on disk. Whether
    // the server is gone is asked before both, so a server that wrote the result and then exited is not missed.
    gone = await abandonedBy(dir);
    const result = await readJson(path.join(dir, RUN_FILES.result));
    emit((await tail.next()).flatMap(eventSteps));
    if (result || gone || !opts.follow || opts.signal?.aborted) {
      show.result = result;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 250));
  }
  show.status = show.result ? finalStatusOf(show.result as { ok: boolean; timed_out: boolean; cancelled: boolean }) : "incomplete";
  if (!show.result && gone) show.abandoned = `the server that ran it (pid ${gone.pid}) is no longer running, so this run will not finish`;
  if (opts.json) {
    const last = show.abandoned ? { result: show.result, status: show.status, abandoned: show.abandoned } : { result: show.result, status: show.status };
    opts.out(opts.follow ? JSON.stringify(last) + "\n" : JSON.stringify(show, null, 2) + "\n");
  } else {
    if (!opts.follow) opts.out(formatHeader(show) + show.steps.map((s) => `  ${formatStep(s)}\n`).join(""));
    opts.out(show.abandoned ? `status: incomplete (${show.abandoned})\n` : formatSummary(show.result));
  }
  return show;
}

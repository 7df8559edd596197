/**
 * Collecting what a finished codex run left: its final message, the worktree's patch and its notes, the structured
 * answer. Reads files; decides nothing about the result (result.ts does that).
 */
import type { RunOutcome } from "../codex/run.ts";
import { isRefusal } from "../errors.ts";
import { readRegularFile } from "../safe-fs.ts";
import type { IsolationMode } from "../agents/schema.ts";
import type { Workspace } from "../workspace/types.ts";
import { MIB } from "../limits.ts";
import { splitPatch } from "../workspace/patch-parts.ts";
import { finalMessageNotes, howItStopped } from "./failure.ts";

export const MAX_FINAL_MESSAGE_BYTES = MIB;

export interface Outcome {
  readonly finalMessage: string;
  /** What was found at the last-message path instead of a regular file, if anything: the run then counts as failed. */
  readonly planted: string | null;
  readonly patch?: string;
  readonly structured?: unknown;
  readonly notes: readonly string[];
}

/** The first `limit` bytes of text, never ending in half a character. */
export function headBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= limit) return text;
  return bytes.subarray(0, limit).toString("utf8").replace(/\uFFFD+$/, "");
}

async function readFinalMessage(run: RunOutcome, lastMessageFile: string): Promise<Pick<Outcome, "finalMessage" | "planted" | "notes">> {
  const lastMessage = await readRegularFile(lastMessageFile, MAX_FINAL_MESSAGE_BYTES);
  // Security: something other than a regular file at the last-message path was planted; trust neither it nor the
  // run. The call still answers (never blocks on a FIFO) and says what was found.
  const planted = "problem" in lastMessage ? lastMessage.problem : null;
  if (planted) return { finalMessage: "", planted, notes: finalMessageNotes({ planted, silent: false }) };
  const fromFile = "text" in lastMessage ? lastMessage.text.trim() : "";
  const finalMessage = fromFile !== "" ? fromFile : headBytes((run.events.lastAgentMessage ?? "").trim(), MAX_FINAL_MESSAGE_BYTES);
  const silent = finalMessage === "" && !run.timedOut && !run.cancelled && !run.spawnError;
  return { finalMessage, planted: null, notes: finalMessageNotes({ planted: null, silent }) };
}

/** The files of a patch that lie in a `.codex` directory (codex configuration and rules), as git names them. */
export function codexLayerPaths(patch: string): string[] {
  const parts = splitPatch(Buffer.from(patch, "utf8")) ?? [];
  return parts.map((part) => part.path.toString("utf8")).filter((file) => file.split("/").slice(0, -1).includes(".codex"));
}

/**
 * Security: a `.codex/` in a patch is codex configuration (MCP servers to start, rules that let commands out of the
 * sandbox) for every later codex run in that directory, once the patch is applied; the caller is told which.
 */
function codexLayerNote(patch: string | undefined): string[] {
  const files = patch ? codexLayerPaths(patch) : [];
  if (files.length === 0) return [];
  return [`the patch writes codex configuration: ${files.map((f) => `"${f}"`).join(", ")}; once applied it configures codex (MCP servers it starts, rules that let commands out of the sandbox) for runs in that project: review it before applying`];
}

async function readPatch(workspace: Workspace, redact: (text: string) => string): Promise<{ patch?: string; notes: readonly string[] }> {
  try {
    const collected = await workspace.collectPatch({ redact });
    return collected ? { patch: collected.patch, notes: [...collected.notes, ...codexLayerNote(collected.patch)] } : { notes: [] };
  } catch (error) {
    const hint = isRefusal(error) ? error.hint : undefined;
    return { notes: [`the sub-agent's changes could not be collected: ${(error as Error).message}`, ...(hint ? [`hint: ${hint}`] : [])] };
  }
}

function parseStructured(finalMessage: string, outputSchema: unknown): { structured?: unknown; notes: readonly string[] } {
  if (!outputSchema || finalMessage === "") return { notes: [] };
  try {
    return { structured: JSON.parse(finalMessage), notes: [] };
  } catch {
    return { notes: ["output_schema was given but the final message is not JSON; it is returned as text only"] };
  }
}

export async function collectOutcome(req: {
  run: RunOutcome;
  workspace: Workspace;
  isolation: IsolationMode;
  lastMessageFile: string;
  outputSchema?: Record<string, unknown>;
  redact: (text: string) => string;
}): Promise<Outcome> {
  const message = await readFinalMessage(req.run, req.lastMessageFile);
  const collected = req.isolation === "worktree" && !req.run.spawnError ? await readPatch(req.workspace, req.redact) : { notes: [] };
  const patchNote = "patch" in collected && collected.patch !== undefined ? [patchSaying(req.run, collected.patch)] : [];
  const parsed = parseStructured(message.finalMessage, req.outputSchema);
  return {
    finalMessage: message.finalMessage,
    planted: message.planted,
    ...("patch" in collected && collected.patch !== undefined ? { patch: collected.patch } : {}),
    ...("structured" in parsed && parsed.structured !== undefined ? { structured: parsed.structured } : {}),
    notes: [...message.notes, ...patchNote, ...collected.notes, ...parsed.notes],
  };
}

/** What the patch is, said after the run, so a cancelled or failed run is not described as a finished change. */
function patchSaying(run: RunOutcome, patch: string): string {
  if (patch === "") return "the sub-agent changed nothing in its worktree; the patch is empty.";
  const stopped = howItStopped(run);
  return stopped
    ? `the sub-agent ${stopped}: the patch holds what it had changed by then, which may be unfinished; review it before applying (\`git apply\`).`
    : "its changes are returned as a patch against that HEAD (apply with `git apply`).";
}

/**
 * Pure: the caller's own sandbox, as its MCP client tells it, and the cap it puts on a sub-agent.
 *
 * Codex (0.169, 0.171) sends on every `tools/call` `_meta["x-codex-turn-metadata"]`, an object (captured from the real
 * codex) with, among others, `sandbox_mode: "read-only" | "workspace-write" | "danger-full-access"`. Another client,
 * or a later codex, may send the same metadata as a JSON string, so both are read.
 *
 * Security: a read-only caller could otherwise get write access by delegating to a workspace-write agent. The
 * metadata comes from the client, so it may only ever tighten: a value we do not know exactly, a wrong type,
 * unparsable text or an oversized string is ignored (the agent's own sandbox and --max-sandbox still hold), and a
 * caller looser than the agent changes nothing.
 */
import { SANDBOX_MODES, sandboxRank, type SandboxMode } from "./sandbox.ts";

export const TURN_METADATA_KEY = "x-codex-turn-metadata";
/** Turn metadata is a few hundred bytes; a longer string is not parsed at all. */
export const MAX_TURN_METADATA_CHARS = 64 * 1024;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The sandbox mode a `tools/call` request's `_meta` says its caller runs in, or undefined when it says none we know. */
export function callerSandboxFromMeta(meta: unknown): SandboxMode | undefined {
  let turn: unknown = asRecord(meta)?.[TURN_METADATA_KEY];
  if (typeof turn === "string") {
    if (turn.length > MAX_TURN_METADATA_CHARS) return undefined;
    try {
      turn = JSON.parse(turn);
    } catch {
      return undefined;
    }
  }
  const mode = asRecord(turn)?.sandbox_mode;
  return typeof mode === "string" && (SANDBOX_MODES as readonly string[]).includes(mode) ? (mode as SandboxMode) : undefined;
}

/** The sandbox a sub-agent gets under a caller: never looser than the caller's; the note says when it was lowered. */
export function capToCallerSandbox(requested: SandboxMode, caller: SandboxMode | undefined): { sandbox: SandboxMode; note?: string } {
  if (caller === undefined || sandboxRank(requested) <= sandboxRank(caller)) return { sandbox: requested };
  return {
    sandbox: caller,
    note: `sandbox lowered from "${requested}" to "${caller}": the calling agent runs in "${caller}", and a sub-agent never gets a looser sandbox than its caller; to let it write, start the calling Codex with -s ${requested} (or run the calling session with a looser sandbox)`,
  };
}

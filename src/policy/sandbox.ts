import type { RefusalParts } from "../errors.ts";

export const SANDBOX_MODES = ["read-only", "workspace-write", "danger-full-access"] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

/** Sandbox for an agent that names none. Security: always pass one, so a loose user config cannot widen it. */
export const DEFAULT_SANDBOX: SandboxMode = "read-only";

/** Rank of a sandbox mode: higher is looser. */
export function sandboxRank(mode: SandboxMode): number {
  return SANDBOX_MODES.indexOf(mode);
}

/**
 * Security: the ceiling set by --max-sandbox. An agent or call asking for more is refused, never silently lowered:
 * a review agent that expected write access would otherwise fail in confusing ways.
 */
export function checkSandbox(requested: SandboxMode, ceiling: SandboxMode): RefusalParts | null {
  if (sandboxRank(requested) <= sandboxRank(ceiling)) return null;
  return {
    message: `sandbox_mode "${requested}" is above this server's limit "${ceiling}"`,
    hint: `use "${ceiling}" or a stricter mode, or restart the server with --max-sandbox ${requested}`,
  };
}

/**
 * The sandbox a delegation runs with. This server's own agent files keep the refusal above: their author wrote the
 * mode. An agent mapped from another format (Claude Code, Codex role file) had its mode derived by us from tools or
 * keys that were never written for this server, so --max-sandbox lowers it instead, and the note says so.
 * Security: the ceiling holds either way; nothing here can raise a mode.
 */
export function sandboxWithinCeiling(
  requested: SandboxMode,
  ceiling: SandboxMode,
  mapped: { agent: string; format: string; from?: string } | null,
): { sandbox: SandboxMode; note?: string } | { refusal: RefusalParts } {
  const problem = checkSandbox(requested, ceiling);
  if (!problem) return { sandbox: requested };
  if (!mapped) return { refusal: problem };
  const why = mapped.from ? ` (from ${mapped.from})` : "";
  return {
    sandbox: ceiling,
    note: `agent "${mapped.agent}" (${mapped.format}) asks for ${requested}${why}; this server's --max-sandbox is ${ceiling}, so it ran ${ceiling}${ceiling === "read-only" ? ": it could not change files" : ""}`,
  };
}

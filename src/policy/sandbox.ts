export const SANDBOX_MODES = ["read-only", "workspace-write", "danger-full-access"] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

/** Rank of a sandbox mode: higher is looser. */
export function sandboxRank(mode: SandboxMode): number {
  return SANDBOX_MODES.indexOf(mode);
}

/**
 * Security: the ceiling set by --max-sandbox. An agent or call asking for more is refused, never silently lowered:
 * a review agent that expected write access would otherwise fail in confusing ways.
 */
export function checkSandbox(requested: SandboxMode, ceiling: SandboxMode): string | null {
  if (sandboxRank(requested) <= sandboxRank(ceiling)) return null;
  return `sandbox_mode "${requested}" is above this server's limit "${ceiling}"; use "${ceiling}" or a stricter mode, or restart the server with --max-sandbox ${requested}`;
}

import { existsSync } from "node:fs";
import { bunBin, distBinary, repoRoot } from "./paths.ts";
import path from "node:path";

/**
 * How tests start the server: the built executable (the thing users run). CODEX_SUBAGENTS_TEST_SOURCE=1 runs the
 * source under bun instead, for quick iteration while developing.
 */
export function serverCommand(args: string[]): { command: string; args: string[] } {
  if (process.env.CODEX_SUBAGENTS_TEST_SOURCE === "1" || !existsSync(distBinary)) {
    if (process.env.CI && !existsSync(distBinary)) throw new Error(`${distBinary} is missing: run bun run build.ts first`);
    return { command: bunBin, args: [path.join(repoRoot, "src", "cli.ts"), "serve", ...args] };
  }
  return { command: distBinary, args: ["serve", ...args] };
}

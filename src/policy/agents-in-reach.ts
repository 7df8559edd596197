import path from "node:path";
import { isWithin } from "./roots.ts";

/**
 * Security (issue 8, security review finding C): the agents are read again at every call, so a sub-agent that can
 * write the agents directory in use rewrites the agents later calls run: another caller's read-only "review" would
 * run with the attacker's persona, sandbox and isolation. A run that can write in place (isolation "none", a sandbox
 * other than read-only) may write everything below its cwd, so it is refused when its cwd contains the agents
 * directory, however that directory was found. Exempt: an agents directory inside `<cwd>/.codex`, which codex
 * (0.169, 0.171) makes read-only for the sub-agent (test/adversarial/agents-rewrite.test.ts proves it with the real
 * codex); only the cwd's own `.codex` is protected, not one deeper down.
 *
 * Pure: returns the refusal, or null.
 */
export function agentsDirInReach(agentsDir: string | null, cwd: string, canWriteInPlace: boolean): string | null {
  if (agentsDir === null || !canWriteInPlace || !isWithin(agentsDir, cwd)) return null;
  if (isWithin(agentsDir, path.join(cwd, ".codex"))) return null;
  return `cwd "${cwd}" contains the agents directory in use ("${agentsDir}"), and this run could write there in place ` +
    `(isolation "none" with a sandbox that is not read-only), so it could rewrite the agents later calls run; ` +
    `use isolation "worktree" (or "mirror", or sandbox_mode read-only), or keep the agents outside the working tree with --agents-dir`;
}

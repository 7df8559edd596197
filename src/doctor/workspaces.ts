// doctor's "workspaces" check: what the server's private work directory still holds. A running server keeps
// its spare worktrees and its runs' directories there; a server that exited normally leaves nothing; anything left
// when no server runs comes from one that was killed.
import { readdir } from "node:fs/promises";
import type { DoctorCheck } from "./check.ts";

/** The names the server gives what it makes in the work directory (private-dir.ts makeRunDir, spares.ts). */
const WORKSPACE_PREFIXES = ["codex-subagents-spare-", "run-"];

/** `workDir`: the server's private work directory (`$CODEX_HOME/subagents/work`, private-dir.ts). */
export async function workspacesCheck(workDir: string): Promise<DoctorCheck> {
  const names = await readdir(workDir).catch(() => undefined);
  if (!names) return { id: "workspaces", status: "PASS", detail: `${workDir} does not exist yet or cannot be listed; no workspace of ours is there` };
  const ours = names.filter((name) => WORKSPACE_PREFIXES.some((prefix) => name.startsWith(prefix))).sort();
  if (ours.length === 0) return { id: "workspaces", status: "PASS", detail: `no spare worktree or run directory left in ${workDir}` };
  const spares = ours.filter((name) => name.startsWith("codex-subagents-spare-")).length;
  const shown = ours.slice(0, 5).join(", ") + (ours.length > 5 ? `, … (${ours.length - 5} more)` : "");
  return {
    id: "workspaces",
    status: "WARN",
    detail: `${ours.length} director${ours.length === 1 ? "y" : "ies"} in ${workDir} (${spares} spare worktree${spares === 1 ? "" : "s"}): ${shown}`,
    hint: "a running server keeps its spares and running delegations here; with no server running they are left over from one that was killed: end any codex still running from them, then delete them (nothing of ours is registered in the repositories, so there is nothing to prune)",
  };
}

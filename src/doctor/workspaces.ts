// doctor's "workspaces" check (issue 13): what the server's workspaces directory still holds. A running server keeps
// its spare worktrees and its runs' workspaces there; a server that exited normally leaves nothing; anything left
// when no server runs comes from one that was killed.
import { readdir } from "node:fs/promises";
import os from "node:os";
import type { DoctorCheck } from "./index.ts";

/** The names the server gives the directories it makes (worktree.ts, spares.ts, mirror.ts, delegate.ts). */
const WORKSPACE_PREFIXES = ["codex-subagents-spare-", "codex-subagents-worktree-", "codex-subagents-mirror-", "codex-subagents-run-"];

/** `baseDir`: where the server makes workspaces (today its TMPDIR). */
export async function workspacesCheck(env: Readonly<Record<string, string | undefined>>, baseDir = env.TMPDIR || os.tmpdir()): Promise<DoctorCheck> {
  const names = await readdir(baseDir).catch(() => undefined);
  if (!names) return { id: "workspaces", status: "PASS", detail: `${baseDir} cannot be listed; no workspace of ours is known there` };
  const ours = names.filter((name) => WORKSPACE_PREFIXES.some((prefix) => name.startsWith(prefix))).sort();
  if (ours.length === 0) return { id: "workspaces", status: "PASS", detail: `no spare worktree or workspace left in ${baseDir}` };
  const spares = ours.filter((name) => name.startsWith("codex-subagents-spare-")).length;
  const shown = ours.slice(0, 5).join(", ") + (ours.length > 5 ? `, … (${ours.length - 5} more)` : "");
  return {
    id: "workspaces",
    status: "WARN",
    detail: `${ours.length} workspace director${ours.length === 1 ? "y" : "ies"} in ${baseDir} (${spares} spare worktree${spares === 1 ? "" : "s"}): ${shown}`,
    hint: "a running server keeps its spares and running workspaces here; with no server running they are left over from one that was killed: delete them, then run `git worktree prune` in the repositories they came from",
  };
}

import path from "node:path";
import type { RefusalParts } from "../errors.ts";
import { isWithin } from "./roots.ts";

/** A place agents are (or would be) loaded from, resolved as far as it exists (roots.ts realPathSoFar). */
export interface AgentsPlace {
  dir: string;
  /** "the agents directory in use", or a discovery candidate such as "./agents" that would win at the next start. */
  what: string;
  inUse: boolean;
}

/**
 * Security: the agents are read again at every call, and discovered again at every start. A sub-agent that can write
 * in place (isolation "none", a sandbox other than read-only) may write everything below its cwd. So it is refused
 * when its cwd contains the agents directory in use (it would rewrite the agents later calls run: another caller's
 * read-only "review" would run the attacker's persona, sandbox and isolation), and equally when its cwd contains a
 * place discovery looks at before the one in use (`./agents` while the embedded starters or `./.codex/agents` are in
 * use): a directory it creates there takes over at the next start, however that start finds its agents.
 *
 * Refused, not confined: codex's workspace-write sandbox keeps nothing read-only below the cwd but `<cwd>/.codex` and
 * `<cwd>/.git`, so there is no way to let the run write its tree but not those places; and a check at discovery
 * could not tell the user's own new `./agents` from one a sub-agent planted. The way out is `--agents-dir` (nothing
 * outranks it) or an isolated run.
 *
 * Exempt: a place inside `<cwd>/.codex`, which codex (0.169, 0.171) makes read-only for the sub-agent
 * (test/adversarial/agents-rewrite.test.ts proves it with the real codex); only the cwd's own `.codex`, not one
 * deeper down.
 *
 * Pure: returns the refusal, or null. `places` come from registry.ts agentsPlaces; asked only for a run that writes in
 * place (runs/tree-lock.ts writesInPlace).
 */
export function agentsDirInReach(places: readonly AgentsPlace[], cwd: string): RefusalParts | null {
  const place = places.find((p) => isWithin(p.dir, cwd) && !isWithin(p.dir, path.join(cwd, ".codex")));
  if (!place) return null;
  const why = place.inUse
    ? `contains the agents directory in use ("${place.dir}")`
    : `contains "${place.dir}" (${place.what}), where an agents directory would be loaded instead of the agents in use at the server's next start`;
  return {
    message: `cwd "${cwd}" ${why}, and this run could write there in place ` +
      `(isolation "none" with a sandbox that is not read-only), so it could ${place.inUse ? "rewrite" : "plant"} the agents later calls run`,
    hint: `use isolation "worktree" (or "mirror", or sandbox_mode read-only), or start the server with --agents-dir naming a directory outside the working tree`,
  };
}

// Project configuration layers a sub-agent could have planted (SECURITY.md "A planted project layer").
//
// Security: in a project marked trusted, codex reads `.codex/config.toml` (MCP servers, notify programs, …) and
// `.codex/rules/*.rules` (commands allowed to run outside the sandbox) from every directory between the project's
// root and its working directory. Codex's workspace-write sandbox keeps only its own `<cwd>/.codex` read-only (measured
// on 0.169 and 0.171, also when it did not exist before the run). So an in-place writer can create `sub/.codex/…` below
// its cwd, and the next run in `sub` (a read-only reviewer, say) would start the program it names, unsandboxed.
//
// The rule: before each run, every directory from the run's working directory up to `/` (and, for a copy, from the
// directory it was copied from) is looked at. A `.codex` entry there (directory, file or link) that a sub-agent could
// have written (runs/writer-ledger.ts plantableIn: strictly below a recorded in-place writer's cwd) means the
// project's layers are not used for this run: codex is told to treat each of those directories
// as an untrusted project (`-c projects={…}`, which turns a trusted project's layers off; measured on 0.169 and
// 0.171), and the result's notes say why. Rules files are never read at all (`--ignore-rules`, codex/args.ts). A
// repository's own committed `.codex/` keeps working whenever no such place is on the path.
//
// In /tmp and $TMPDIR every sandbox may write at any moment, whatever its cwd, so what is found there proves nothing
// about the moment codex looks: a run whose path passes through them is always treated as untrusted, without a note
// (it is the rule for such places, not a finding; doctor and start-up already warn about roots there).
// Between this check and codex reading the layers, no in-place writer whose cwd holds the run's can be running: the run
// table's tree lock (runs/tree-lock.ts) keeps such runs apart.
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { isWithin } from "../policy/roots.ts";
import { plantableIn } from "../runs/writer-ledger.ts";

/** `dir` and every directory above it, nearest first. */
export function ancestorsOf(dir: string): string[] {
  const out: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    out.push(current);
    if (path.dirname(current) === current) return out;
  }
}

/** The real paths of /tmp and $TMPDIR (every workspace-write sandbox may write both). */
export async function sandboxTmpDirs(tmpDir: string | undefined): Promise<string[]> {
  const real = (p: string) => realpath(p).catch(() => path.resolve(p));
  const dirs = process.platform === "win32" ? [] : [await real("/tmp")];
  if (tmpDir) dirs.push(await real(tmpDir));
  return [...new Set(dirs)];
}

export interface PlantedLayers {
  /** Why the project layers are not used for this run, one sentence per place; empty when they may be. */
  reasons: string[];
  /** The directories to treat as untrusted projects for this run (empty when their layers may be used). */
  untrusted: string[];
}

/**
 * Whether a `.codex` layer on the way to `workingDir` (or to `sourceDir`, the directory a copy was made from) may have
 * been planted by a sub-agent. `writers` and `tmpDirs` are real paths; so are the directories.
 */
export async function plantedLayers(dirs: { workingDir: string; sourceDir: string }, writers: readonly string[], tmpDirs: readonly string[]): Promise<PlantedLayers> {
  const holders = [...new Set([...ancestorsOf(dirs.workingDir), ...ancestorsOf(dirs.sourceDir)])];
  const reasons: string[] = [];
  let inTmp = false;
  for (const holder of holders) {
    if (tmpDirs.some((tmp) => isWithin(holder, tmp))) {
      inTmp = true;
      continue;
    }
    const why = plantableIn(holder, writers, []);
    if (why === null) continue;
    const layer = path.join(holder, ".codex");
    if (await lstat(layer).then(() => true, () => false)) reasons.push(`"${layer}" may have been planted: ${why}`);
  }
  return { reasons, untrusted: reasons.length > 0 || inTmp ? holders : [] };
}

/** The note a run carries when its project layers were not used. */
export function plantedLayersNote(planted: PlantedLayers): string | null {
  if (planted.reasons.length === 0) return null;
  return `the project's .codex configuration was not used for this run (codex treated it as untrusted): ${planted.reasons.join("; ")}`;
}

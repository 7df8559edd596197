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
import { isWithin, PolicyError } from "../policy/roots.ts";
import { plantableIn } from "../runs/writer-ledger.ts";

/** `dir` and every directory above it, nearest first. */
export function ancestorsOf(dir: string): string[] {
  const out: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    out.push(current);
    if (path.dirname(current) === current) return out;
  }
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
    const layer = path.join(holder, ".codex");
    if (!(await lstat(layer).then(() => true, () => false))) continue;
    const why = plantableIn(holder, writers, []) ?? writableLayer(await realpath(layer).catch(() => layer), writers, tmpDirs);
    if (why !== null) reasons.push(`"${layer}" may have been planted: ${why}`);
  }
  return { reasons, untrusted: reasons.length > 0 || inTmp ? holders : [] };
}

/**
 * Why the layer whose real path is `layer` may have been written by a sub-agent, or null. Pure. Security: codex keeps
 * only the writer's own `<cwd>/.codex` read-only, so a writer wrote the layer when its cwd lies in it (a cwd that is
 * the `.codex` directory itself, or below it), or when the layer lies in its cwd anywhere but exactly there (a
 * `.codex` that is a link into the tree; a link into /tmp or $TMPDIR, which every sandbox writes).
 */
export function writableLayer(layer: string, writers: readonly string[], tmpDirs: readonly string[]): string | null {
  for (const writer of writers) {
    if (isWithin(writer, layer)) return `a sub-agent once worked in it ("${writer}") with a sandbox that can write in place`;
    if (isWithin(layer, writer) && layer !== path.join(writer, ".codex")) return `it leads to "${layer}", in "${writer}", where a sub-agent once worked with a sandbox that can write in place`;
  }
  const tmp = tmpDirs.find((dir) => isWithin(layer, dir));
  return tmp === undefined ? null : `it leads to "${layer}", in "${tmp}", which every workspace-write sub-agent may write`;
}

/**
 * Security: a run that writes in place (isolation "none", a writable sandbox) whose cwd is a `.codex` directory, or lies
 * in one, would write that codex configuration layer (its MCP server definitions, its rules) for every later run of
 * the project: codex keeps only `<cwd>/.codex` read-only, not the directory it works in. Refused, as a cwd in a git
 * directory is (policy/git-dir.ts); the name is compared without case, as a case-insensitive file system would.
 * Returns `cwd` unchanged otherwise.
 */
export function refuseCodexLayerWriter(cwd: string, writesInPlace: boolean): string {
  if (!writesInPlace) return cwd;
  const layer = ancestorsOf(cwd).find((dir) => path.basename(dir).toLowerCase() === ".codex");
  if (layer === undefined) return cwd;
  throw new PolicyError(
    `cwd "${cwd}" is inside the codex configuration directory "${layer}", and this run could write there in place ` +
      `(isolation "none" with a sandbox that is not read-only): the MCP servers and rules it wrote would configure codex for later runs in the project`,
    { hint: `use isolation "worktree" (its patch names every .codex file it changes) or "mirror", or sandbox_mode read-only` },
  );
}

/** The note a run carries when its project layers were not used. */
export function plantedLayersNote(planted: PlantedLayers): string | null {
  if (planted.reasons.length === 0) return null;
  return `the project's .codex configuration was not used for this run (codex treated it as untrusted): ${planted.reasons.join("; ")}`;
}

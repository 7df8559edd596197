import { readlink, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { EXIT_NOT_FOUND, Refusal, type RefusalOptions } from "../errors.ts";

/** A refusal the caller shows to the user as-is: it names the value, the rule and what to do instead. */
export class PolicyError extends Refusal {
  override name = "PolicyError";
  constructor(message: string, options: RefusalOptions = {}) {
    // At start-up a policy refusal is a root that does not exist: exit 2, as before.
    super(message, { code: "policy", exitStatus: EXIT_NOT_FOUND, ...options });
  }
}

/** An allowed directory, as the user wrote it and as the filesystem resolves it. */
export interface Root {
  given: string;
  real: string;
}

/** The part of `node:path` that isWithin needs; pass `path.win32` or `path.posix` to check another platform's paths. */
export type PathFlavour = Pick<typeof path, "relative" | "isAbsolute" | "sep">;

/**
 * True when `candidate` is `parent` or lies below it. Pure and lexical: both must be absolute and normalized.
 * Security: compares whole path segments, so `/repo-evil` is not inside `/repo`; on Windows it compares as the
 * filesystem does, without regard to case, so `C:\Repo\x` is inside `c:\repo` (a prefix test would say it is not).
 * The one containment test in this program: every "is this path inside that directory" question comes here.
 */
export function isWithin(candidate: string, parent: string, flavour: PathFlavour = path): boolean {
  const rel = flavour.relative(parent, candidate);
  if (rel === "") return true;
  return rel !== ".." && !rel.startsWith(`..${flavour.sep}`) && !flavour.isAbsolute(rel);
}

/**
 * `p` with symlinks resolved as far as it exists: the real path of its longest existing ancestor, then the rest as
 * written. Where something created at `p` later would really be (a link on the way is followed, also one whose
 * target does not exist yet: what is made there later is what the link leads to).
 */
export async function realPathSoFar(p: string): Promise<string> {
  let existing = path.resolve(p);
  const rest: string[] = [];
  for (let links = 0; ; ) {
    try {
      return path.join(await realpath(existing), ...rest.reverse());
    } catch {
      // Security: a dangling link names the place its target will be made, not the link's own place.
      const target = links < 40 ? await readlink(existing).catch(() => null) : null;
      if (target !== null) {
        links += 1;
        // A relative target is read from where the link really is: `..` in it climbs the real parent, not the path
        // as written (a link above it would otherwise send `..` somewhere else).
        existing = path.resolve(await realpath(path.dirname(existing)), target);
        continue;
      }
      const parent = path.dirname(existing);
      if (parent === existing) return path.resolve(p);
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

export function describeRoots(roots: readonly Root[]): string {
  return roots.map((r) => `"${r.given}"`).join(", ");
}

/** Resolve the configured roots once at start-up; a missing root is a start-up error, not a silent skip. */
export async function resolveRoots(given: readonly string[], baseDir: string): Promise<Root[]> {
  const roots: Root[] = [];
  for (const entry of given) {
    if (entry.includes("\0")) throw new PolicyError(`root "${entry}" contains a NUL byte`, { hint: "pass a plain directory path" });
    const absolute = path.resolve(baseDir, entry);
    let real: string;
    try {
      real = await realpath(absolute);
    } catch {
      throw new PolicyError(`root "${entry}" does not exist`, { hint: "create it or fix --root / CODEX_SUBAGENTS_ROOTS" });
    }
    if (!(await stat(real)).isDirectory()) {
      throw new PolicyError(`root "${entry}" is not a directory`, { hint: "--root takes directories" });
    }
    roots.push({ given: absolute, real });
  }
  return roots;
}

/**
 * Check a directory a request wants to work in, and return its real path.
 * Security: stops relative paths, NUL bytes, `..` escapes, sibling-prefix tricks, symlinks (or symlinked parents)
 * pointing out of the roots, dangling links and non-directories. The path is checked as written and again after
 * realpath, so both the lexical and the resolved location must be inside a root.
 */
export async function resolveAllowedDir(input: string, roots: readonly Root[], what = "cwd"): Promise<string> {
  const inRoots = { hint: `allowed roots: ${describeRoots(roots)}; pass \`${what}\` as an absolute directory inside one of them, or start the server with --root` };
  if (roots.length === 0) throw new PolicyError(`no roots are configured, so no ${what} is allowed`, { hint: "start the server with --root DIR" });
  if (typeof input !== "string" || input.length === 0) throw new PolicyError(`${what} is empty`, inRoots);
  if (input.includes("\0")) throw new PolicyError(`${what} contains a NUL byte`, inRoots);
  if (!path.isAbsolute(input)) throw new PolicyError(`${what} "${input}" is not an absolute path`, inRoots);
  const written = path.resolve(input);
  if (!roots.some((r) => isWithin(written, r.given) || isWithin(written, r.real))) {
    throw new PolicyError(`${what} "${input}" is outside the allowed roots`, inRoots);
  }
  let real: string;
  try {
    real = await realpath(written);
  } catch {
    throw new PolicyError(`${what} "${input}" does not exist (or is a dangling link)`, inRoots);
  }
  if (!roots.some((r) => isWithin(real, r.real))) {
    throw new PolicyError(`${what} "${input}" resolves to "${real}", outside the allowed roots (a symlink points out)`, inRoots);
  }
  // It may vanish between realpath and stat (a directory being renamed): a refusal, not an internal error.
  const info = await stat(real).catch(() => null);
  if (!info) throw new PolicyError(`${what} "${input}" does not exist any more (it was removed or renamed while it was checked)`, inRoots);
  if (!info.isDirectory()) throw new PolicyError(`${what} "${input}" is not a directory`, inRoots);
  return real;
}

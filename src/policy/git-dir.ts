import { lstat } from "node:fs/promises";
import path from "node:path";
import { PolicyError } from "./roots.ts";

/**
 * Security: a sub-agent whose working directory is inside a git directory (`.git`, `.git/modules/<name>`,
 * `.git/worktrees/<name>`, a bare repository) can write hooks and config there (`hooks/post-checkout`,
 * `core.fsmonitor`, a filter driver) that git later runs outside any sandbox, for the user or for this server. No
 * isolation mode makes that safe, so such a cwd is refused in every mode, "none" included.
 *
 * Pure over `probe`: the walk from `dir` up to the file-system root asks, for each directory, whether it is a git
 * directory; a directory named `.git` always counts.
 */
export function findEnclosingGitDir(dir: string, probe: (candidate: string) => Promise<boolean>): Promise<string | undefined> {
  const visit = async (candidate: string): Promise<string | undefined> => {
    if (path.basename(candidate).toLowerCase() === ".git" || (await probe(candidate))) return candidate;
    const parent = path.dirname(candidate);
    return parent === candidate ? undefined : visit(parent);
  };
  return visit(path.resolve(dir));
}

/**
 * What git itself takes for a git directory: a `HEAD` file beside an `objects` and a `refs` directory, or beside a
 * `commondir` file (a linked worktree's or a submodule's admin directory). Never follows a symlink named HEAD.
 */
export async function looksLikeGitDir(candidate: string): Promise<boolean> {
  const kind = (name: string) => lstat(path.join(candidate, name)).then((info) => info, () => undefined);
  const head = await kind("HEAD");
  if (!head || head.isDirectory()) return false;
  if ((await kind("commondir"))?.isFile()) return true;
  return Boolean((await kind("objects"))?.isDirectory() && (await kind("refs"))?.isDirectory());
}

/** Return `cwd` unchanged, or throw a PolicyError when it lies inside a git directory. */
export async function refuseGitDirectory(cwd: string): Promise<string> {
  const gitDir = await findEnclosingGitDir(cwd, looksLikeGitDir);
  if (gitDir !== undefined) {
    throw new PolicyError(
      `cwd "${cwd}" is inside the git directory "${gitDir}", where a sub-agent could write hooks and config that git ` +
        `later runs outside the sandbox`,
      { hint: "pass the repository's working tree instead (the directory that holds .git)" },
    );
  }
  return cwd;
}

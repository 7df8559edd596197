// A test's scratch directory with the subdirectories it starts with, as the e2e suites make one in beforeAll.
import { mkdir, mkdtemp, realpath } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

type DirPaths<Names extends readonly string[]> = { [K in keyof Names]: string };

/**
 * A new directory `parent/PREFIXxxxxxx` (the parent made first if need be), by its real path (on macOS the temporary
 * directory is behind a link, and the server compares real paths), and in it one empty subdirectory per name:
 * `[scratch, ...subdirectories]`, in the order given.
 */
export async function scratchDirsUnder<const Names extends readonly string[]>(parent: string, prefix: string, ...names: Names): Promise<[string, ...DirPaths<Names>]> {
  await mkdir(parent, { recursive: true });
  const scratch = await realpath(await mkdtemp(path.join(parent, prefix)));
  const dirs = names.map((name) => path.join(scratch, name));
  for (const dir of dirs) await mkdir(dir);
  // One path per name, in order: what DirPaths<Names> says (TypeScript cannot see it through map).
  return [scratch, ...dirs] as unknown as [string, ...DirPaths<Names>];
}

/** scratchDirsUnder in os.tmpdir(). */
export function scratchWithDirs<const Names extends readonly string[]>(prefix: string, ...names: Names): Promise<[string, ...DirPaths<Names>]> {
  return scratchDirsUnder(os.tmpdir(), prefix, ...names);
}

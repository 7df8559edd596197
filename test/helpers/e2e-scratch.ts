// A test's scratch directory with the subdirectories it starts with, as the e2e suites make one in beforeAll.
import { existsSync, mkdirSync, realpathSync } from "node:fs";
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

/**
 * Where a test keeps what must be out of every sandbox's reach. A workspace-write sandbox may write /tmp and $TMPDIR
 * (codex adds both to its writable roots), so a proof that a sub-agent cannot write a place (the server's work
 * directory, a user's package behind a link) proves nothing there. The clone itself may live under /tmp too, so the
 * repository's own `.tmp/` is no answer: this is `$HOME/.cache/codex-subagents-tests`, checked to lie outside /tmp and
 * $TMPDIR after resolving links. When it does not, the test cannot prove anything and says why.
 */
export function privateScratchParent(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const home = env.HOME || os.homedir();
  const parent = path.join(home, ".cache", "codex-subagents-tests");
  mkdirSync(parent, { recursive: true });
  const real = realpathSync(parent);
  for (const [what, place] of [["/tmp", "/tmp"], ["$TMPDIR", env.TMPDIR], ["the system temporary directory", os.tmpdir()]] as const) {
    if (!place) continue;
    const realPlace = existsSync(place) ? realpathSync(place) : path.resolve(place);
    const rel = path.relative(realPlace, real);
    if (rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel))) {
      throw new Error(
        `this test needs a directory no sandbox can write, but ${real} (under $HOME) lies in ${what} (${realPlace}), ` +
          "which every workspace-write sub-agent may write; run it with HOME outside /tmp and $TMPDIR",
      );
    }
  }
  return real;
}

/** scratchDirsUnder in privateScratchParent(): out of every sandbox's reach, wherever the clone lives. */
export function privateScratchWithDirs<const Names extends readonly string[]>(prefix: string, ...names: Names): Promise<[string, ...DirPaths<Names>]> {
  return scratchDirsUnder(privateScratchParent(), prefix, ...names);
}

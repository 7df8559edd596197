// The server's private work directory: every file and directory a delegation makes (the last-message file, the
// output schema, worktrees, mirrors) lives below it, one unguessable `run-XXXXXX` directory per delegation:
//
//   $CODEX_HOME/subagents/work/            mode 700, a real directory owned by us (checked on every call)
//     run-Ab12Cd/                          mkdtemp: mode 700, a random name
//       last-message.txt, output-schema.json   codex's files (codex writes, the server reads)
//       codex-subagents-worktree-XXXXXX/   isolation "worktree": wt/ is the sub-agent's cwd
//       codex-subagents-mirror-XXXXXX/     isolation "mirror": <name of cwd>/ is the sub-agent's cwd
//
// Security: a workspace-write sandbox may write its cwd, /tmp and $TMPDIR (codex's own rule for that mode), so anything of ours there is
// within reach of every concurrent sub-agent: it could rewrite a read-only reviewer's mirror, plant a FIFO where we
// read the last message, or a symlink where we write. $CODEX_HOME outside a sub-agent's cwd is not writable from the
// sandbox. A sub-agent's own worktree or mirror is its cwd, so the run's files sit in a sibling directory, never
// below that cwd.
import { chmod, lstat, mkdir, mkdtemp, realpath } from "node:fs/promises";
import { join, resolve } from "node:path";
import { isWithin, realPathSoFar } from "../policy/roots.ts";
import { WorkspaceError } from "./types.ts";

export const PRIVATE_DIR_MODE = 0o700;

/** The private work directory for a CODEX_HOME: `<codexHome>/subagents/work`. */
export function workDirFor(codexHome: string): string {
  return join(codexHome, "subagents", "work");
}

/**
 * Create (mode 700) or check the private work directory and return its real path. Refuses a symlink, a non-directory
 * or a directory owned by someone else; tightens a looser mode of our own directory to 700.
 */
export async function ensurePrivateDir(dir: string): Promise<string> {
  const absolute = resolve(dir);
  const fix = { hint: "remove it (the server makes it again, mode 700), or set CODEX_HOME to a directory of your own" };
  try {
    // Only the first delegation makes it; later ones just check it.
    const exists = await lstat(absolute).then(() => true, () => false);
    if (!exists) await mkdir(absolute, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new WorkspaceError(
      `the server's private work directory "${absolute}" cannot be created (${code ?? (error as Error).message})`,
      code === "EEXIST" || code === "ENOTDIR" ? fix : { hint: "make $CODEX_HOME writable, or set CODEX_HOME to a directory of your own" },
    );
  }
  const info = await lstat(absolute);
  if (info.isSymbolicLink()) throw new WorkspaceError(`the server's private work directory "${absolute}" is a symbolic link, which could lead where a sandbox can write`, fix);
  if (!info.isDirectory()) throw new WorkspaceError(`the server's private work directory "${absolute}" is not a directory`, fix);
  const uid = currentUid();
  if (uid !== undefined && info.uid !== uid) {
    throw new WorkspaceError(`the server's private work directory "${absolute}" belongs to user ${info.uid}, not to this server (user ${uid})`, fix);
  }
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) await chmod(absolute, PRIVATE_DIR_MODE);
  return realpath(absolute);
}

/** Our uid, or undefined where it cannot be known (Windows; Deno without --allow-sys). */
export function currentUid(): number | undefined {
  try {
    return process.getuid?.();
  } catch {
    return undefined;
  }
}

/**
 * One delegation's own directory below the private one (mkdtemp: mode 700, a random name). Codex's files go straight
 * into it; the worktree or mirror is made in a subdirectory, so those files are beside the sub-agent's cwd, not below.
 */
export async function makeRunDir(privateDir: string): Promise<string> {
  return mkdtemp(join(privateDir, "run-"));
}

/**
 * Why the work directory is within a sandbox's reach, or null: it lies below /tmp, $TMPDIR or a root (each of which a
 * workspace-write sub-agent may write). Compared after resolving symlinks as far as the path exists, so a CODEX_HOME
 * that is a link into /tmp is seen. For the warning at start-up and in doctor.
 */
export async function workDirExposure(workDir: string, places: { tmpDir?: string; roots: readonly string[] }): Promise<string | null> {
  if (process.platform === "win32") return null;
  const dir = await realPathSoFar(workDir);
  const writable = [
    { path: "/tmp", what: "/tmp" },
    ...(places.tmpDir ? [{ path: places.tmpDir, what: "TMPDIR" }] : []),
    ...places.roots.map((root) => ({ path: root, what: "the root" })),
  ];
  for (const { path, what } of writable) {
    const place = await realPathSoFar(path);
    if (isWithin(dir, place)) return `it lies below ${what} "${place}", which a workspace-write sub-agent may write`;
  }
  return null;
}

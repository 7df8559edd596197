import { realpath } from "node:fs/promises";
import path from "node:path";
import { isWithin } from "./roots.ts";

/**
 * Roots that lie under /tmp or $TMPDIR. Security: every workspace-write sandbox may write /tmp and
 * $TMPDIR, so any sub-agent, whatever its cwd, could rename a directory in such a root and put a symlink in its place
 * while another call starts codex there (codex resolves its --cd itself), or rewrite files a read-only call relies on.
 * The tree lock (runs/tree-lock.ts) orders only runs whose cwds nest. Such roots are warned about, not refused (tests
 * and throw-away checkouts use them). Returns one sentence per root; empty when none.
 */
export async function rootsUnderTmp(roots: readonly string[], tmpDir: string | undefined): Promise<string[]> {
  if (process.platform === "win32") return [];
  const places = await sandboxTmpPlaces(tmpDir);
  const found: string[] = [];
  for (const root of roots) {
    const place = places.find((p) => isWithin(root, p.dir));
    if (place) found.push(`the root "${root}" lies below ${place.what} ("${place.dir}"), which every workspace-write sub-agent may write, whatever its cwd`);
  }
  return found;
}

/**
 * The real paths of /tmp and $TMPDIR (every workspace-write sandbox may write both), without repeats. Security: where
 * there is no /tmp (Windows) $TMPDIR still counts, so a place a sandbox may write is never taken for a safe one.
 */
export async function sandboxTmpDirs(tmpDir: string | undefined): Promise<string[]> {
  return [...new Set((await sandboxTmpPlaces(tmpDir)).map((place) => place.dir))];
}

/** /tmp (not on Windows) and $TMPDIR, each as its real path and the name a message gives it. */
async function sandboxTmpPlaces(tmpDir: string | undefined): Promise<{ dir: string; what: string }[]> {
  const real = (p: string) => realpath(p).catch(() => path.resolve(p));
  const places = process.platform === "win32" ? [] : [{ dir: await real("/tmp"), what: "/tmp" }];
  if (tmpDir) places.push({ dir: await real(tmpDir), what: "TMPDIR" });
  return places;
}

export const TMP_ROOT_HINT = "keep --root directories outside /tmp and $TMPDIR, or run only read-only sub-agents there";

/** Which file is "this program", and its SHA-256. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { BuildManifest } from "./manifest.ts";

/**
 * A compiled executable is `process.execPath` (Bun resolves symlinks); the `.mjs` is the module file itself,
 * whichever runtime runs it. Running from source there is no single file to vouch for: null.
 */
export function selfPath(manifest: BuildManifest | null): string | null {
  if (manifest === null) return null;
  if (manifest.kind === "executable") return process.execPath;
  return fileURLToPath(import.meta.url);
}

/** Streamed, so a ~110 MB executable is hashed without holding it in memory. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const { size } = await stat(path);
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return { sha256: hash.digest("hex"), size };
}

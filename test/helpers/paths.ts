// Absolute paths the tests need, derived from this file's location so the checkout can live anywhere.
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The repository root (the directory holding package.json). */
export const repoRoot: string = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/** The compiled single executable that `bun run build` writes. */
export const distBinary: string = join(repoRoot, "dist", "codex-subagents");

/** The pinned Bun (node_modules/.bin/bun). */
export const bunBin: string = join(repoRoot, "node_modules", ".bin", "bun");

/** The pinned Deno (node_modules/.bin/deno). */
export const denoBin: string = join(repoRoot, "node_modules", ".bin", "deno");

/** The pinned codex CLI launcher (a Node script that runs the platform binary). */
export const codexBin: string = join(repoRoot, "node_modules", ".bin", "codex");

// Absolute paths the tests need, derived from this file's location so the checkout can live anywhere.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

/** The repository root (the directory holding package.json). */
export const repoRoot: string = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/** The compiled single executable that `bun run build` writes. */
export const distBinary: string = join(repoRoot, "dist", "codex-subagents");

/** The pinned Bun (node_modules/.bin/bun). */
export const bunBin: string = join(repoRoot, "node_modules", ".bin", "bun");

/** The pinned Deno (node_modules/.bin/deno). */
export const denoBin: string = join(repoRoot, "node_modules", ".bin", "deno");

/**
 * The codex CLI the tests run: the pinned one (node_modules/.bin/codex, the newest tested version), or the one
 * CODEX_SUBAGENTS_TEST_CODEX names (CI's second pass sets it to the oldest supported codex, see .ci/run).
 */
export const codexBin: string = process.env.CODEX_SUBAGENTS_TEST_CODEX || join(repoRoot, "node_modules", ".bin", "codex");

/** `codexBin --version` as doctor parses it ("0.171.0"), so no test depends on the exact version string. */
export function codexVersion(): string {
  const out = spawnSync(codexBin, ["--version"], { encoding: "utf8" }).stdout ?? "";
  const version = /^codex-cli (\d+\.\d+\.\d+\S*)/m.exec(out)?.[1];
  if (!version) throw new Error(`${codexBin} --version printed "${out.trim()}", not a codex version`);
  return version;
}

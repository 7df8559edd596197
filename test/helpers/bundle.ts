// codex-subagents.mjs, built once and shared by every test that runs the bundle (test/e2e/runtimes, docs-snippets).
// Cached in .tmp/ under a hash of the build inputs, so a second test process, or the next run with the same sources,
// reuses it; a changed source gives a new hash and so a new build. The build goes to a private directory that is
// renamed into place, so two processes building at once cannot hand either one a half-written file.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { SOURCE_DIRS, SOURCE_FILES } from "../../src/verify/manifest.ts";
import { bunBin, repoRoot } from "./paths.ts";

const SCRIPT_ASSET = "codex-subagents.mjs";

function filesBelow(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesBelow(full) : [full];
  });
}

/** A hash of what the bundle is built from: the source directories and files the build manifest names. */
function inputsHash(): string {
  const hash = createHash("sha256");
  const files = [...SOURCE_DIRS.flatMap((d) => filesBelow(path.join(repoRoot, d))), ...SOURCE_FILES.map((f) => path.join(repoRoot, f))];
  for (const file of files) hash.update(`${path.relative(repoRoot, file)}\0`).update(readFileSync(file)).update("\0");
  return hash.digest("hex").slice(0, 16);
}

function build(): string {
  const cacheDir = path.join(repoRoot, ".tmp", `bundle-${inputsHash()}`);
  const bundle = path.join(cacheDir, SCRIPT_ASSET);
  if (existsSync(bundle)) return bundle;
  mkdirSync(path.dirname(cacheDir), { recursive: true });
  const staging = mkdtempSync(`${cacheDir}.building-`);
  try {
    const result = spawnSync(bunBin, ["run", path.join(repoRoot, "build.ts"), "--release", "--only", SCRIPT_ASSET, "--out", staging], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 120_000,
    });
    if (result.status !== 0) throw new Error(`building ${SCRIPT_ASSET} failed (exit ${result.status}):\n${result.stderr}`);
    try {
      renameSync(staging, cacheDir);
    } catch (error) {
      // Another process put its build in place first: the same inputs, so the same file; use that one.
      if (!existsSync(bundle)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return bundle;
}

/** The path of codex-subagents.mjs built from the current sources (built on first use in this process or run). */
export function bundledScript(): string {
  const cache = globalThis as { __codexSubagentsBundle?: string };
  cache.__codexSubagentsBundle ??= build();
  return cache.__codexSubagentsBundle;
}

/**
 * The build manifest: facts about a build that build.ts embeds in the program, because an executable cannot
 * hold its own hash. It is content-addressed on purpose: no git commit id (checksums.txt is committed, so a
 * commit id inside the assets would make checksums.txt depend on itself), no timestamp, no build-machine path.
 */
import { formatChecksums } from "./checksums.ts";
import type { CycloneDxBom } from "./sbom.ts";

export const MANIFEST_SCHEMA = 1;

/**
 * The first-party inputs hashed into `source.files`: every file under the directories, plus the single files.
 * A reviewer recomputes the digest with `git ls-files <these> | LC_ALL=C sort | xargs sha256sum | sha256sum`.
 */
export const SOURCE_DIRS = ["src", "agents"] as const;
export const SOURCE_FILES = ["build.ts", "package.json", "package-lock.json", "tsconfig.json"] as const;
export const SOURCE_DIGEST_COMMAND = `git ls-files ${[...SOURCE_DIRS, ...SOURCE_FILES].join(" ")} | LC_ALL=C sort | xargs sha256sum | sha256sum`;

/** One first-party input of the build (a source file, an agent file, the package and lock files). */
export interface SourceFileHash {
  /** Path relative to the repository root, `/`-separated. */
  path: string;
  sha256: string;
}

export interface BuildManifest {
  schema: typeof MANIFEST_SCHEMA;
  name: string;
  version: string;
  /** The release asset this build is, as named in checksums.txt (e.g. `codex-subagents-linux-x64`). */
  asset: string;
  /** `executable`: a Bun-compiled program (hash `process.execPath`); `script`: the `.mjs` (hash the file itself). */
  kind: "executable" | "script";
  /** Bun's compile target (`bun-linux-x64`…), or `node>=20|deno|bun` for the script. */
  target: string;
  /** The Bun that built it, and for an executable the pinned runtime it was compiled onto. */
  bun: {
    version: string;
    runtime: { package: string; version: string; integrity: string; sha256: string } | null;
  };
  /** The bundler options that shape the bytes, as build.ts passed them. */
  buildFlags: string[];
  source: {
    /** SHA-256 of the `sha256sum`-format listing of `files` (sorted by path): one value to compare. */
    digest: string;
    files: SourceFileHash[];
  };
  /** The minisign public key (base64 line) that signs this project's checksums.txt, if the project has one. */
  signingKey: string | null;
  sbom: CycloneDxBom;
}

// Replaced by build.ts (`define`) with the manifest as a JSON string literal; absent when running from source.
declare const __CODEX_SUBAGENTS_BUILD_MANIFEST__: string | undefined;

/** The manifest embedded at build time, or null when running from source (`bun src/cli.ts`). */
export function embeddedManifest(): BuildManifest | null {
  if (typeof __CODEX_SUBAGENTS_BUILD_MANIFEST__ !== "string") return null;
  return JSON.parse(__CODEX_SUBAGENTS_BUILD_MANIFEST__) as BuildManifest;
}

/** The listing whose SHA-256 is `source.digest`: exactly what `sha256sum FILES` prints, sorted by path. */
export function sourceListing(files: readonly SourceFileHash[]): string {
  return formatChecksums(files.map((f) => ({ name: f.path, sha256: f.sha256 })));
}

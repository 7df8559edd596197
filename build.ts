/**
 * Builds codex-subagents: one compiled executable per target and one `.mjs`, byte-for-byte reproducible.
 *
 *   bun run build.ts                      host executable → dist/codex-subagents (fast; runs before every test run)
 *   bun run build.ts --release            the five release assets, codex-subagents.mjs and checksums.txt → dist/
 *   bun run build.ts --check              rebuild the committed tree (HEAD) in a temporary directory and compare
 *                                         with ./checksums.txt; exit 1 naming every asset that differs
 *   bun run build.ts --update-checksums   the same rebuild, written to ./checksums.txt (commit it afterwards)
 *
 * Options: --out DIR (default dist), --only ASSET[,ASSET…] (with --release only; otherwise refused, exit 64),
 * --entry FILE (default src/cli.ts). A wrong command line exits 64, a failed build 1.
 * Environment: CODEX_SUBAGENTS_RUNTIME_CACHE, where the pinned Bun runtimes are kept
 * (default node_modules/.cache/codex-subagents/bun-runtimes).
 *
 * What makes the bytes reproducible (docs/VERIFY.md): the pinned Bun, the pinned target runtimes below
 * (checked by hash before use), fixed bundler options, a build manifest with no timestamp, no git commit id
 * and no build-machine path, and an output file name that is the asset name (Bun embeds it).
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { onceOf, parseFlags } from "./src/args.ts";
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./src/errors.ts";
import { formatChecksums, parseChecksums } from "./src/verify/checksums.ts";
import { MANIFEST_SCHEMA, SOURCE_DIRS, SOURCE_FILES, sourceListing, type BuildManifest, type SourceFileHash } from "./src/verify/manifest.ts";
import { buildSbom, packageDirOf, vendoredPackagesOf, type Lockfile, type VendoredPackage } from "./src/verify/sbom.ts";

/** The only Bun a release may be built with: other versions produce other bytes. */
export const PINNED_BUN_VERSION = "1.4.5";

/** The minisign public key that signs checksums.txt (the base64 line of `minisign.pub`), once the project has one. */
const SIGNING_PUBLIC_KEY: string | null = null;

interface Target {
  asset: string;
  bunTarget: string;
  /** The npm package holding this target's Bun runtime, fetched with `npm pack`. */
  runtimePackage: string;
  /** npm's integrity of the package tarball (as in the registry) and the SHA-256 of the runtime binary inside it. */
  tarballIntegrity: string;
  runtimeSha256: string;
  runtimeFile: string;
  platform: NodeJS.Platform;
  arch: string;
}

/**
 * The release targets, one asset each (their names are public: checksums.txt lists them), each pinned to a runtime
 * by hash. Check a new Bun version's hashes before changing them.
 */
export const TARGETS: readonly Target[] = [
  {
    asset: "codex-subagents-linux-x64",
    bunTarget: "bun-linux-x64",
    runtimePackage: "@oven/bun-linux-x64",
    tarballIntegrity: "sha512-IWX9BELoGHAUtMonkeSaNaZwXzRk+oDw6Mk+HBFXd3KHYIBNBsIGRupMZPcgNoDbJpLu6gAJjIoIVPZtt1aJ1g==",
    runtimeSha256: "f05d28a3862f4b84395c7fa32480b835dd47482e80b7e7a49a115227f0c06083",
    runtimeFile: "package/bin/bun",
    platform: "linux",
    arch: "x64",
  },
  {
    asset: "codex-subagents-linux-arm64",
    bunTarget: "bun-linux-arm64",
    runtimePackage: "@oven/bun-linux-aarch64",
    tarballIntegrity: "sha512-4BXmsSKnjOrlGWqZV4x/oWa7AVoR+B6lCXddMzOAXBIm3t50eslg9wb66gmtW1AamEQ1l1CDvmmruysEhqOWMg==",
    runtimeSha256: "04778f1f42399a69d086853e9c7af4acf574b2f21a43d0dc673853d8b84a2923",
    runtimeFile: "package/bin/bun",
    platform: "linux",
    arch: "arm64",
  },
  {
    asset: "codex-subagents-darwin-x64",
    bunTarget: "bun-darwin-x64",
    runtimePackage: "@oven/bun-darwin-x64",
    tarballIntegrity: "sha512-qkLPMGHZM9NI6CeHTWwVezzmlo6cC4Ta7yUAjYIWXS366qQcOlcp75t2uZyiuVRBMPS0h9qE0tCcvCHGaFqjJg==",
    runtimeSha256: "88f97645b270aef20f9f9442f1658461cab3e7128e658af4615144e3396f084a",
    runtimeFile: "package/bin/bun",
    platform: "darwin",
    arch: "x64",
  },
  {
    asset: "codex-subagents-darwin-arm64",
    bunTarget: "bun-darwin-arm64",
    runtimePackage: "@oven/bun-darwin-aarch64",
    tarballIntegrity: "sha512-4MIFXHmctH2EhAxLXm2/qxNtv17dFtLJylvaOCsrgq6KSqHTs6eW5YSrJjRbJxYUJaR901fsN8JfZOa+CsWpWQ==",
    runtimeSha256: "e2984124f1514e1e6bbda20adedbf07a02c443c6a5828853a15c7c7abf78e19f",
    runtimeFile: "package/bin/bun",
    platform: "darwin",
    arch: "arm64",
  },
  {
    asset: "codex-subagents-windows-x64.exe",
    bunTarget: "bun-windows-x64",
    runtimePackage: "@oven/bun-windows-x64",
    tarballIntegrity: "sha512-FNvply651vcE/GHgNWz6mZvhmkwBuu8Hw54oNzA+CQog+HW+542rXQmZqNHRkFxazD9L3xi+iTtvO3engAgJfw==",
    runtimeSha256: "e06ad0864463c68892ae71a2a64af7eae1585cac5dd9b80bc042f45605587cb1",
    runtimeFile: "package/bin/bun.exe",
    platform: "win32",
    arch: "x64",
  },
];

export const SCRIPT_ASSET = "codex-subagents.mjs";

/**
 * JavaScriptCore's tier-up thresholds ×8 at start: start-up code is run-once, compiling it costs more than it
 * saves (bench/startup.ts: ~65 → ~40 ms to the initialize answer). The server may call
 * `Bun.unsafe.setJITPolicy(1)` once it has answered `initialize`.
 */
export const JIT_POLICY = 8;

/**
 * The bundler options, in one place: both what build.ts passes and what the manifest records.
 * `--bytecode` halves start-up (bench/startup.ts); with Bun 1.4.5 it is reproducible across directories,
 * which test/build/reproducible.test.ts keeps proving. `identifiers` stay unminified so crash traces stay readable.
 */
const EXECUTABLE_FLAGS = ["--compile", "--bytecode", "--format=esm", "--minify-whitespace", "--minify-syntax", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", `--compile-jit-policy=${JIT_POLICY}`, "--sourcemap=none"];
const SCRIPT_FLAGS = ["--target=node", "--format=esm", "--minify-whitespace", "--minify-syntax", "--sourcemap=none"];
/** The `.mjs` starts with this line whatever the entry's own shebang says (`bun` would be wrong for Node users). */
const SCRIPT_SHEBANG = "#!/usr/bin/env node\n";
const MINIFY = { whitespace: true, syntax: true, identifiers: false };

/**
 * The MCP SDK's platform module (`@modelcontextprotocol/server/_shims`, which it resolves per runtime) is replaced by
 * src/sdk-platform.ts in every bundle: the SDK's own brings the ajv it compiled in, for features this server does not
 * use (see that file). The SBOM follows, since it is read from a bundle made with the same plugins.
 */
export const BUNDLE_PLUGINS: Bun.BunPlugin[] = [
  {
    name: "sdk-platform",
    setup(build) {
      build.onResolve({ filter: /^@modelcontextprotocol\/server\/_shims$/ }, () => ({ path: join(ROOT, "src", "sdk-platform.ts") }));
    },
  },
];
const MANIFEST_GLOBAL = "__CODEX_SUBAGENTS_BUILD_MANIFEST__";


const ROOT = dirname(Bun.fileURLToPath(import.meta.url));

/** Thrown, not `process.exit`, so `finally` blocks still remove temporary directories. */
class BuildError extends Error {}

function fail(message: string): never {
  throw new BuildError(message);
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function fileSha256(path: string): string {
  const hash = createHash("sha256");
  hash.update(readFileSync(path));
  return hash.digest("hex");
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path) : entry.isFile() ? [path] : [];
  });
}

export function sourceFiles(root: string): SourceFileHash[] {
  const paths = [...SOURCE_DIRS.flatMap((d) => walk(join(root, d))), ...SOURCE_FILES.map((f) => join(root, f)).filter(existsSync)];
  return paths
    .map((p) => ({ path: relative(root, p).split("\\").join("/"), sha256: fileSha256(p) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

interface ProjectFacts {
  name: string;
  version: string;
  directDependencies: string[];
  lockfile: Lockfile;
  files: SourceFileHash[];
  digest: string;
}

function projectFacts(root: string): ProjectFacts {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string; version: string; dependencies?: Record<string, string> };
  const lockfile = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lockfile;
  const files = sourceFiles(root);
  return {
    name: pkg.name,
    version: pkg.version,
    directDependencies: Object.keys(pkg.dependencies ?? {}),
    lockfile,
    files,
    digest: sha256(sourceListing(files)),
  };
}

/** The modules really bundled, from the bundler's metafile: the base of the SBOM. */
async function bundledPaths(entry: string, target: "bun" | "node"): Promise<string[]> {
  const result = await Bun.build({ entrypoints: [entry], target, format: "esm", metafile: true, plugins: BUNDLE_PLUGINS, throw: false });
  if (!result.success) fail(`bundling ${entry} failed:\n${result.logs.map(String).join("\n")}`);
  const raw: unknown = result.metafile;
  const meta = (typeof raw === "string" ? JSON.parse(raw) : raw) as { inputs: Record<string, unknown> };
  return Object.keys(meta.inputs);
}

/**
 * By lockfile key, the packages compiled into the bundled files of each bundled package, from the sourcemap each
 * such file ships beside it (`FILE.map`); a file without one adds nothing. For the SBOM's nested components.
 */
function vendoredIn(bundled: readonly string[]): Record<string, VendoredPackage[]> {
  const sourcesByKey = new Map<string, string[]>();
  for (const file of bundled) {
    const key = packageDirOf(file);
    const map = `${resolve(file)}.map`;
    if (key === null || !existsSync(map)) continue;
    const sources: unknown = (JSON.parse(readFileSync(map, "utf8")) as { sources?: unknown }).sources;
    if (Array.isArray(sources)) sourcesByKey.set(key, [...(sourcesByKey.get(key) ?? []), ...sources.filter((s): s is string => typeof s === "string")]);
  }
  const byKey: Record<string, VendoredPackage[]> = {};
  for (const [key, sources] of sourcesByKey) {
    const own = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
    const vendored = vendoredPackagesOf(sources).filter((v) => v.name !== own);
    if (vendored.length > 0) byKey[key] = vendored;
  }
  return byKey;
}

function manifestFor(facts: ProjectFacts, options: { asset: string; kind: BuildManifest["kind"]; target: string; flags: string[]; runtime: BuildManifest["bun"]["runtime"]; bundled: string[] }): BuildManifest {
  return {
    schema: MANIFEST_SCHEMA,
    name: facts.name,
    version: facts.version,
    asset: options.asset,
    kind: options.kind,
    target: options.target,
    bun: { version: Bun.version, runtime: options.runtime },
    buildFlags: options.flags,
    source: { digest: facts.digest, files: facts.files },
    signingKey: SIGNING_PUBLIC_KEY,
    sbom: buildSbom({
      name: facts.name,
      version: facts.version,
      asset: options.asset,
      bundledPaths: options.bundled,
      vendored: vendoredIn(options.bundled),
      lockfile: facts.lockfile,
      directDependencies: facts.directDependencies,
      bunVersion: Bun.version,
      ...(options.runtime ? { runtime: options.runtime } : {}),
    }),
  };
}

/** Compiles to `<outDir>/<asset>`: the output name is embedded in the executable, so it is always the asset name. */
async function compileExecutable(entry: string, outDir: string, target: Target, manifest: BuildManifest, runtimePath: string | null): Promise<string> {
  const outfile = join(outDir, target.asset);
  const result = await Bun.build({
    entrypoints: [entry],
    target: "bun",
    format: "esm",
    bytecode: true,
    minify: MINIFY,
    sourcemap: "none",
    define: { [MANIFEST_GLOBAL]: JSON.stringify(JSON.stringify(manifest)) },
    plugins: BUNDLE_PLUGINS,
    compile: {
      target: target.bunTarget as Bun.Build.CompileTarget,
      outfile,
      autoloadDotenv: false,
      autoloadBunfig: false,
      jitPolicy: JIT_POLICY,
      ...(runtimePath ? { executablePath: runtimePath } : {}),
    },
    throw: false,
  });
  if (!result.success) fail(`compiling ${target.asset} failed:\n${result.logs.map(String).join("\n")}`);
  return outfile;
}

async function bundleScript(entry: string, outDir: string, manifest: BuildManifest): Promise<string> {
  const result = await Bun.build({
    entrypoints: [entry],
    target: "node",
    format: "esm",
    minify: MINIFY,
    sourcemap: "none",
    define: { [MANIFEST_GLOBAL]: JSON.stringify(JSON.stringify(manifest)) },
    plugins: BUNDLE_PLUGINS,
    throw: false,
  });
  if (!result.success || result.outputs.length !== 1) fail(`bundling ${SCRIPT_ASSET} failed:\n${result.logs.map(String).join("\n")}`);
  const outfile = join(outDir, SCRIPT_ASSET);
  const code = (await result.outputs[0]!.text()).replace(/^#![^\n]*\n/, "");
  writeFileSync(outfile, SCRIPT_SHEBANG + code);
  chmodSync(outfile, 0o755);
  return outfile;
}

function runtimeCacheDir(): string {
  return resolve(process.env.CODEX_SUBAGENTS_RUNTIME_CACHE ?? join(ROOT, "node_modules", ".cache", "codex-subagents", "bun-runtimes"));
}

/** The pinned runtime for a target: fetched with `npm pack` once, checked against both recorded hashes every time. */
function pinnedRuntime(target: Target): string {
  const cache = join(runtimeCacheDir(), `${target.runtimePackage.replace("/", "+")}@${PINNED_BUN_VERSION}`);
  const binary = join(cache, target.runtimeFile);
  if (existsSync(binary) && fileSha256(binary) === target.runtimeSha256) return binary;

  mkdirSync(cache, { recursive: true });
  const spec = `${target.runtimePackage}@${PINNED_BUN_VERSION}`;
  process.stderr.write(`build.ts: fetching ${spec} with npm pack\n`);
  const pack = spawnSync("npm", ["pack", spec, "--pack-destination", cache, "--json", "--silent"], { encoding: "utf8" });
  if (pack.status !== 0) fail(`npm pack ${spec} failed (exit ${pack.status}): ${pack.stderr.trim()}`);
  const [packed] = JSON.parse(pack.stdout) as { filename: string }[];
  const tarball = join(cache, basename(packed!.filename));
  const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  // Security: a registry or cache that serves different bytes must stop the release, not change it.
  if (integrity !== target.tarballIntegrity) fail(`${spec}: tarball integrity ${integrity} is not the pinned ${target.tarballIntegrity}; refusing to build`);
  const untar = spawnSync("tar", ["-xzf", tarball, "-C", cache, target.runtimeFile], { encoding: "utf8" });
  if (untar.status !== 0) fail(`extracting ${target.runtimeFile} from ${tarball} failed: ${untar.stderr.trim()}`);
  rmSync(tarball);
  const actual = fileSha256(binary);
  if (actual !== target.runtimeSha256) fail(`${spec}: ${target.runtimeFile} has sha256 ${actual}, not the pinned ${target.runtimeSha256}; refusing to build`);
  chmodSync(binary, 0o755);
  return binary;
}

function runtimeFacts(target: Target): NonNullable<BuildManifest["bun"]["runtime"]> {
  return { package: target.runtimePackage, version: PINNED_BUN_VERSION, integrity: target.tarballIntegrity, sha256: target.runtimeSha256 };
}

function hostTarget(): Target | undefined {
  return TARGETS.find((t) => t.platform === process.platform && t.arch === process.arch);
}

function report(files: string[]): void {
  for (const file of files) {
    const size = statSync(file).size;
    process.stdout.write(`${fileSha256(file)}  ${basename(file)}  ${(size / 1e6).toFixed(1)} MB\n`);
  }
}

/** `bun run build.ts`: one executable for this machine, byte-identical to its release asset when Bun is the pinned one. */
async function buildHost(entry: string, outDir: string): Promise<void> {
  const target = hostTarget();
  if (!target) fail(`no release target for ${process.platform}-${process.arch}; targets: ${TARGETS.map((t) => t.bunTarget).join(", ")}`);
  const facts = projectFacts(ROOT);
  // The host build copies the running Bun; it matches the release only when that Bun is the pinned runtime.
  const runningSha = fileSha256(process.execPath);
  const pinned = Bun.version === PINNED_BUN_VERSION && runningSha === target.runtimeSha256;
  if (!pinned) {
    process.stderr.write(`build.ts: warning: this Bun (${Bun.version}, sha256 ${runningSha.slice(0, 16)}…) is not the pinned ${PINNED_BUN_VERSION} runtime; dist/codex-subagents will not match the release asset. Use node_modules/.bin/bun.\n`);
  }
  const runtime = pinned ? runtimeFacts(target) : { package: "unpinned bun", version: Bun.version, integrity: "", sha256: runningSha };
  const manifest = manifestFor(facts, {
    asset: target.asset,
    kind: "executable",
    target: target.bunTarget,
    flags: [...EXECUTABLE_FLAGS, `--target=${target.bunTarget}`],
    runtime,
    bundled: await bundledPaths(entry, "bun"),
  });
  const staging = mkdtempSync(join(outDir, ".build-"));
  try {
    const built = await compileExecutable(entry, staging, target, manifest, null);
    const finalPath = join(outDir, target.platform === "win32" ? "codex-subagents.exe" : "codex-subagents");
    renameSync(built, finalPath);
    report([finalPath]);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function buildRelease(entry: string, outDir: string, only: string[] | null): Promise<void> {
  if (Bun.version !== PINNED_BUN_VERSION) {
    fail(`a release must be built with Bun ${PINNED_BUN_VERSION} (this is ${Bun.version}); run: node_modules/.bin/bun run build.ts --release`);
  }
  const known = [...TARGETS.map((t) => t.asset), SCRIPT_ASSET];
  for (const name of only ?? []) if (!known.includes(name)) fail(`--only: unknown asset "${name}"; assets: ${known.join(", ")}`);
  const wanted = (name: string) => only === null || only.includes(name);
  const facts = projectFacts(ROOT);
  const dirty = spawnSync("git", ["status", "--porcelain", "--", ...SOURCE_DIRS, ...SOURCE_FILES], { cwd: ROOT, encoding: "utf8" });
  if (dirty.status === 0 && dirty.stdout.trim() !== "") {
    process.stderr.write("build.ts: warning: the source has uncommitted changes; this release will not match checksums.txt of the committed tree\n");
  }
  const bunBundled = await bundledPaths(entry, "bun");
  const built: { name: string; sha256: string; path: string }[] = [];
  for (const target of TARGETS.filter((t) => wanted(t.asset))) {
    const runtimePath = pinnedRuntime(target);
    const manifest = manifestFor(facts, {
      asset: target.asset,
      kind: "executable",
      target: target.bunTarget,
      // The same flags as the host build: with the pinned runtime, dist/codex-subagents equals its release asset.
      flags: [...EXECUTABLE_FLAGS, `--target=${target.bunTarget}`],
      runtime: runtimeFacts(target),
      bundled: bunBundled,
    });
    const path = await compileExecutable(entry, outDir, target, manifest, runtimePath);
    built.push({ name: target.asset, sha256: fileSha256(path), path });
  }
  if (wanted(SCRIPT_ASSET)) {
    const manifest = manifestFor(facts, {
      asset: SCRIPT_ASSET,
      kind: "script",
      target: "node>=20|deno|bun",
      flags: SCRIPT_FLAGS,
      runtime: null,
      bundled: await bundledPaths(entry, "node"),
    });
    const path = await bundleScript(entry, outDir, manifest);
    built.push({ name: SCRIPT_ASSET, sha256: fileSha256(path), path });
  }
  writeFileSync(join(outDir, "checksums.txt"), formatChecksums(built));
  report(built.map((b) => b.path));
}

/** Copies HEAD's build inputs (and only the production packages from node_modules) into a fresh directory. */
export function stageCommittedTree(repo: string, into: string): void {
  const archive = join(into, ".source.tar");
  const git = spawnSync("git", ["archive", "--format=tar", "-o", archive, "HEAD", "--", ...SOURCE_DIRS, ...SOURCE_FILES], { cwd: repo, encoding: "utf8" });
  if (git.status !== 0) fail(`git archive HEAD failed in ${repo}: ${git.stderr.trim()}`);
  const tar = spawnSync("tar", ["-xf", archive, "-C", into], { encoding: "utf8" });
  if (tar.status !== 0) fail(`unpacking the source archive failed: ${tar.stderr.trim()}`);
  rmSync(archive);
  copyProductionModules(repo, into);
}

/** node_modules entries that package-lock.json does not mark dev-only: all the bundler may ever see. */
export function copyProductionModules(repo: string, into: string): void {
  const lockfile = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as Lockfile;
  for (const [key, entry] of Object.entries(lockfile.packages)) {
    if (!key.startsWith("node_modules/") || entry.dev) continue;
    const from = join(repo, key);
    if (!existsSync(from)) continue;
    cpSync(from, join(into, key), {
      recursive: true,
      // Nested packages have their own lock entry; copy each once, and skip any dev package nested here.
      filter: (src) => src === from || !relative(from, src).split(/[\\/]/).includes("node_modules"),
    });
  }
}

/** Rebuild HEAD where nothing from this working tree can leak in, and compare with (or write) ./checksums.txt. */
async function checkCommitted(write: boolean): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "codex-subagents-release-"));
  try {
    stageCommittedTree(ROOT, work);
    const build = spawnSync(process.execPath, ["run", join(work, "build.ts"), "--release"], {
      cwd: work,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, CODEX_SUBAGENTS_RUNTIME_CACHE: runtimeCacheDir() },
    });
    if (build.status !== 0) fail(`the release build of HEAD failed (exit ${build.status})`);
    const rebuilt = readFileSync(join(work, "dist", "checksums.txt"), "utf8");
    const committedPath = join(ROOT, "checksums.txt");
    if (write) {
      writeFileSync(committedPath, rebuilt);
      process.stdout.write(`wrote ${committedPath}; commit it\n`);
      return;
    }
    const committed = existsSync(committedPath) ? readFileSync(committedPath, "utf8") : "";
    const want = new Map(parseChecksums(rebuilt).entries.map((e) => [e.name, e.sha256]));
    const have = new Map(parseChecksums(committed).entries.map((e) => [e.name, e.sha256]));
    const problems: string[] = [];
    for (const [name, sha] of want) {
      const listed = have.get(name);
      if (listed === undefined) problems.push(`${name}: missing from checksums.txt (the rebuild gives ${sha})`);
      else if (listed !== sha) problems.push(`${name}: checksums.txt says ${listed}, the rebuild of HEAD gives ${sha}`);
    }
    for (const name of have.keys()) if (!want.has(name)) problems.push(`${name}: listed in checksums.txt but not built`);
    if (problems.length === 0 && committed !== rebuilt) problems.push("checksums.txt has the right hashes but not in the canonical form (sorted, `<hash>  <name>`)");
    if (problems.length > 0) {
      fail(`checksums.txt does not match the release build of HEAD:\n${problems.map((p) => `  ${p}`).join("\n")}\nhint: run \`bun run build.ts --update-checksums\` and commit checksums.txt`);
    }
    process.stdout.write(`checksums.txt matches the release build of HEAD (${want.size} assets)\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const BUILD_USAGE = "usage: bun run build.ts [--release [--only ASSET,…] | --check | --update-checksums] [--out DIR] [--entry FILE]";

/** The build's flags, read by the same helper as the program's own (src/args.ts). */
const BUILD_FLAGS = {
  release: { type: "boolean" },
  check: { type: "boolean" },
  "update-checksums": { type: "boolean" },
  out: { type: "string" },
  only: { type: "string" },
  entry: { type: "string" },
} as const;

/** argv → what to build; a wrong command line is a UsageError (exit 64), refused before any work. */
export function parseBuildArgs(argv: readonly string[]): { mode: "--release" | "--check" | "--update-checksums" | null; out?: string; only: string[] | null; entry?: string } {
  const parsed = parseFlags(argv, BUILD_FLAGS, { unknown: (flag) => ({ message: `unknown argument "${flag}"; ${BUILD_USAGE}` }) });
  if (parsed.positionals.length > 0) throw new UsageError(`unknown argument "${parsed.positionals[0]}"; ${BUILD_USAGE}`);
  const modes = (["--release", "--check", "--update-checksums"] as const).filter((m) => parsed.values.has(m));
  if (modes.length > 1) throw new UsageError(`choose one of ${modes.join(", ")}`);
  const value = (flag: string): string | undefined => {
    const given = onceOf(parsed, flag);
    if (given === "" || given?.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    return given;
  };
  const only = value("--only");
  // --only picks release assets; without --release it would be silently ignored, so it is refused.
  if (only !== undefined && modes[0] !== "--release") throw new UsageError(`--only works with --release only; e.g. bun run build.ts --release --only ${SCRIPT_ASSET}`);
  return { mode: modes[0] ?? null, out: value("--out"), only: only?.split(",") ?? null, entry: value("--entry") };
}

async function main(argv: string[]): Promise<void> {
  const args = parseBuildArgs(argv);
  const entry = resolve(ROOT, args.entry ?? "src/cli.ts");
  if (!existsSync(entry)) fail(`entry ${entry} does not exist`);
  const outDir = resolve(ROOT, args.out ?? "dist");
  mkdirSync(outDir, { recursive: true });
  // Bun resolves relative to the working directory in some places: build from the root, always.
  process.chdir(ROOT);
  const mode = args.mode;
  if (mode === "--check" || mode === "--update-checksums") return checkCommitted(mode === "--update-checksums");
  if (mode === "--release") return buildRelease(entry, outDir, args.only);
  return buildHost(entry, outDir);
}

if (import.meta.main) {
  try {
    await main(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`build.ts: error: ${error.message}\n`);
      process.exit(EXIT_USAGE);
    }
    if (!(error instanceof BuildError)) throw error;
    process.stderr.write(`build.ts: error: ${error.message}\n`);
    process.exit(EXIT_FAILURE);
  }
}

/**
 * Find the codex the server would start, the way a spawn without a shell finds it: a path as given, or the first
 * match on PATH. On Windows a bare name only finds `.com`/`.exe` files; an npm `.cmd` shim needs cmd.exe, which the
 * server never uses, so the shim is read to name the real executable behind it.
 */
import { open, stat } from "node:fs/promises";
import path from "node:path";
import { SERVER_OPTIONS, type ServerOptions } from "../config.ts";
import { absolutePathEntries } from "../policy/env.ts";

export type CodexSource = "--codex" | "CODEX_SUBAGENTS_CODEX" | "PATH";

/** Where the codex command came from, as the option parse recorded it (for the messages about it). */
export function codexSourceOf(options: Pick<ServerOptions, "sources">): CodexSource {
  const source = options.sources.codex;
  return source === SERVER_OPTIONS.codex.flag ? "--codex" : source === SERVER_OPTIONS.codex.env ? "CODEX_SUBAGENTS_CODEX" : "PATH";
}

export interface CodexLocation {
  /** The command as configured: a path, or a bare name looked up on PATH. */
  command: string;
  source: CodexSource;
  /** The file the lookup found (possibly a shim), or null. */
  found: string | null;
  /** What can be spawned without a shell: the found file, or the executable behind a shim; null when none. */
  runnable: string | null;
  /** Why the server as configured cannot start `found`, with the fix. */
  problem?: { detail: string; hint: string };
}

export interface FindCodexOptions {
  command: string;
  source: CodexSource;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  platform?: NodeJS.Platform;
  arch?: string;
}

/** Windows shims a shell would run but a plain spawn cannot. */
const SHIM_EXTENSIONS = [".cmd", ".bat"];
const MAX_SHIM_BYTES = 64 * 1024;

function isShim(file: string, windows: boolean): boolean {
  return windows && SHIM_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

async function isRunnableFile(file: string, windows: boolean): Promise<boolean> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return false;
    // Execute bits from stat rather than access(X_OK): Deno's access() needs --allow-sys to learn our uid.
    return windows || (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function envValue(env: FindCodexOptions["env"], name: string, windows: boolean): string | undefined {
  if (!windows) return env[name];
  const key = Object.keys(env).find((k) => k.toUpperCase() === name);
  return key === undefined ? undefined : env[key];
}

/** The names a spawn without a shell tries for `command` in one directory (libuv: .com, .exe for a bare name). */
function spawnNames(command: string, windows: boolean): string[] {
  if (!windows || path.extname(command) !== "") return [command];
  return [`${command}.com`, `${command}.exe`];
}

/** The Rust target triple of codex's native binary, as @openai/codex's launcher names its vendor directory. */
function targetTriple(platform: NodeJS.Platform, arch: string): { triple: string; pkg: string; exe: string } | null {
  const table: Record<string, [string, string]> = {
    "win32-x64": ["x86_64-pc-windows-msvc", "@openai/codex-win32-x64"],
    "win32-arm64": ["aarch64-pc-windows-msvc", "@openai/codex-win32-arm64"],
    "linux-x64": ["x86_64-unknown-linux-musl", "@openai/codex-linux-x64"],
    "linux-arm64": ["aarch64-unknown-linux-musl", "@openai/codex-linux-arm64"],
    "darwin-x64": ["x86_64-apple-darwin", "@openai/codex-darwin-x64"],
    "darwin-arm64": ["aarch64-apple-darwin", "@openai/codex-darwin-arm64"],
  };
  const entry = table[`${platform}-${arch}`];
  if (!entry) return null;
  return { triple: entry[0], pkg: entry[1], exe: platform === "win32" ? "codex.exe" : "codex" };
}

/**
 * The native codex binary behind @openai/codex's `bin/codex.js` launcher: in the platform package, nested under the
 * launcher's package or hoisted beside it, else in the launcher package's own vendor directory.
 */
export async function nativeBinaryForLauncher(launcher: string, platform: NodeJS.Platform, arch: string): Promise<string | null> {
  const target = targetTriple(platform, arch);
  if (!target) return null;
  const packageRoot = path.dirname(path.dirname(launcher));
  const scopeDir = path.dirname(packageRoot);
  const pkgName = target.pkg.split("/")[1]!;
  const candidates = [
    path.join(packageRoot, "node_modules", "@openai", pkgName, "vendor", target.triple, "bin", target.exe),
    path.join(scopeDir, pkgName, "vendor", target.triple, "bin", target.exe),
    path.join(packageRoot, "vendor", target.triple, "bin", target.exe),
  ];
  for (const candidate of candidates) {
    if (await isRunnableFile(candidate, platform === "win32")) return candidate;
  }
  return null;
}

/**
 * What an npm (cmd-shim) `.cmd` file runs: the last `"%dp0%\…"` path in it that is not node itself, resolved against
 * the shim's directory. Pure text parsing, so it is tested on any platform.
 */
export function shimTarget(shimFile: string, text: string): string | null {
  const matches = [...text.matchAll(/"%~?dp0%?\\([^"%]+)"/gi)].map((m) => m[1]!).filter((rel) => !/(^|\\)node(\.exe)?$/i.test(rel));
  const rel = matches.at(-1);
  if (rel === undefined) return null;
  return path.join(path.dirname(shimFile), ...rel.split("\\").filter(Boolean));
}

async function resolveShim(shim: string, platform: NodeJS.Platform, arch: string): Promise<string | null> {
  let text: string;
  try {
    const handle = await open(shim, "r");
    try {
      const buffer = Buffer.alloc(MAX_SHIM_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, MAX_SHIM_BYTES, 0);
      text = buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
  const target = shimTarget(shim, text);
  if (!target) return null;
  const windows = platform === "win32";
  if (/\.(exe|com)$/i.test(target)) return (await isRunnableFile(target, windows)) ? target : null;
  if (/\.[cm]?js$/i.test(target)) return nativeBinaryForLauncher(target, platform, arch);
  return null;
}

function quoteArg(value: string): string {
  return /[\s"']/.test(value) ? `"${value}"` : value;
}

async function shimProblem(location: CodexLocation, shim: string, platform: NodeJS.Platform, arch: string): Promise<CodexLocation> {
  const native = await resolveShim(shim, platform, arch);
  const how = location.source === "PATH" ? "codex on PATH" : `${location.source} "${location.command}"`;
  return {
    ...location,
    found: shim,
    runnable: native,
    problem: native
      ? {
          detail: `${how} is a script shim (${shim}) that only a shell can run, and the server starts codex without one`,
          hint: `pass --codex ${quoteArg(native)} (or set CODEX_SUBAGENTS_CODEX to it): that is the codex executable the shim runs`,
        }
      : {
          detail: `${how} is a script shim (${shim}) that only a shell can run, and the executable behind it was not found`,
          hint: "pass --codex with the full path of codex.exe (inside the @openai/codex-win32-* package's vendor\\...\\bin directory), or reinstall codex: npm install -g @openai/codex",
        },
  };
}

/**
 * Where `git` is: the first executable `git` (`git.exe` on Windows) in an absolute PATH entry, or null. Resolved once
 * at start-up; every git the server runs is this file (src/workspace/git.ts).
 */
export async function findGit(env: FindCodexOptions["env"], platform: NodeJS.Platform = process.platform): Promise<string | null> {
  const windows = platform === "win32";
  for (const dir of absolutePathEntries(envValue(env, "PATH", windows) ?? "", windows)) {
    for (const name of spawnNames("git", windows)) {
      const candidate = path.join(dir, name);
      if (await isRunnableFile(candidate, windows)) return candidate;
    }
  }
  return null;
}

export async function findCodex(opts: FindCodexOptions): Promise<CodexLocation> {
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const windows = platform === "win32";
  const base: CodexLocation = { command: opts.command, source: opts.source, found: null, runnable: null };
  const isPath = opts.command.includes("/") || (windows && opts.command.includes("\\")) || path.isAbsolute(opts.command);
  const installHint = "install codex (npm install -g @openai/codex), or pass --codex /full/path/to/codex (or set CODEX_SUBAGENTS_CODEX)";

  if (isPath) {
    const file = path.resolve(opts.cwd, opts.command);
    for (const name of spawnNames(file, windows)) {
      if (!(await isRunnableFile(name, windows))) continue;
      return isShim(name, windows) ? shimProblem(base, name, platform, arch) : { ...base, found: name, runnable: name };
    }
    const exists = await stat(file).then(() => true, () => false);
    return {
      ...base,
      problem: {
        detail: exists ? `${opts.source} "${opts.command}" is not an executable file` : `${opts.source} "${opts.command}" does not exist`,
        hint: exists ? `make it executable (chmod +x ${quoteArg(file)}) or point ${opts.source} at the codex executable` : installHint,
      },
    };
  }

  const dirs = absolutePathEntries(envValue(opts.env, "PATH", windows) ?? "", windows);
  let shim: string | null = null;
  for (const absoluteDir of dirs) {
    for (const name of spawnNames(opts.command, windows)) {
      const candidate = path.join(absoluteDir, name);
      if (!(await isRunnableFile(candidate, windows))) continue;
      return isShim(candidate, windows) ? shimProblem(base, candidate, platform, arch) : { ...base, found: candidate, runnable: candidate };
    }
    if (windows && shim === null && path.extname(opts.command) === "") {
      for (const ext of SHIM_EXTENSIONS) {
        const candidate = path.join(absoluteDir, `${opts.command}${ext}`);
        if (await isRunnableFile(candidate, true)) {
          shim = candidate;
          break;
        }
      }
    }
  }
  if (shim) return shimProblem(base, shim, platform, arch);
  return {
    ...base,
    problem: {
      detail: `"${opts.command}" was not found on PATH (${dirs.length} director${dirs.length === 1 ? "y" : "ies"} searched; relative entries are ignored)`,
      hint: installHint,
    },
  };
}

// `worktree_deps`: ignored directories of the user's tree (node_modules, .venv, a cargo `target`) made available in a
// sub-agent's worktree, so it can run the project's tests. A fresh checkout of HEAD has none of them.
//
//   link (default)  a symlink at the same place in the worktree to the user's real directory. Read through freely;
//                   a write through it lands outside the sub-agent's working directory, which a `workspace-write`
//                   sandbox refuses ("Read-only file system"). Costs nothing, whatever the size.
//   copy            a private copy (copy-on-write clone where the file system can), for tools that write into their
//                   own dependency directory (some test runners keep caches under node_modules/.cache; cargo writes
//                   its `target`). Bounded by a size cap; the copy is removed with the worktree.
//
// Security: the threats, and what stops each.
// - A path that leaves the repository (`..`, absolute, a symlink on the way): the path must be plain relative
//   segments, and its real path must be exactly where it was named inside the repository's real top level.
// - Exposing something the sub-agent should not get through a link: only directories git ignores (`git check-ignore`
//   against the server's private git directory, reading no config of the repository's, the user's or the system's)
//   and never anything under `.git` (hooks and config that git later runs unsandboxed).
// - Writing the user's dependencies through the link: refused for `danger-full-access` (`checkDepsUse`, before
//   delegation/plan.ts makes anything), where no sandbox stands between the link and the user's files. Under
//   `workspace-write` the sandbox makes everything outside the working directory, /tmp and $TMPDIR read-only: a
//   repository that itself lies in /tmp stays writable to the sub-agent with or without a link.
// - A link or copy leaking into the patch (a symlink to the user's home in a patch the user applies, or megabytes
//   of node_modules): every installed path is excluded by pathspec from every diff of patch collection, even when
//   the sub-agent un-ignores it or replaces the link with files of its own. Patch collection never follows a link
//   (hostile-tree.ts walks without following; git records a symlink as a link).
import { constants } from "node:fs";
import { copyFile, lstat, mkdir, opendir, readlink, realpath, stat, symlink } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import type { RefusalParts } from "../errors.ts";
import type { Git } from "./git.ts";
import { WorkspaceError } from "./types.ts";

export type DepMode = "link" | "copy";

/** The setting as an agent file or a call writes it. */
export type WorktreeDepsSetting = "auto" | ReadonlyArray<string | { path: string; mode?: DepMode }>;

/** One dependency directory to install, relative to the repository's top level (always `/`-separated). */
export interface PlannedDep {
  path: string;
  mode: DepMode;
  /** Its real location in the user's tree. */
  source: string;
  /** Found by `auto` (skipped with a note when it cannot be used) rather than named (refused then). */
  auto: boolean;
}

/** Largest copy (`mode: "copy"`) made for one worktree, all entries together. */
export const DEFAULT_DEPS_COPY_MAX_BYTES = 1024 * 1024 * 1024;
const MAX_COPY_ENTRIES = 200_000;
export const MAX_DEPS_ENTRIES = 32;

/**
 * What `auto` looks for: a marker file of an ecosystem in cwd's directory or one of its parents up to the top level,
 * and the ignored directories beside it that its tools need. Go keeps its module cache outside the repository, so it
 * needs none. Cargo's `target` is a build cache cargo writes into: a read-only link would make `cargo test` fail
 * on its lock file, so it is copied (and skipped, with a note, when over the cap).
 */
const AUTO_RULES: ReadonlyArray<{ marker: (name: string) => boolean; dirs: readonly string[]; mode: DepMode }> = [
  { marker: (name) => name === "package.json", dirs: ["node_modules"], mode: "link" },
  { marker: (name) => name === "pyproject.toml" || /^requirements.*\.txt$/.test(name) || name === "setup.py", dirs: [".venv", "venv"], mode: "link" },
  { marker: (name) => name === "Cargo.toml", dirs: ["target"], mode: "copy" },
];

/** Pure: a dependency path as written → the normalised relative path, or why it is refused. */
export function checkDepPath(raw: string): { path: string } | { error: RefusalParts } {
  const shown = JSON.stringify(raw);
  if (raw === "" || raw.includes("\0")) return { error: { message: `worktree_deps entry ${shown} is empty or holds a NUL byte`, hint: 'name a directory such as "node_modules"' } };
  if (raw.startsWith("/") || raw.startsWith("\\") || /^[A-Za-z]:/.test(raw)) {
    return { error: { message: `worktree_deps entry ${shown} is absolute`, hint: 'name it relative to cwd, e.g. "node_modules"' } };
  }
  const segments = raw.replace(/\\/g, "/").split("/").filter((segment) => segment !== "" && segment !== ".");
  if (segments.length === 0) return { error: { message: `worktree_deps entry ${shown} names cwd itself`, hint: 'name a directory inside it, e.g. "node_modules"' } };
  if (segments.includes("..")) return { error: { message: `worktree_deps entry ${shown} contains ".."`, hint: "name a directory inside cwd" } };
  // Security: git's own directory holds hooks and config that git runs outside any sandbox.
  if (segments.some((segment) => segment.toLowerCase() === ".git")) return { error: { message: `worktree_deps entry ${shown} is inside .git`, hint: 'name a dependency directory such as "node_modules"' } };
  return { path: segments.join("/") };
}

/** Pure: `auto` candidates for the directories from cwd up to the top level (`dir` relative to it, "" at the top). */
export function autoCandidates(directories: ReadonlyArray<{ dir: string; names: readonly string[] }>): Array<{ path: string; mode: DepMode }> {
  const found: Array<{ path: string; mode: DepMode }> = [];
  for (const { dir, names } of directories) {
    for (const rule of AUTO_RULES) {
      if (!names.some(rule.marker)) continue;
      for (const name of rule.dirs) {
        if (!names.includes(name)) continue;
        const path = dir === "" ? name : `${dir}/${name}`;
        if (!found.some((entry) => entry.path === path)) found.push({ path, mode: rule.mode });
      }
    }
  }
  return found;
}

/**
 * Pure: a call's `worktree_deps` (a list of strings from the tool, src/tools/delegate.ts; in-process callers may pass
 * any setting) as the setting: `["auto"]` is "auto", any other list names directories. Returns the refusal when
 * "auto" is mixed with names.
 */
export function depsFromCall(list: WorktreeDepsSetting | undefined): { setting: WorktreeDepsSetting | undefined } | { error: RefusalParts } {
  if (list === undefined || list === "auto") return { setting: list };
  if (list.includes("auto")) {
    if (list.length === 1) return { setting: "auto" };
    return { error: { message: 'worktree_deps ["auto"] finds the directories itself', hint: 'give either ["auto"] or a list of directory names, not both' } };
  }
  return { setting: list };
}

/**
 * Pure: refuse `worktree_deps` where it cannot hold. Returns the refusal, or undefined when it may go ahead.
 * `fromCall`: the call named it (an agent file's setting is simply unused outside worktree isolation).
 */
export function checkDepsUse(setting: WorktreeDepsSetting | undefined, isolation: string, sandbox: string, fromCall: boolean): RefusalParts | undefined {
  if (setting === undefined || (Array.isArray(setting) && setting.length === 0)) return undefined;
  if (isolation !== "worktree") {
    return fromCall
      ? { message: `worktree_deps applies only to isolation "worktree" (this call uses "${isolation}")`, hint: 'remove worktree_deps, or use isolation "worktree"' }
      : undefined;
  }
  // Security: with no sandbox, the sub-agent could write the user's real dependencies through the links.
  if (sandbox === "danger-full-access") {
    return {
      message: `worktree_deps cannot be used with sandbox "danger-full-access": nothing would stop the sub-agent from writing ` +
        `the user's own dependency directories through the links`,
      hint: 'use sandbox "workspace-write", or drop worktree_deps',
    };
  }
  return undefined;
}

/**
 * Decide what to install: validate every named entry against the user's tree (refusing with a message that names it),
 * or find the `auto` ones (skipping, with a note, any that cannot be used). Runs before the worktree exists.
 */
export async function planDeps(
  setting: WorktreeDepsSetting,
  repository: { topLevel: string; prefix: string },
  options: { git: Git; env: Record<string, string>; signal?: AbortSignal },
): Promise<{ deps: PlannedDep[]; notes: string[] }> {
  const { signal } = options;
  const topLevel = await realpath(repository.topLevel);
  const prefix = repository.prefix.replace(/\/$/, "");
  const notes: string[] = [];
  let wanted: Array<{ path: string; mode: DepMode; auto: boolean }>;
  if (setting === "auto") {
    const directories: Array<{ dir: string; names: string[] }> = [];
    const parts = prefix === "" ? [] : prefix.split("/");
    for (let depth = parts.length; depth >= 0; depth -= 1) {
      const dir = parts.slice(0, depth).join("/");
      const names = await readNames(join(topLevel, dir));
      directories.push({ dir, names });
    }
    wanted = autoCandidates(directories).map((entry) => ({ ...entry, auto: true }));
  } else {
    if (setting.length > MAX_DEPS_ENTRIES) throw new WorkspaceError(`worktree_deps names ${setting.length} directories; the limit is ${MAX_DEPS_ENTRIES}`);
    wanted = setting.map((entry) => {
      const raw = typeof entry === "string" ? entry : entry.path;
      const checked = checkDepPath(raw);
      if ("error" in checked) throw new WorkspaceError(checked.error.message, { hint: checked.error.hint });
      const mode = typeof entry === "string" ? "link" : (entry.mode ?? "link");
      return { path: prefix === "" ? checked.path : `${prefix}/${checked.path}`, mode, auto: false };
    });
  }

  const deps: PlannedDep[] = [];
  for (const entry of wanted) {
    const problem = await sourceProblem(options.git, topLevel, entry.path, options.env, signal);
    if (problem) {
      if (entry.auto) {
        notes.push(`worktree_deps "auto": ${entry.path} was not made available (${problem.message}${problem.hint ? `; ${problem.hint}` : ""}).`);
        continue;
      }
      throw new WorkspaceError(`worktree_deps entry "${relativeToCwd(entry.path, prefix)}" (${join(topLevel, entry.path)}) cannot be used: ${problem.message}`, { hint: problem.hint });
    }
    if (deps.some((dep) => dep.path === entry.path || dep.path.startsWith(`${entry.path}/`) || entry.path.startsWith(`${dep.path}/`))) {
      throw new WorkspaceError(`worktree_deps names "${entry.path}" and a directory inside or around it`, { hint: "name each directory once" });
    }
    deps.push({ ...entry, source: join(topLevel, entry.path) });
  }
  return { deps, notes };
}

/** Why `relativePath` (from the top level) may not be linked, or undefined when it may. */
async function sourceProblem(git: Git, topLevel: string, relativePath: string, env: Record<string, string>, signal?: AbortSignal): Promise<RefusalParts | undefined> {
  const source = join(topLevel, relativePath);
  const info = await lstat(source).catch(() => undefined);
  if (!info) return { message: "it does not exist in the user's tree", hint: "install the dependencies there first, or drop the entry" };
  // Security: the real path must be the named one, so no symlink on the way leads out of the repository.
  const real = await realpath(source).catch(() => undefined);
  if (info.isSymbolicLink() || real !== source) return { message: "it is a symlink or lies behind one", hint: "name the real directory inside the repository" };
  if (!info.isDirectory()) return { message: "it is not a directory" };
  // Security: hermetic like the dirty check (dirty-check.ts): `env` names a private git directory (no repository,
  // user or system config) with the user's tree and index, so ignored means ignored as patch collection sees it.
  const ignored = await git.run(["check-ignore", "-q", "--", `${relativePath}/`], { cwd: topLevel, env, signal, timeoutMs: 30_000 });
  if (ignored.exitCode === 1) {
    return { message: "git does not ignore it, so it is tracked (already in the worktree) or would show up in the patch", hint: "add it to .gitignore, or drop the entry" };
  }
  if (ignored.exitCode !== 0) return { message: `git check-ignore failed: ${ignored.stderr.trim() || `exit ${ignored.exitCode}`}` };
  return undefined;
}

function relativeToCwd(path: string, prefix: string): string {
  return prefix !== "" && path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : path;
}

async function readNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  const handle = await opendir(dir).catch(() => undefined);
  if (!handle) return names;
  for await (const entry of handle) {
    names.push(entry.name);
    if (names.length > 10_000) break;
  }
  return names;
}

/**
 * Put the planned directories into a fresh worktree (before the sub-agent runs). Returns the paths to keep out of
 * the patch and notes for the result. Throws WorkspaceError when a named entry cannot be installed.
 */
export async function installDeps(
  deps: readonly PlannedDep[],
  worktree: string,
  options: { copyMaxBytes?: number; signal?: AbortSignal } = {},
): Promise<{ excluded: string[]; notes: string[] }> {
  const excluded: string[] = [];
  const notes: string[] = [];
  const linked: string[] = [];
  const copied: string[] = [];
  let copyBudget = options.copyMaxBytes ?? DEFAULT_DEPS_COPY_MAX_BYTES;
  for (const dep of deps) {
    const target = join(worktree, ...dep.path.split("/"));
    if (await lstat(target).then(() => true, () => false)) {
      if (dep.auto) {
        notes.push(`worktree_deps "auto": ${dep.path} exists in the checkout of HEAD, so it was left as checked out.`);
        continue;
      }
      throw new WorkspaceError(`worktree_deps entry "${dep.path}" already exists in the checkout of HEAD (tracked files under it)`, { hint: "drop the entry" });
    }
    await mkdir(dirname(target), { recursive: true });
    if (dep.mode === "link") {
      await symlink(dep.source, target, "dir");
      linked.push(dep.path);
    } else {
      const size = await measure(dep.source, copyBudget, options.signal);
      if (size === undefined) {
        const why = `larger than the ${formatBytes(options.copyMaxBytes ?? DEFAULT_DEPS_COPY_MAX_BYTES)} copy limit`;
        if (dep.auto) {
          notes.push(`worktree_deps "auto": ${dep.path} was not copied (${why}); the sub-agent's build starts without it.`);
          continue;
        }
        throw new WorkspaceError(`worktree_deps entry "${dep.path}" (mode "copy") is ${why}`, { hint: 'use mode "link" if its tools only read it, or drop it' });
      }
      copyBudget -= size;
      excluded.push(dep.path); // before copying: a half-made copy must stay out of the patch too
      await copyTree(dep.source, target, options.signal);
      copied.push(dep.path);
      continue;
    }
    excluded.push(dep.path);
  }
  if (linked.length > 0) {
    notes.push(
      `worktree_deps: ${linked.join(", ")} ${linked.length === 1 ? "is a link" : "are links"} to the user's own ` +
        `director${linked.length === 1 ? "y" : "ies"}, readable but not writable by the sub-agent; a tool that must write ` +
        `there needs { "path": ..., "mode": "copy" }. Links are never part of the patch.`,
    );
  }
  if (copied.length > 0) notes.push(`worktree_deps: ${copied.join(", ")} copied into the worktree (writable, discarded with it, never part of the patch).`);
  return { excluded, notes };
}

/** Pathspecs that keep `paths` (relative to the top level) out of `git add` and `git diff`. */
export function excludePathspecs(paths: readonly string[]): string[] {
  return paths.map((path) => `:(exclude,literal)${posix.normalize(path)}`);
}

/** Total bytes under `dir` (no links followed), or undefined once past `limit` (entries or bytes). */
async function measure(dir: string, limit: number, signal?: AbortSignal): Promise<number | undefined> {
  let bytes = 0;
  let entries = 0;
  const pending = [dir];
  while (pending.length > 0) {
    signal?.throwIfAborted();
    const current = pending.pop()!;
    const handle = await opendir(current);
    for await (const entry of handle) {
      entries += 1;
      if (entries > MAX_COPY_ENTRIES) return undefined;
      const path = join(current, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile()) {
        bytes += (await stat(path)).size;
        if (bytes > limit) return undefined;
      }
    }
  }
  return bytes;
}

/**
 * Copy a directory tree as `cp -a` would for what matters here: files (cloned where the file system can),
 * directories, symlinks recreated verbatim (a package manager's relative `.bin` links keep working; an absolute
 * one still points where it did, read-only to the sandbox as before). Sockets, FIFOs and devices are skipped.
 */
async function copyTree(source: string, target: string, signal?: AbortSignal): Promise<void> {
  await mkdir(target);
  const handle = await opendir(source);
  for await (const entry of handle) {
    signal?.throwIfAborted();
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    if (entry.isDirectory()) await copyTree(from, to, signal);
    else if (entry.isFile()) await copyFile(from, to, constants.COPYFILE_FICLONE);
    else if (entry.isSymbolicLink()) await symlink(await readlink(from), to);
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

// Real git in temporary repositories, for the workspace tests. Test-only: spawnSync of git is fine here.
import { expect } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import type { Workspace } from "../../src/workspace/types.ts";

export function git(cwd: string, ...args: string[]): string {
  const result = spawnSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: cwd, GIT_TERMINAL_PROMPT: "0" },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** `git init` on branch main in `repo`, then one commit "initial" of everything in it. */
export function commitAsInitial(repo: string): void {
  git(repo, "init", "-q", "-b", "main");
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "initial");
}

/** Binary git output (for `git apply` input checks and blob reads). */
export function gitBytes(cwd: string, ...args: string[]): Buffer {
  const result = spawnSync("git", args, { cwd, env: { ...process.env, HOME: cwd } });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** A directory under os.tmpdir(), realpath'ed; remove with removeAll(). */
export function tempDir(prefix = "ws-test-"): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

export function removeAll(...dirs: string[]): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

/** The temporary directory a workspace lives in (the first component under os.tmpdir()). */
export function workspaceBase(workingDir: string): string {
  const root = realpathSync(tmpdir());
  const first = relative(root, workingDir).split(sep)[0] ?? "";
  if (!first.startsWith("codex-subagents-")) throw new Error(`not a workspace dir: ${workingDir}`);
  return join(root, first);
}

export const exists = existsSync;

/** Every directory newTemp made, and whatever else a test adds: each test file ends with `removeAll(...temps)`. */
export const temps: string[] = [];

export function newTemp(prefix?: string): string {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
}

export const silent = { warn: () => {}, debug: () => {} };
export const BINARY = Buffer.from([0, 1, 2, 3, 255, 254, 0, 10, 13, 0, 128]);

/** A repository with text, binary, nested and executable files in one commit. */
export function makeRepository(): string {
  const repo = join(newTemp("ws-repo-"), "project");
  mkdirSync(join(repo, "src"), { recursive: true });
  mkdirSync(join(repo, "sub", "dir"), { recursive: true });
  writeFileSync(join(repo, "src", "a.txt"), "line 1\nline 2\nline 3\n");
  writeFileSync(join(repo, "delete-me.txt"), "going away\n");
  writeFileSync(join(repo, "image.bin"), BINARY);
  writeFileSync(join(repo, "sub", "dir", "x.txt"), "deep\n");
  writeFileSync(join(repo, "run.sh"), "#!/bin/sh\necho hi\n");
  chmodSync(join(repo, "run.sh"), 0o755);
  commitAsInitial(repo);
  return repo;
}

/** A repository of one file, `a.txt`, in one commit. */
export function makeSmallRepository(): string {
  const repo = join(newTemp("ws-herm-"), "project");
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, "a.txt"), "a\n");
  commitAsInitial(repo);
  return repo;
}

/** A node project: package.json tracked, node_modules ignored and present, a tracked subpackage. */
export function nodeRepository(): string {
  const repo = join(newTemp("deps-repo-"), "project");
  mkdirSync(join(repo, "node_modules", "some-lib"), { recursive: true });
  mkdirSync(join(repo, "packages", "web"), { recursive: true });
  writeFileSync(join(repo, ".gitignore"), "node_modules/\nbuild/\n");
  writeFileSync(join(repo, "package.json"), '{ "name": "demo" }\n');
  writeFileSync(join(repo, "test.js"), "require('some-lib');\n");
  writeFileSync(join(repo, "packages", "web", "index.js"), "// web\n");
  writeFileSync(join(repo, "node_modules", "some-lib", "index.js"), "module.exports = 1;\n");
  commitAsInitial(repo);
  return repo;
}

/** Everything a user could notice about their repository: status, stash, branches, HEAD, file mtimes. */
export function snapshot(repo: string): string {
  const mtimes: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path === join(repo, ".git", "worktrees")) continue; // git's own record of linked worktrees
        walk(path);
      } else {
        // Git may refresh the mtime of an object it finds already stored (its "freshen" step, for gc timing);
        // that object's content and the set of objects must not change, so objects are listed by name only.
        const isObject = path.startsWith(join(repo, ".git", "objects"));
        mtimes.push(isObject ? path : `${path} ${statSync(path).mtimeMs}`);
      }
    }
  };
  walk(repo);
  return [
    git(repo, "--no-optional-locks", "status", "--porcelain"),
    git(repo, "stash", "list"),
    git(repo, "branch", "-a"),
    git(repo, "rev-parse", "HEAD"),
    mtimes.sort().join("\n"),
  ].join("\n---\n");
}

export function worktreeCount(repo: string): number {
  return git(repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((line) => line.startsWith("worktree ")).length;
}

export async function expectCleanedUp(repo: string, workspace: Workspace): Promise<void> {
  const base = workspaceBase(workspace.workingDir);
  await workspace.cleanup();
  expect(exists(base)).toBe(false);
  expect(worktreeCount(repo)).toBe(1);
  const adminDir = join(repo, ".git", "worktrees");
  expect(exists(adminDir) ? readdirSync(adminDir) : []).toEqual([]);
}

/**
 * A chain of `depth` directories named `a` below `dir`, ending in a file: deeper than any path can name, so it is built
 * from the bottom up, each block of 500 made by name and then moved, whole, below a new block.
 */
export function makeDeepChain(dir: string, depth: number): void {
  const stage = newTemp("ws-chain-");
  let made = 0;
  let held: string | undefined; // the chain so far, at stage/<n>
  for (let block = 0; made < depth; block += 1) {
    const levels = Math.min(500, depth - made);
    const top = join(stage, String(block));
    const bottom = join(top, ...Array.from({ length: levels - 1 }, () => "a"));
    mkdirSync(bottom, { recursive: true });
    if (held) renameSync(held, join(bottom, "a"));
    else writeFileSync(join(bottom, "f"), "x");
    held = top;
    made += levels;
  }
  renameSync(held as string, join(dir, "a"));
}

/**
 * Run `code` (an ES module body; `SRC` is src/'s absolute path) in a child that the file system's permission bits bind
 * (as root: without capabilities, so a directory made `chmod 100` cannot be listed); its stdout is parsed as JSON.
 */
export function withoutPrivilege(code: string): unknown {
  const script = join(newTemp("ws-unpriv-"), "script.ts");
  writeFileSync(script, `const SRC = ${JSON.stringify(resolve(import.meta.dir, "../../src"))};\n${code}`);
  const argv = process.getuid?.() === 0 ? ["setpriv", "--bounding-set=-all", "--inh-caps=-all", process.execPath, script] : [process.execPath, script];
  const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: "utf8", timeout: 60_000 });
  if (run.status !== 0) throw new Error(`child failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop() as string);
}

// Real git in temporary repositories, for the workspace tests. Test-only: spawnSync of git is fine here.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";

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

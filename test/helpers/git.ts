// git for the test repositories the e2e suites build: a fixed author, and no system or user configuration, so a
// developer's own git settings (signing, hooks, default branch) cannot change what a test sees.
import { spawnSync } from "node:child_process";
import { findGit } from "../../src/codex/find.ts";
import { createGit, type Git } from "../../src/workspace/git.ts";

export const TEST_GIT_ENV = {
  GIT_AUTHOR_NAME: "Test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "Test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** Runs git in `cwd` with TEST_GIT_ENV and HOME `home` (a scratch directory); its stdout, or throws with its stderr. */
export function gitWithHome(home: string, cwd: string, ...args: string[]): string {
  const run = spawnSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, ...TEST_GIT_ENV, HOME: home } });
  if (run.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout;
}

/**
 * The Git the workspace code runs in tests: the first `git` in an absolute PATH entry, found as the server finds it
 * (codex/find.ts findGit) and handed over explicitly, as the delegation context hands it.
 */
export const hostGit: Git = createGit(await findGit(process.env));

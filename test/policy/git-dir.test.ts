// A cwd inside a git directory is refused (src/policy/git-dir.ts): a sub-agent working there would write git's own files.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { findEnclosingGitDir, refuseGitDirectory } from "../../src/policy/git-dir.ts";
import { PolicyError } from "../../src/policy/roots.ts";
import { git, makeSmallRepository, newTemp, removeAll, temps } from "../workspace/helpers.ts";

afterAll(() => removeAll(...temps));

describe("cwd inside a git directory", () => {
  test("the walk stops at the first git directory, and a directory named .git always counts", async () => {
    const probe = async (dir: string) => dir === "/srv/bare.git";
    expect(await findEnclosingGitDir("/srv/bare.git/refs/heads", probe)).toBe("/srv/bare.git");
    expect(await findEnclosingGitDir("/work/repo/.git/modules/x", async () => false)).toBe("/work/repo/.git");
    expect(await findEnclosingGitDir("/work/repo/src", async () => false)).toBeUndefined();
  });

  test("refused: .git, its hooks, a submodule's git directory, a bare repository; allowed: the working tree", async () => {
    const repo = makeSmallRepository();
    mkdirSync(join(repo, ".git", "modules", "sm"), { recursive: true });
    const bare = join(newTemp("ws-bare-"), "bare.git");
    git(newTemp("ws-bare-parent-"), "init", "-q", "--bare", bare);
    for (const cwd of [join(repo, ".git"), join(repo, ".git", "hooks"), join(repo, ".git", "modules", "sm"), bare, join(bare, "refs")]) {
      await expect(refuseGitDirectory(cwd), cwd).rejects.toBeInstanceOf(PolicyError);
    }
    expect(await refuseGitDirectory(repo)).toBe(repo);
  });
});

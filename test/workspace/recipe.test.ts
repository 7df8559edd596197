// The recipe (src/workspace/recipe.ts): a repository this server must not make a worktree of is refused, with the
// way out, before anything is made.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { WorkspaceError } from "../../src/workspace/types.ts";
import { git, makeSmallRepository, newTemp, removeAll, silent, temps } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

afterAll(() => removeAll(...temps));

describe("worktree isolation", () => {
  test("a cwd outside any git repository is refused with the way out", async () => {
    const plain = newTemp("ws-plain-");
    const attempt = prepareWorkspace({ git: hostGit, mode: "worktree", cwd: plain, logger: silent });
    await expect(attempt).rejects.toBeInstanceOf(WorkspaceError);
    await expect(attempt).rejects.toMatchObject({
      message: `cwd "${plain}" is not inside a git repository`,
      hint: 'pass `cwd` naming a directory in one, use isolation "none" or "mirror", or run `git init` there',
    });
  });

  test("a repository with no commits is refused", async () => {
    const empty = newTemp("ws-empty-");
    git(empty, "init", "-q");
    const attempt = prepareWorkspace({ git: hostGit, mode: "worktree", cwd: empty, logger: silent });
    await expect(attempt).rejects.toBeInstanceOf(WorkspaceError);
    await expect(attempt).rejects.toMatchObject({ message: expect.stringContaining("has no commits yet"), hint: expect.stringContaining("git commit") });
  });
});

describe("repositories refused for worktree isolation", () => {
  test("core.worktree", async () => {
    const repo = makeSmallRepository();
    git(repo, "config", "core.worktree", repo);
    await expect(prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent })).rejects.toThrow(/sets core\.worktree/);
  });

  test("a top level or git directory outside the roots", async () => {
    const repo = makeSmallRepository();
    const root = join(repo, "..");
    const elsewhere = newTemp("ws-roots-");
    await expect(prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, roots: [elsewhere], logger: silent })).rejects.toThrow(/outside the allowed roots/);
    const linked = join(root, "linked");
    git(root, "init", "-q", "--separate-git-dir", join(elsewhere, "gitdir"), linked);
    writeFileSync(join(linked, "f"), "f\n");
    git(linked, "add", "-A");
    git(linked, "commit", "-q", "-m", "f");
    await expect(prepareWorkspace({ git: hostGit, mode: "worktree", cwd: linked, roots: [root], logger: silent })).rejects.toThrow(/git directory[^]*outside the allowed roots/);
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, roots: [root], logger: silent });
    await workspace.cleanup();
  });
});

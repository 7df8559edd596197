// Which repository codex's own git may see for isolation "none" (src/workspace/codex-git.ts): the pure rule.
import { describe, expect, test } from "bun:test";
import { noRepositoryEnv, plantableBy, repositoryEnv } from "../../src/workspace/codex-git.ts";

const repo = (topLevel: string, gitDir = `${topLevel}/.git`, commonDir = gitDir) => ({ topLevel, gitDir, commonDir });

describe("plantableBy", () => {
  test("a root's own .git is accepted, and so is a repository outside every root", () => {
    expect(plantableBy(repo("/r"), ["/r"])).toBeUndefined();
    expect(plantableBy(repo("/elsewhere"), ["/r"])).toBeUndefined();
    // the root is a subdirectory of a repository
    expect(plantableBy(repo("/home/me/proj"), ["/home/me/proj/sub"])).toBeUndefined();
  });
  test("admin directories below <root>/.git (linked worktrees, submodules) are accepted", () => {
    expect(plantableBy(repo("/r/wt", "/r/.git/worktrees/wt", "/r/.git"), ["/r"])).toBeUndefined();
    expect(plantableBy(repo("/r/mod", "/r/.git/modules/mod", "/r/.git/modules/mod"), ["/r"])).toBeUndefined();
  });
  test("a repository planted in a subdirectory of a root is refused", () => {
    expect(plantableBy(repo("/r/sub"), ["/r"])).toEqual({ root: "/r", dir: "/r/sub/.git" });
    // its common dir alone is enough
    expect(plantableBy(repo("/x", "/x/.git", "/r/deep/.git"), ["/r"])).toEqual({ root: "/r", dir: "/r/deep/.git" });
  });
  test("a root nested inside another root: its .git is writable from the outer root, so it is refused", () => {
    expect(plantableBy(repo("/r/inner"), ["/r", "/r/inner"])).toEqual({ root: "/r", dir: "/r/inner/.git" });
  });
  test("whole path segments: /r-evil/.git is not inside /r", () => {
    expect(plantableBy(repo("/r-evil"), ["/r"])).toBeUndefined();
  });
});

test("the environment handed to codex", () => {
  expect(repositoryEnv(repo("/r"))).toEqual({ GIT_DIR: "/r/.git", GIT_WORK_TREE: "/r" });
  expect(noRepositoryEnv("/private/run-1")).toEqual({ GIT_DIR: "/private/run-1/no-repository-here" });
});

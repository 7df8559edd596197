// Which repository codex's own git may see for isolation "none" (src/workspace/codex-git.ts): the pure rule. A git
// directory is refused only when a sub-agent may have written it: below a recorded in-place writer's cwd (the
// writer's own `<cwd>/.git` excepted: codex keeps it read-only for that run), or in /tmp or $TMPDIR unless it is a
// root's own `.git`.
import { describe, expect, test } from "bun:test";
import { noRepositoryEnv, plantableGitDir, plantableRepository, repositoryEnv } from "../../src/workspace/codex-git.ts";

const repo = (topLevel: string, gitDir = `${topLevel}/.git`, commonDir = gitDir) => ({ topLevel, gitDir, commonDir });
const places = (writers: string[], extra: { tmpDirs?: string[]; roots?: string[] } = {}) => ({ writers, tmpDirs: extra.tmpDirs ?? [], roots: extra.roots ?? ["/home/me/src"] });

describe("plantableRepository", () => {
  test("the README's set-up: a project below a root that is the parent of projects, no writer on record, is served", () => {
    expect(plantableRepository(repo("/home/me/src/proj"), places([]))).toBeUndefined();
    // A writer worked in the project itself, or in a sibling, or below it: still served (its own .git is read-only to it).
    expect(plantableRepository(repo("/home/me/src/proj"), places(["/home/me/src/proj"]))).toBeUndefined();
    expect(plantableRepository(repo("/home/me/src/proj"), places(["/home/me/src/other", "/home/me/src/proj/sub"]))).toBeUndefined();
  });
  test("a repository below a writer's cwd may have been planted: refused, naming the writer", () => {
    const found = plantableRepository(repo("/home/me/src/proj/sub"), places(["/home/me/src/proj"]));
    expect(found?.dir).toBe("/home/me/src/proj/sub/.git");
    expect(found?.why).toContain('below "/home/me/src/proj"');
    // A writer in the parent of projects reaches every project's .git.
    expect(plantableRepository(repo("/home/me/src/proj"), places(["/home/me/src"]))?.dir).toBe("/home/me/src/proj/.git");
    // Its common dir alone is enough (a linked worktree whose main repository is below a writer).
    expect(plantableRepository(repo("/x", "/x/.git", "/home/me/src/proj/deep/.git"), places(["/home/me/src/proj"]))?.dir).toBe("/home/me/src/proj/deep/.git");
  });
  test("admin directories below a writer's own .git (linked worktrees, submodules) are as safe as that .git", () => {
    expect(plantableRepository(repo("/r/wt", "/r/.git/worktrees/wt", "/r/.git"), places(["/r"]))).toBeUndefined();
    expect(plantableRepository(repo("/r/mod", "/r/.git/modules/mod"), places(["/r"]))).toBeUndefined();
    expect(plantableRepository(repo("/r/mod", "/r/.git/modules/mod"), places(["/"]))?.dir).toBe("/r/.git/modules/mod");
  });
  test("a git directory in no .git (a separate git dir) counts within a writer's cwd, the cwd itself included", () => {
    expect(plantableRepository(repo("/r", "/r/gitdir"), places(["/r"]))?.dir).toBe("/r/gitdir");
    expect(plantableRepository(repo("/r/wt", "/r"), places(["/r"]))?.dir).toBe("/r");
    expect(plantableRepository(repo("/r", "/elsewhere/r.git"), places(["/r"]))).toBeUndefined();
  });
  test("whole path segments: a writer in /r does not reach /r-evil", () => {
    expect(plantableRepository(repo("/r-evil/x"), places(["/r"]))).toBeUndefined();
  });
  test("in /tmp or $TMPDIR any sandbox may write: only a root's own .git is accepted there", () => {
    const tmp = { tmpDirs: ["/tmp", "/var/tmp/me"], roots: ["/tmp/root"] };
    expect(plantableRepository(repo("/tmp/root"), places([], tmp))).toBeUndefined();
    expect(plantableRepository(repo("/tmp/root/sub"), places([], tmp))?.why).toContain('"/tmp"');
    expect(plantableRepository(repo("/var/tmp/me/x"), places([], tmp))?.why).toContain("not a root's own .git");
  });
});

test("plantableGitDir: the reason names the place", () => {
  expect(plantableGitDir("/a/b/.git", { writers: ["/a"], tmpDirs: [], roots: [] })).toContain('"/a"');
  expect(plantableGitDir("/a/.git", { writers: ["/a"], tmpDirs: [], roots: [] })).toBeNull();
});

test("the environment handed to codex", () => {
  expect(repositoryEnv(repo("/r"))).toEqual({ GIT_DIR: "/r/.git", GIT_WORK_TREE: "/r" });
  expect(noRepositoryEnv("/private/run-1")).toEqual({ GIT_DIR: "/private/run-1/no-repository-here" });
});

// Issue 13 in the workspace layer, with real git: dependency links and copies (deps.ts) and the spare pool
// (spares.ts). The sandbox side (a write through a link is refused) is proven end to end in test/e2e/worktree-deps.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { autoCandidates, checkDepPath, checkDepsUse, depsFromCall } from "../../src/workspace/deps.ts";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { WorkspaceError } from "../../src/workspace/types.ts";
import { SparePool, SPARE_DIR_PREFIX } from "../../src/workspace/spares.ts";
import { commitAsInitial, git, removeAll, tempDir } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

const silent = { warn: () => {}, debug: () => {} };
const temps: string[] = [];
afterAll(() => removeAll(...temps));

function newTemp(prefix: string): string {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
}

/** A node project: package.json tracked, node_modules ignored and present, a tracked subpackage. */
function nodeRepository(): string {
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

describe("worktree_deps: the pure rules", () => {
  test("paths are plain relative segments, never .. , absolute or .git", () => {
    expect(checkDepPath("node_modules")).toEqual({ path: "node_modules" });
    expect(checkDepPath("./a//b/")).toEqual({ path: "a/b" });
    for (const bad of ["", "/etc", "..", "a/../b", ".git", "x/.GIT/hooks", "C:\\x", "\\\\host\\share", ".", "a\0b"]) {
      expect("error" in checkDepPath(bad)).toBe(true);
    }
  });

  test("auto finds the usual directories of the ecosystems present, Go needs none", () => {
    expect(autoCandidates([{ dir: "", names: ["package.json", "node_modules", "pyproject.toml", ".venv", "Cargo.toml", "target", "go.mod", "vendor"] }])).toEqual([
      { path: "node_modules", mode: "link" },
      { path: ".venv", mode: "link" },
      { path: "target", mode: "copy" },
    ]);
    expect(autoCandidates([{ dir: "", names: ["go.mod", "vendor"] }])).toEqual([]);
    expect(autoCandidates([{ dir: "", names: ["requirements-dev.txt", "venv"] }])).toEqual([{ path: "venv", mode: "link" }]);
    expect(autoCandidates([{ dir: "pkg/a", names: ["package.json", "node_modules"] }, { dir: "", names: ["package.json"] }])).toEqual([{ path: "pkg/a/node_modules", mode: "link" }]);
  });

  test("a call's list of strings: [\"auto\"] is auto, names are links, auto mixed with names is refused", () => {
    expect(depsFromCall(["auto"])).toEqual({ setting: "auto" });
    expect(depsFromCall(["node_modules", ".venv"])).toEqual({ setting: ["node_modules", ".venv"] });
    expect(depsFromCall(undefined)).toEqual({ setting: undefined });
    expect("error" in depsFromCall(["auto", "node_modules"])).toBe(true);
  });

  test("danger-full-access is refused, and worktree_deps outside worktree isolation is refused when the call names it", () => {
    expect(checkDepsUse(["node_modules"], "worktree", "danger-full-access", false)).toContain("danger-full-access");
    expect(checkDepsUse("auto", "worktree", "workspace-write", true)).toBeUndefined();
    expect(checkDepsUse("auto", "none", "workspace-write", true)).toContain('only to isolation "worktree"');
    expect(checkDepsUse("auto", "none", "workspace-write", false)).toBeUndefined();
    expect(checkDepsUse([], "worktree", "danger-full-access", true)).toBeUndefined();
  });
});

describe("worktree_deps with real git", () => {
  test("auto links node_modules to the user's directory, and the patch never holds the link, even un-ignored", async () => {
    const repo = nodeRepository();
    // Security: patch collection removes planted `.git` entries; through the link it would remove the user's own.
    mkdirSync(join(repo, "node_modules", "some-lib", ".git"));
    writeFileSync(join(repo, "node_modules", "some-lib", ".git", "HEAD"), "ref: refs/heads/main\n");
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, worktreeDeps: "auto" });
    try {
      const link = join(workspace.workingDir, "node_modules");
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(join(repo, "node_modules"));
      expect(readFileSync(join(link, "some-lib", "index.js"), "utf8")).toBe("module.exports = 1;\n");
      expect(workspace.notes.join("\n")).toContain("node_modules is a link to the user's own directory");
      // The sub-agent edits a file, un-ignores node_modules and adds a file beside the link target's name.
      writeFileSync(join(workspace.workingDir, "test.js"), "require('some-lib'); // changed\n");
      writeFileSync(join(workspace.workingDir, ".gitignore"), "");
      const collected = await workspace.collectPatch();
      const patch = collected?.patch ?? "";
      expect(collected?.notes.join("\n") ?? "").not.toContain("git metadata");
      expect(readFileSync(join(repo, "node_modules", "some-lib", ".git", "HEAD"), "utf8")).toBe("ref: refs/heads/main\n");
      expect(patch).toContain("diff --git a/test.js b/test.js");
      expect(patch).toContain("diff --git a/.gitignore b/.gitignore");
      expect(patch).not.toContain("a/node_modules");
      expect(patch).not.toContain("b/node_modules");
      expect(patch).not.toContain(repo);
    } finally {
      await workspace.cleanup();
    }
    // The user's dependency directory survives the worktree's removal.
    expect(readFileSync(join(repo, "node_modules", "some-lib", "index.js"), "utf8")).toBe("module.exports = 1;\n");
  });

  test("named entries are relative to cwd; copy mode makes a private, writable copy kept out of the patch", async () => {
    const repo = nodeRepository();
    mkdirSync(join(repo, "packages", "web", "build", "cache"), { recursive: true });
    writeFileSync(join(repo, "packages", "web", "build", "cache", "c.txt"), "cached\n");
    // A package checked out from git keeps its `.git` (the copy's is removed before the patch like any, unreported).
    mkdirSync(join(repo, "packages", "web", "build", "cache", "pkg", ".git"), { recursive: true });
    writeFileSync(join(repo, "packages", "web", "build", "cache", "pkg", ".git", "HEAD"), "ref: refs/heads/main\n");
    const workspace = await prepareWorkspace({
      git: hostGit,
      mode: "worktree", cwd: join(repo, "packages", "web"), logger: silent,
      worktreeDeps: [{ path: "build", mode: "copy" }],
    });
    try {
      const copy = join(workspace.workingDir, "build");
      expect(lstatSync(copy).isDirectory()).toBe(true);
      writeFileSync(join(copy, "cache", "c.txt"), "rewritten by a tool\n");
      expect(readFileSync(join(repo, "packages", "web", "build", "cache", "c.txt"), "utf8")).toBe("cached\n");
      const collected = await workspace.collectPatch();
      expect(collected?.patch).toBe("");
      expect(collected?.notes.join("\n") ?? "").not.toContain("git metadata");
      expect(readFileSync(join(repo, "packages", "web", "build", "cache", "pkg", ".git", "HEAD"), "utf8")).toBe("ref: refs/heads/main\n");
    } finally {
      await workspace.cleanup();
    }
  });

  test("a tracked directory, a missing one, a symlink out of the repository and .git are refused with the reason", async () => {
    const repo = nodeRepository();
    const outside = newTemp("deps-outside-");
    symlinkSync(outside, join(repo, "escape"));
    writeFileSync(join(repo, ".git", "info", "exclude"), "escape\n");
    const cases: Array<[string, string]> = [
      ["packages", "git does not ignore it"],
      ["missing", "does not exist"],
      ["escape", "symlink"],
      [".git", "inside .git"],
      ["../x", '".."'],
    ];
    for (const [entry, reason] of cases) {
      const attempt = prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, worktreeDeps: [entry] });
      await expect(attempt).rejects.toBeInstanceOf(WorkspaceError);
      await expect(attempt).rejects.toThrow(reason);
    }
    expect(git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
  });
});

describe("spare worktrees", () => {
  test("the second set-up comes from the spare, at the new HEAD; close() removes every spare", async () => {
    const repo = nodeRepository();
    const baseDir = newTemp("spares-base-");
    const pool = new SparePool({ perRepository: 1, baseDir, logger: silent });
    try {
      const first = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, spares: pool });
      expect(first.notes.join("\n")).not.toContain("spare");
      pool.deferRemoval(() => first.cleanup());
      // HEAD moves between the two delegations.
      writeFileSync(join(repo, "test.js"), "require('some-lib'); // second commit\n");
      git(repo, "commit", "-q", "-am", "second");
      const second = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, spares: pool });
      expect(second.notes.join("\n")).toContain("set-up came from a spare worktree");
      expect(second.workingDir.startsWith(join(baseDir, SPARE_DIR_PREFIX))).toBe(true);
      expect(readFileSync(join(second.workingDir, "test.js"), "utf8")).toBe("require('some-lib'); // second commit\n");
      expect(git(second.workingDir, "rev-parse", "HEAD")).toBe(git(repo, "rev-parse", "HEAD"));
      writeFileSync(join(second.workingDir, "new.txt"), "x\n");
      const patch = (await second.collectPatch())?.patch ?? "";
      expect(patch).toContain("diff --git a/new.txt b/new.txt");
      expect(patch).not.toContain("test.js");
      pool.deferRemoval(() => second.cleanup());
    } finally {
      await pool.close();
    }
    expect(readdirSync(baseDir)).toEqual([]);
    expect(git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
  });

  test("a repository not used for the idle time loses its spare; beyond the repository limit the oldest goes", async () => {
    const first = nodeRepository();
    const second = nodeRepository();
    const baseDir = newTemp("spares-idle-");
    const pool = new SparePool({ perRepository: 1, baseDir, logger: silent, idleMs: 2500, maxRepositories: 1 });
    try {
      const spares = () => readdirSync(baseDir).filter((name) => name.startsWith(SPARE_DIR_PREFIX));
      const a = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: first, logger: silent, spares: pool });
      await a.cleanup();
      await pool.settled();
      expect(spares()).toHaveLength(1);
      // A second repository: the limit is one repository, so the first one's spare is removed.
      const b = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: second, logger: silent, spares: pool });
      await b.cleanup();
      await pool.settled();
      expect(spares()).toHaveLength(1);
      expect(git(first, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
      // The spare is not registered in the repository: git lists only the repository itself.
      expect(git(second, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
      // Unused for the idle time: gone.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await pool.settled();
      expect(spares()).toEqual([]);
      expect(git(second, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
    } finally {
      await pool.close();
    }
  }, 30_000);

  test("--spare-worktrees 0 makes none", async () => {
    const repo = nodeRepository();
    const baseDir = newTemp("spares-off-");
    const pool = new SparePool({ perRepository: 0, baseDir, logger: silent });
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, spares: pool });
    await workspace.cleanup();
    await pool.close();
    expect(readdirSync(baseDir)).toEqual([]);
  });
});

// Dependency directories in a worktree (src/workspace/deps.ts), with real git: links and copies, kept out of the
// patch, and the refusals. The sandbox side (a write through a link is refused) is proven end to end in
// test/e2e/worktree-deps.
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { autoCandidates, checkDepPath, checkDepsUse, depsFromCall } from "../../src/workspace/deps.ts";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { WorkspaceError } from "../../src/workspace/types.ts";
import { git, newTemp, nodeRepository, removeAll, silent, temps } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

afterAll(() => removeAll(...temps));

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
    expect(checkDepsUse(["node_modules"], "worktree", "danger-full-access", false)?.message).toContain("danger-full-access");
    expect(checkDepsUse("auto", "worktree", "workspace-write", true)).toBeUndefined();
    expect(checkDepsUse("auto", "none", "workspace-write", true)?.message).toContain('only to isolation "worktree"');
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

// A worktree's whole life through prepareWorkspace (src/workspace/index.ts, then worktree.ts): the user's repository
// untouched, cwd mapped into the worktree, set-ups side by side or cancelled, and a malicious repository whose
// programs never run. Each stage's own cases are in recipe, collect-patch, dirty-check and removal.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { WorkspaceError, type Workspace } from "../../src/workspace/types.ts";
import { SparePool } from "../../src/workspace/spares.ts";
import {
  exists, expectCleanedUp, git, makeRepository, makeSmallRepository, newTemp, removeAll, silent, snapshot, temps, workspaceBase, worktreeCount,
} from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

afterAll(() => removeAll(...temps));

describe("worktree isolation", () => {
  test("the user's tree, index, stash, branches and HEAD are untouched; a dirty tree gets a note", async () => {
    const repo = makeRepository();
    writeFileSync(join(repo, "stashed.txt"), "x\n");
    git(repo, "add", "stashed.txt");
    git(repo, "stash", "push", "-q", "-m", "user stash");
    git(repo, "branch", "feature");
    writeFileSync(join(repo, "src", "a.txt"), "user edit, not committed\n");
    writeFileSync(join(repo, "untracked.txt"), "user's new file\n");
    const before = snapshot(repo);

    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    const notes = workspace.notes.join("\n");
    expect(notes).toContain("uncommitted changes");
    expect(notes).toContain("NOT visible to the sub-agent");
    expect(notes).toContain("src/a.txt");
    // The sub-agent sees HEAD, not the user's edit.
    expect(readFileSync(join(workspace.workingDir, "src", "a.txt"), "utf8")).toBe("line 1\nline 2\nline 3\n");
    expect(exists(join(workspace.workingDir, "untracked.txt"))).toBe(false);

    writeFileSync(join(workspace.workingDir, "src", "a.txt"), "agent edit\n");
    writeFileSync(join(workspace.workingDir, "agent.txt"), "agent\n");
    await workspace.collectPatch();
    await expectCleanedUp(repo, workspace);
    expect(snapshot(repo)).toBe(before);
  });

  test("a failed run (files written, no patch collected) leaves the user's repository as it was", async () => {
    const repo = makeRepository();
    const before = snapshot(repo);
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    expect(workspace.notes.join(" ")).not.toContain("uncommitted");
    writeFileSync(join(workspace.workingDir, "half-done.txt"), "partial\n");
    rmSync(join(workspace.workingDir, "run.sh"));
    await expectCleanedUp(repo, workspace);
    await workspace.cleanup(); // idempotent
    expect(snapshot(repo)).toBe(before);
    await expect(workspace.collectPatch()).rejects.toBeInstanceOf(WorkspaceError);
  });

  test("a subdirectory cwd maps to the same subdirectory of the worktree", async () => {
    const repo = makeRepository();
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: join(repo, "sub", "dir"), logger: silent });
    try {
      expect(workspace.workingDir.endsWith(join("wt", "sub", "dir"))).toBe(true);
      expect(readFileSync(join(workspace.workingDir, "x.txt"), "utf8")).toBe("deep\n");
      writeFileSync(join(workspace.workingDir, "y.txt"), "sibling\n");
      expect((await workspace.collectPatch())?.patch).toContain("b/sub/dir/y.txt");
    } finally {
      await expectCleanedUp(repo, workspace);
    }
  });

  test("an untracked subdirectory cwd is refused (a checkout of HEAD has no such directory)", async () => {
    const repo = makeRepository();
    mkdirSync(join(repo, "scratch"));
    const attempt = prepareWorkspace({ git: hostGit, mode: "worktree", cwd: join(repo, "scratch"), logger: silent });
    await expect(attempt).rejects.toBeInstanceOf(WorkspaceError);
    await expect(attempt).rejects.toMatchObject({ message: expect.stringContaining("not in the commit HEAD"), hint: expect.stringContaining('isolation "mirror"') });
    expect(worktreeCount(repo)).toBe(1);
  });

  test("two worktrees of one repository at once do not collide", async () => {
    const repo = makeRepository();
    const [first, second] = await Promise.all([
      prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent }),
      prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent }),
    ]);
    expect(first.workingDir).not.toBe(second.workingDir);
    // Both exist side by side; neither is registered in the repository (its .git/worktrees stays empty).
    expect(exists(first.workingDir) && exists(second.workingDir)).toBe(true);
    expect(worktreeCount(repo)).toBe(1);
    writeFileSync(join(first.workingDir, "one.txt"), "1\n");
    writeFileSync(join(second.workingDir, "two.txt"), "2\n");
    const [patchOne, patchTwo] = (await Promise.all([first.collectPatch(), second.collectPatch()])).map((collected) => collected?.patch);
    expect(patchOne).toContain("b/one.txt");
    expect(patchOne).not.toContain("two.txt");
    expect(patchTwo).toContain("b/two.txt");
    expect(patchTwo).not.toContain("one.txt");
    await Promise.all([first.cleanup(), second.cleanup()]);
    expect(worktreeCount(repo)).toBe(1);
    expect(exists(workspaceBase(first.workingDir))).toBe(false);
    expect(exists(workspaceBase(second.workingDir))).toBe(false);
  });
  test("GIT_DIR and GIT_WORK_TREE in the server's environment do not redirect git", async () => {
    const repo = makeRepository();
    const decoy = makeRepository();
    const saved = { dir: process.env.GIT_DIR, tree: process.env.GIT_WORK_TREE, index: process.env.GIT_INDEX_FILE };
    process.env.GIT_DIR = join(decoy, ".git");
    process.env.GIT_WORK_TREE = decoy;
    process.env.GIT_INDEX_FILE = join(decoy, ".git", "index");
    let workspace: Workspace | undefined;
    try {
      workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: join(repo, "src"), logger: silent });
      writeFileSync(join(workspace.workingDir, "a.txt"), "changed\n");
      expect((await workspace.collectPatch())?.patch).toContain("b/src/a.txt");
    } finally {
      process.env.GIT_DIR = saved.dir;
      process.env.GIT_WORK_TREE = saved.tree;
      process.env.GIT_INDEX_FILE = saved.index;
      for (const [name, value] of Object.entries({ GIT_DIR: saved.dir, GIT_WORK_TREE: saved.tree, GIT_INDEX_FILE: saved.index })) {
        if (value === undefined) delete process.env[name];
      }
      if (workspace) await expectCleanedUp(repo, workspace);
    }
    expect(worktreeCount(decoy)).toBe(1);
  });

  test("a set-up aborted while git runs leaves nothing behind, whichever finishes first", async () => {
    const repo = makeRepository();
    for (let index = 0; index < 300; index += 1) writeFileSync(join(repo, `bulk${index}.txt`), `${index}\n`.repeat(200));
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "bulk");
    for (const delayMs of [0, 5, 20]) {
      const controller = new AbortController();
      const attempt = prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, signal: controller.signal, logger: silent });
      setTimeout(() => controller.abort(new Error("cancelled mid-way")), delayMs);
      const outcome = await attempt.then(
        (workspace) => workspace,
        (error: Error) => error,
      );
      if (outcome instanceof Error) expect(outcome.message).toBe("cancelled mid-way");
      else await outcome.cleanup();
      expect(worktreeCount(repo)).toBe(1);
      const adminDir = join(repo, ".git", "worktrees");
      expect(exists(adminDir) ? readdirSync(adminDir) : []).toEqual([]);
    }
  });

  test("an aborted set-up rejects and leaves no worktree behind", async () => {
    const repo = makeRepository();
    const controller = new AbortController();
    controller.abort(new Error("cancelled by test"));
    await expect(prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, signal: controller.signal, logger: silent })).rejects.toThrow(
      "cancelled by test",
    );
    expect(worktreeCount(repo)).toBe(1);
  });
});

describe("worktree isolation in a malicious repository", () => {
  let repo: string;
  let markers: string;

  beforeAll(() => {
    repo = makeRepository();
    markers = newTemp("ws-markers-");
    const plant = (path: string, marker: string) => {
      writeFileSync(path, `#!/bin/sh\ntouch "${join(markers, marker)}"\ncat\n`);
      chmodSync(path, 0o755);
    };
    // Hooks in the default place and in a configured hooksPath.
    for (const hook of ["post-checkout", "reference-transaction", "post-index-change"]) {
      plant(join(repo, ".git", "hooks", hook), `hook-${hook}`);
    }
    mkdirSync(join(repo, "evil-hooks"));
    plant(join(repo, "evil-hooks", "post-checkout"), "hookspath-post-checkout");
    git(repo, "config", "core.hooksPath", join(repo, "evil-hooks"));
    // A filter driver applied to every file, an fsmonitor program, an external diff and a textconv driver.
    plant(join(markers, "..", `${markers.split("/").pop()}-filter.sh`), "filter");
    const filter = join(markers, "..", `${markers.split("/").pop()}-filter.sh`);
    temps.push(filter);
    git(repo, "config", "filter.evil.smudge", filter);
    git(repo, "config", "filter.evil.clean", filter);
    git(repo, "config", "filter.evil.required", "true");
    git(repo, "config", "core.fsmonitor", filter);
    git(repo, "config", "diff.external", filter);
    git(repo, "config", "diff.evil.textconv", filter);
    git(repo, "config", "diff.evil.command", filter);
    writeFileSync(join(repo, ".gitattributes"), "* filter=evil diff=evil\n");
  });

  test("the planted programs do run under plain git (so this test can fail)", () => {
    const probe = join(newTemp("ws-probe-"), "wt");
    spawnSync("git", ["worktree", "add", "--detach", probe, "HEAD"], { cwd: repo });
    spawnSync("git", ["worktree", "remove", "--force", probe], { cwd: repo });
    expect(readdirSync(markers).length).toBeGreaterThan(0);
    rmSync(markers, { recursive: true, force: true });
    mkdirSync(markers);
  });

  test("no hook, filter, fsmonitor, external diff or textconv runs during set-up, patch or cleanup", async () => {
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    expect(workspace.notes.join("\n")).toContain("git filter drivers (evil) were not run");
    writeFileSync(join(workspace.workingDir, "src", "a.txt"), "changed\n");
    writeFileSync(join(workspace.workingDir, "fresh.txt"), "new\n");
    const patch = (await workspace.collectPatch())?.patch as string;
    expect(patch).toContain("b/fresh.txt");
    expect(patch).toContain("+changed");
    await expectCleanedUp(repo, workspace);
    expect(readdirSync(markers)).toEqual([]);
  });

  test("nor while spare worktrees are made, refreshed, brought to a new HEAD, used and removed", async () => {
    const baseDir = newTemp("ws-spares-");
    const pool = new SparePool({ perRepository: 1, baseDir, logger: silent });
    // Moving HEAD with plain git would run the planted programs itself: switch them off for the test's own commit.
    const quiet = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "filter.evil.clean=", "-c", "filter.evil.smudge=", "-c", "filter.evil.required=false"];
    try {
      for (let round = 0; round < 3; round += 1) {
        const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, spares: pool });
        if (round > 0) expect(workspace.notes.join("\n")).toContain("set-up came from a spare worktree");
        writeFileSync(join(workspace.workingDir, `fresh-${round}.txt`), "new\n");
        expect((await workspace.collectPatch())?.patch).toContain(`b/fresh-${round}.txt`);
        pool.deferRemoval(() => workspace.cleanup());
        await pool.settled();
        // HEAD moves by a changed file, so bringing the spare to it writes that file (a smudge filter would run).
        // The first such commit also commits the .gitattributes that apply the evil filter and diff to every file.
        writeFileSync(join(repo, "src", "a.txt"), `round ${round}\n`);
        git(repo, ...quiet, "add", "src/a.txt", ".gitattributes");
        git(repo, ...quiet, "commit", "-q", "-m", `round ${round}`);
      }
    } finally {
      await pool.close();
    }
    expect(readdirSync(markers)).toEqual([]);
    expect(readdirSync(baseDir)).toEqual([]);
    expect(git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
  }, 60_000);
});

describe("object formats", () => {
  test("a sha256 repository: the private git directories speak its format, and the patch comes back", async () => {
    const repo = join(newTemp("ws-sha256-"), "project");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "--object-format=sha256", "-b", "main");
    writeFileSync(join(repo, "a.txt"), "a\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "initial");
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    writeFileSync(join(workspace.workingDir, "a.txt"), "changed\n");
    expect((await workspace.collectPatch())?.patch).toContain("+changed");
    await workspace.cleanup();
  });
});

describe("a cancel at any moment of the set-up", () => {
  test("leaves no record in .git/worktrees and no staging directory in .git", async () => {
    const repo = makeSmallRepository();
    for (let index = 0; index < 200; index += 1) writeFileSync(join(repo, `f${index}.txt`), `${index}\n`);
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "more");
    for (let attempt = 0; attempt < 16; attempt += 1) {
      const controller = new AbortController();
      const pending = prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, signal: controller.signal, logger: silent });
      setTimeout(() => controller.abort(new Error("cancelled")), attempt * 2);
      const outcome = await pending.then((workspace) => workspace, (error: Error) => error);
      if (!(outcome instanceof Error)) await outcome.cleanup();
      const worktrees = join(repo, ".git", "worktrees");
      expect(existsSync(worktrees) ? readdirSync(worktrees) : [], `attempt ${attempt}`).toEqual([]);
      expect(readdirSync(join(repo, ".git")).filter((name) => name.startsWith("codex-subagents-"))).toEqual([]);
    }
  });
});

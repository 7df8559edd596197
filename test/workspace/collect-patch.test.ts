// Patch collection (src/workspace/collect-patch.ts) through prepareWorkspace: what the patch carries and that it
// applies, commits and non-UTF-8 files included, and that no driver of a replaced `.git` or of the user's global
// config runs while it is collected, and no secret-shaped file slips through. The hostile-tree cases are in
// hostile-tree.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { BINARY, exists, expectCleanedUp, git, makeRepository, makeSmallRepository, newTemp, removeAll, silent, temps } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

afterAll(() => removeAll(...temps));

describe("worktree isolation", () => {
  test("the patch carries modified, new, deleted, binary and mode changes and applies onto a fresh clone", async () => {
    const repo = makeRepository();
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    try {
      expect(workspace.mode).toBe("worktree");
      expect(workspace.workingDir).not.toBe(repo);
      const wt = workspace.workingDir;
      writeFileSync(join(wt, "src", "a.txt"), "line 1\nline two\nline 3\nline 4\n");
      writeFileSync(join(wt, "src", "new file.txt"), "brand new\n");
      rmSync(join(wt, "delete-me.txt"));
      writeFileSync(join(wt, "image.bin"), Buffer.concat([BINARY, BINARY]));
      writeFileSync(join(wt, "new.bin"), Buffer.from([0, 0, 7, 255]));
      chmodSync(join(wt, "sub", "dir", "x.txt"), 0o755);

      const patch = (await workspace.collectPatch())?.patch;
      expect(typeof patch).toBe("string");
      expect(patch).toContain("GIT binary patch");

      const clone = join(newTemp("ws-clone-"), "clone");
      git(repo, "clone", "-q", repo, clone);
      const patchFile = join(newTemp("ws-patch-"), "change.patch");
      writeFileSync(patchFile, patch as string);
      git(clone, "apply", "--check", patchFile);
      git(clone, "apply", patchFile);

      expect(readFileSync(join(clone, "src", "a.txt"), "utf8")).toBe("line 1\nline two\nline 3\nline 4\n");
      expect(readFileSync(join(clone, "src", "new file.txt"), "utf8")).toBe("brand new\n");
      expect(exists(join(clone, "delete-me.txt"))).toBe(false);
      expect(readFileSync(join(clone, "image.bin"))).toEqual(Buffer.concat([BINARY, BINARY]));
      expect(readFileSync(join(clone, "new.bin"))).toEqual(Buffer.from([0, 0, 7, 255]));
      expect(statSync(join(clone, "sub", "dir", "x.txt")).mode & 0o111).not.toBe(0);
      // The patch is against HEAD, and HEAD is what the clone has: nothing else differs.
      expect(git(clone, "status", "--porcelain").split("\n").filter(Boolean).sort()).toEqual([
        " D delete-me.txt",
        " M image.bin",
        " M src/a.txt",
        " M sub/dir/x.txt",
        '?? "src/new file.txt"',
        "?? new.bin",
      ]);
    } finally {
      await expectCleanedUp(repo, workspace);
    }
  });

  test("nothing changed gives an empty patch", async () => {
    const repo = makeRepository();
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    expect((await workspace.collectPatch())?.patch).toBe("");
    await expectCleanedUp(repo, workspace);
  });

  test("commits the sub-agent makes inside the worktree are still in the patch, and no branch appears", async () => {
    const repo = makeRepository();
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    writeFileSync(join(workspace.workingDir, "committed.txt"), "committed\n");
    git(workspace.workingDir, "add", "committed.txt");
    git(workspace.workingDir, "commit", "-q", "-m", "agent commit");
    writeFileSync(join(workspace.workingDir, "uncommitted.txt"), "loose\n");
    const patch = (await workspace.collectPatch())?.patch as string;
    expect(patch).toContain("b/committed.txt");
    expect(patch).toContain("b/uncommitted.txt");
    expect(git(repo, "branch", "--format=%(refname:short)").trim()).toBe("main");
    await expectCleanedUp(repo, workspace);
  });

  test("a changed text file that is not UTF-8 still comes back losslessly", async () => {
    const repo = makeRepository();
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    const latin1 = Buffer.from("caf\xe9 cr\xe8me\n", "latin1");
    writeFileSync(join(workspace.workingDir, "src", "a.txt"), latin1);
    writeFileSync(join(workspace.workingDir, "plain.txt"), "plain text stays text\n");
    const collected = await workspace.collectPatch();
    const patch = collected?.patch as string;
    // The note comes back with the patch (it used to be pushed into an array the caller had copied).
    expect(collected?.notes.join(" ")).toContain("not UTF-8");
    expect(collected?.notes.join(" ")).toContain("src/a.txt");
    expect(Object.isFrozen(collected?.notes)).toBe(true);
    // Only the Latin-1 file is re-encoded: the other stays readable (and redactable) text.
    expect(patch).toContain("+plain text stays text");
    const clone = join(newTemp("ws-clone-"), "clone");
    git(repo, "clone", "-q", repo, clone);
    const patchFile = join(newTemp("ws-patch-"), "change.patch");
    writeFileSync(patchFile, patch);
    git(clone, "apply", patchFile);
    expect(readFileSync(join(clone, "src", "a.txt"))).toEqual(latin1);
    await expectCleanedUp(repo, workspace);
  });

  test("collecting the patch ignores a .git the sub-agent replaced (its config could name programs to run)", async () => {
    // A sub-agent may write anywhere in its worktree, .git included. The patch is collected by the server, outside
    // codex's sandbox: a planted git directory whose config defines a filter driver must not get that driver run.
    const repo = makeRepository();
    const markers = newTemp("ws-planted-");
    const script = join(markers, "..", `${markers.split("/").pop()}-clean.sh`);
    temps.push(script);
    writeFileSync(script, `#!/bin/sh\ntouch "${join(markers, "clean-ran")}"\ncat\n`);
    chmodSync(script, 0o755);
    for (const variant of ["directory", "pointer"] as const) {
      const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
      const planted = join(newTemp("ws-planted-git-"), "repo");
      mkdirSync(planted);
      git(planted, "init", "-q");
      git(planted, "config", "filter.planted.clean", script);
      git(planted, "config", "filter.planted.smudge", script);
      const dotGit = join(workspace.workingDir, ".git");
      rmSync(dotGit, { recursive: true, force: true });
      if (variant === "directory") spawnSync("cp", ["-r", join(planted, ".git"), dotGit]);
      else writeFileSync(dotGit, `gitdir: ${join(planted, ".git")}\n`);
      writeFileSync(join(workspace.workingDir, ".gitattributes"), "* filter=planted\n");
      writeFileSync(join(workspace.workingDir, "fresh.txt"), "new\n");
      const patch = await workspace.collectPatch().then((collected) => collected?.patch, (error: Error) => error.message);
      expect(readdirSync(markers)).toEqual([]);
      expect(patch).toContain("b/fresh.txt");
      await expectCleanedUp(repo, workspace);
    }
  });
});

describe("the user's global config defines no driver for the server's git", () => {
  test("a driver in ~/.gitconfig (as Git LFS installs one), named by the sub-agent's .gitattributes, is not run", async () => {
    const repo = makeSmallRepository();
    const home = newTemp("ws-home-");
    const markers = newTemp("ws-home-markers-");
    const program = join(home, "clean.sh");
    writeFileSync(program, `#!/bin/sh\ntouch "${join(markers, "global-clean")}"\nexec cat\n`);
    chmodSync(program, 0o755);
    writeFileSync(join(home, ".gitconfig"), `[filter "userf"]\n\tclean = ${program}\n\tsmudge = ${program}\n\tprocess = ${program}\n`);
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
      writeFileSync(join(workspace.workingDir, ".gitattributes"), "* filter=userf\n");
      writeFileSync(join(workspace.workingDir, "a.txt"), "changed\n");
      const collected = await workspace.collectPatch();
      expect(collected?.patch).toContain("+changed");
      await workspace.cleanup();
    } finally {
      process.env.HOME = saved;
    }
    expect(readdirSync(markers)).toEqual([]);
  });
});

describe("a worktree built to resist the walk and the removal", () => {
  test("the list of changed files is read whole: a .env that sorts after a megabyte of names stays out", async () => {
    const repo = makeSmallRepository();
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    const wt = workspace.workingDir;
    const dir = join(wt, "a".repeat(150));
    mkdirSync(dir);
    for (let index = 0; index < 6000; index += 1) writeFileSync(join(dir, `file-${String(index).padStart(40, "0")}`), "");
    mkdirSync(join(wt, "zz"));
    writeFileSync(join(wt, "zz", ".env"), "PLAIN=value-of-the-env-file\n");
    const collected = await workspace.collectPatch();
    expect(collected?.patch).toContain("file-" + "0".repeat(40));
    expect(collected?.patch).not.toContain("value-of-the-env-file");
    expect(collected?.notes.join("\n")).toContain("zz/.env");
    await workspace.cleanup();
  }, 120_000);
});

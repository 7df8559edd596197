// The walk of a tree the sub-agent may have made hostile (src/workspace/hostile-tree.ts): planted `.git` entries and
// FIFOs taken out before git looks, names that are not UTF-8, chains thousands deep, and removeTree; the walk also
// through patch collection, which must come back rather than hang.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { removePlantedGitEntries, removeTree } from "../../src/workspace/hostile-tree.ts";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { WorkspaceError } from "../../src/workspace/types.ts";
import { makeDeepChain, makeSmallRepository, newTemp, removeAll, silent, temps, withoutPrivilege } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

afterAll(() => removeAll(...temps));

describe("planted .git entries", () => {
  test("every .git below the top is removed (dir, file, any case), the top one stays, symlinks are not followed", async () => {
    const root = newTemp("ws-plant-");
    const outside = newTemp("ws-plant-outside-");
    mkdirSync(join(outside, ".git"));
    writeFileSync(join(root, ".git"), "gitdir: /somewhere\n");
    mkdirSync(join(root, "sub", ".git", "objects"), { recursive: true });
    mkdirSync(join(root, "a", "b"), { recursive: true });
    writeFileSync(join(root, "a", "b", ".git"), "gitdir: ../../evil\n");
    mkdirSync(join(root, "c", ".GIT"), { recursive: true });
    symlinkSync(outside, join(root, "link-out"));
    const swept = await removePlantedGitEntries(root);
    expect(swept.removed).toEqual(["a/b/.git", "c/.GIT", "sub/.git"]);
    expect(existsSync(join(root, ".git"))).toBe(true);
    expect(existsSync(join(outside, ".git"))).toBe(true); // reached only through a link: untouched
  });

  test("names that are not UTF-8 are walked as bytes: a .git below one is removed, the files beside it stay", async () => {
    const root = newTemp("ws-plant-raw-");
    const raw = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x63, 0x61, 0x66, 0xe9])]); // "caf" + Latin-1 é
    mkdirSync(Buffer.concat([raw, Buffer.from("/deeper/.git/objects")]), { recursive: true });
    writeFileSync(Buffer.concat([raw, Buffer.from("/.git")]), "gitdir: /somewhere\n");
    writeFileSync(Buffer.concat([raw, Buffer.from("/kept.txt")]), "kept\n");
    const swept = await removePlantedGitEntries(root);
    expect(swept.removed).toEqual([JSON.stringify("caf\xe9/.git"), JSON.stringify("caf\xe9/deeper/.git")]);
    expect(existsSync(Buffer.concat([raw, Buffer.from("/kept.txt")]))).toBe(true);
    expect(existsSync(Buffer.concat([raw, Buffer.from("/deeper")]))).toBe(true);
  });

  test("a tree over the entry limit is refused, not walked for ever", async () => {
    const root = newTemp("ws-plant-many-");
    for (let index = 0; index < 20; index += 1) writeFileSync(join(root, `f${index}`), "");
    await expect(removePlantedGitEntries(root, 10)).rejects.toBeInstanceOf(WorkspaceError);
  });
});

/** A worktree of a fresh repository whose `a.txt` the "sub-agent" changed. */
async function changedWorktree(): Promise<{ workspace: Awaited<ReturnType<typeof prepareWorkspace>>; wt: string }> {
  const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: makeSmallRepository(), logger: silent });
  writeFileSync(join(workspace.workingDir, "a.txt"), "changed\n");
  return { workspace, wt: workspace.workingDir };
}

/** Collect the patch, which must come back within `limitMs` (a hang runs to git's 10-minute timeout) with the change. */
async function collectWithin(workspace: Awaited<ReturnType<typeof prepareWorkspace>>, limitMs: number) {
  const started = Date.now();
  const collected = await workspace.collectPatch();
  expect(Date.now() - started).toBeLessThan(limitMs);
  expect(collected?.patch).toContain("+changed");
  return collected;
}

/** Clean up, and nothing of the worktree is left. */
async function cleanedUp(workspace: Awaited<ReturnType<typeof prepareWorkspace>>, wt: string): Promise<void> {
  await workspace.cleanup();
  expect(existsSync(dirname(wt))).toBe(false);
}

describe("a worktree built to resist the walk and the removal", () => {
  test("a FIFO as .gitignore or .gitattributes (top and depth) is removed: collecting the patch does not hang", async () => {
    const { workspace, wt } = await changedWorktree();
    mkdirSync(join(wt, "deep", "er"), { recursive: true });
    writeFileSync(join(wt, "deep", "er", "file.txt"), "new file\n");
    spawnSync("mkfifo", [join(wt, ".gitignore"), join(wt, "deep", ".gitignore"), join(wt, "deep", "er", ".gitattributes")]);
    const collected = await collectWithin(workspace, 30_000);
    expect(collected?.patch).toContain("+new file");
    expect(collected?.notes.join("\n")).toContain("deep/er/.gitattributes");
    await cleanedUp(workspace, wt);
  }, 60_000);

  test("a tracked path below a directory its owner cannot list, made a repository with a FIFO HEAD, is found", () => {
    const root = newTemp("ws-plant-hidden-");
    mkdirSync(join(root, "src", "b", ".git", "objects"), { recursive: true });
    mkdirSync(join(root, "src", "b", ".git", "refs"));
    spawnSync("mkfifo", [join(root, "src", "b", ".git", "HEAD"), join(root, "src", ".gitignore")]);
    chmodSync(join(root, "src"), 0o100); // enterable (git reaches src/b by name), not listable
    const swept = withoutPrivilege(`
      const { removePlantedGitEntries } = await import(SRC + "/workspace/hostile-tree.ts");
      console.log(JSON.stringify(await removePlantedGitEntries(${JSON.stringify(root)})));
    `) as { removed: string[] };
    expect(swept.removed).toEqual(["src/.gitignore", "src/b/.git"]);
    expect(existsSync(join(root, "src", "b", ".git"))).toBe(false);
  });

  test("a planted .git holding a chain of directories thousands deep is out of git's sight at once", async () => {
    const { workspace, wt } = await changedWorktree();
    mkdirSync(join(wt, "sub", ".git"), { recursive: true });
    makeDeepChain(join(wt, "sub", ".git"), 6000);
    // About a second here; a recursive rmSync held the event loop for minutes (92 s at this depth, measured).
    const collected = await collectWithin(workspace, 30_000);
    expect(collected?.notes.join("\n")).toContain("sub/.git");
    await cleanedUp(workspace, wt);
  }, 120_000);

  test("removeTree takes names that are not UTF-8 and leaves nothing", async () => {
    const root = newTemp("ws-rm-raw-");
    const raw = Buffer.concat([Buffer.from(`${root}/t/`), Buffer.from([0x63, 0x61, 0x66, 0xe9])]);
    mkdirSync(Buffer.concat([raw, Buffer.from("/d")]), { recursive: true });
    writeFileSync(Buffer.concat([raw, Buffer.from("/d/"), Buffer.from([0xff])]), "x");
    await removeTree(join(root, "t"));
    expect(readdirSync(root)).toEqual([]);
  });
});

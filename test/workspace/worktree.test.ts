import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { WorkspaceError, type Workspace } from "../../src/workspace/types.ts";
import { SparePool } from "../../src/workspace/spares.ts";
import { commitAsInitial, exists, git, removeAll, tempDir, workspaceBase } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

const silent = { warn: () => {}, debug: () => {} };
const BINARY = Buffer.from([0, 1, 2, 3, 255, 254, 0, 10, 13, 0, 128]);
const temps: string[] = [];

function newTemp(prefix?: string): string {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
}

/** A repository with text, binary, nested and executable files in one commit. */
function makeRepository(): string {
  const repo = join(newTemp("ws-repo-"), "project");
  mkdirSync(join(repo, "src"), { recursive: true });
  mkdirSync(join(repo, "sub", "dir"), { recursive: true });
  writeFileSync(join(repo, "src", "a.txt"), "line 1\nline 2\nline 3\n");
  writeFileSync(join(repo, "delete-me.txt"), "going away\n");
  writeFileSync(join(repo, "image.bin"), BINARY);
  writeFileSync(join(repo, "sub", "dir", "x.txt"), "deep\n");
  writeFileSync(join(repo, "run.sh"), "#!/bin/sh\necho hi\n");
  chmodSync(join(repo, "run.sh"), 0o755);
  commitAsInitial(repo);
  return repo;
}

/** Everything a user could notice about their repository: status, stash, branches, HEAD, file mtimes. */
function snapshot(repo: string): string {
  const mtimes: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path === join(repo, ".git", "worktrees")) continue; // git's own record of linked worktrees
        walk(path);
      } else {
        // Git may refresh the mtime of an object it finds already stored (its "freshen" step, for gc timing);
        // that object's content and the set of objects must not change, so objects are listed by name only.
        const isObject = path.startsWith(join(repo, ".git", "objects"));
        mtimes.push(isObject ? path : `${path} ${statSync(path).mtimeMs}`);
      }
    }
  };
  walk(repo);
  return [
    git(repo, "--no-optional-locks", "status", "--porcelain"),
    git(repo, "stash", "list"),
    git(repo, "branch", "-a"),
    git(repo, "rev-parse", "HEAD"),
    mtimes.sort().join("\n"),
  ].join("\n---\n");
}

function worktreeCount(repo: string): number {
  return git(repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((line) => line.startsWith("worktree ")).length;
}

async function expectCleanedUp(repo: string, workspace: Workspace): Promise<void> {
  const base = workspaceBase(workspace.workingDir);
  await workspace.cleanup();
  expect(exists(base)).toBe(false);
  expect(worktreeCount(repo)).toBe(1);
  const adminDir = join(repo, ".git", "worktrees");
  expect(exists(adminDir) ? readdirSync(adminDir) : []).toEqual([]);
}

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

  test("cleanup never throws, even when the worktree or the whole repository vanished first", async () => {
    const repo = makeRepository();
    const first = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    rmSync(first.workingDir, { recursive: true, force: true });
    await expectCleanedUp(repo, first);

    const warnings: string[] = [];
    const second = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: { warn: (m) => warnings.push(m), debug: () => {} } });
    const base = workspaceBase(second.workingDir);
    rmSync(repo, { recursive: true, force: true });
    await second.cleanup();
    expect(exists(base)).toBe(false);
    expect(warnings).toEqual([]);
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
    await expect(attempt).rejects.toThrow(/not in the commit HEAD.*isolation "mirror"/);
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

  test("a cwd outside any git repository is refused with the way out", async () => {
    const plain = newTemp("ws-plain-");
    const attempt = prepareWorkspace({ git: hostGit, mode: "worktree", cwd: plain, logger: silent });
    await expect(attempt).rejects.toBeInstanceOf(WorkspaceError);
    await expect(attempt).rejects.toThrow(
      `cwd "${plain}" is not inside a git repository; pass \`cwd\` naming a directory in one, use isolation "none" or "mirror", or run \`git init\` there`,
    );
  });

  test("a repository with no commits is refused", async () => {
    const empty = newTemp("ws-empty-");
    git(empty, "init", "-q");
    const attempt = prepareWorkspace({ git: hostGit, mode: "worktree", cwd: empty, logger: silent });
    await expect(attempt).rejects.toBeInstanceOf(WorkspaceError);
    await expect(attempt).rejects.toThrow(/has no commits yet.*git commit/);
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

  test("nor while spare worktrees are made, refreshed, brought to a new HEAD, used and removed (issue 13)", async () => {
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

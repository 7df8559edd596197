// The pure parts of "git that reads only what we trust", and the module-level checks that need no
// server: version gates, the private config, the planted-.git sweep, patch splitting, secret-shaped names, and the
// refusal of a cwd inside a git directory.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { findEnclosingGitDir, refuseGitDirectory } from "../../src/policy/git-dir.ts";
import { PolicyError } from "../../src/policy/roots.ts";
import {
  isolatedConfigEnv, parseGitVersion, SAFETY_CONFIG, versionAtLeast,
} from "../../src/workspace/git.ts";
import { removePlantedGitEntries, removeTree } from "../../src/workspace/hostile-tree.ts";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { WorkspaceError } from "../../src/workspace/types.ts";
import { headerPath, isSecretShapedPath, splitPatch } from "../../src/workspace/patch-parts.ts";
import { privateConfigText, readSmallText } from "../../src/workspace/private-git.ts";
import { commitAsInitial, git, removeAll, tempDir } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

const silent = { warn: () => {}, debug: () => {} };
const temps: string[] = [];
function newTemp(prefix?: string): string {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
}
afterAll(() => removeAll(...temps));

function makeRepository(): string {
  const repo = join(newTemp("ws-herm-"), "project");
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, "a.txt"), "a\n");
  commitAsInitial(repo);
  return repo;
}

describe("version gates", () => {
  test("git --version output is parsed, platform suffixes included", () => {
    expect(parseGitVersion("git version 2.39.5\n")).toEqual([2, 39, 5]);
    expect(parseGitVersion("git version 2.40.0.windows.1")).toEqual([2, 40, 0]);
    expect(parseGitVersion("git version 2.45")).toEqual([2, 45, 0]);
    expect(parseGitVersion("not git")).toBeUndefined();
    expect(versionAtLeast([2, 39, 5], 2, 40)).toBe(false);
    expect(versionAtLeast([3, 0, 0], 2, 40)).toBe(true);
  });

  test("system and global config are off; before 2.32 by pointing HOME away", () => {
    const modern = isolatedConfigEnv([2, 39, 5]);
    expect(modern).toMatchObject({ GIT_CONFIG_NOSYSTEM: "1", GIT_ATTR_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" });
    expect(modern.HOME).toBeUndefined();
    expect(isolatedConfigEnv([2, 31, 0]).HOME).toMatch(/^\/nonexistent\//);
  });

  test("every program-valued key git 2.39 could reach in our commands is forced off", () => {
    for (const pair of [
      "core.hooksPath=/dev/null", "core.fsmonitor=false", "core.sshCommand=", "core.askPass=", "core.pager=cat",
      "core.editor=:", "sequence.editor=:", "credential.helper=", "diff.external=", "gpg.program=", "protocol.allow=never",
      "submodule.recurse=false",
    ]) {
      expect(SAFETY_CONFIG).toContain(pair);
    }
  });
});

describe("the private git directory's config", () => {
  test("carries only data keys with plain values; anything that could name a program is dropped", () => {
    const text = privateConfigText("sha1", new Map([
      ["core.autocrlf", "input"],
      ["core.filemode", "false"],
      ["core.fsmonitor", "/evil"],
      ["core.eol", "lf\n[filter \"x\"]\n\tclean = /evil"],
      ["filter.x.clean", "/evil"],
    ]));
    expect(text).toBe("[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tautocrlf = input\n\tfilemode = false\n");
    expect(privateConfigText("sha256")).toContain("objectformat = sha256");
  });
});

describe("reading the repository's small files", () => {
  test("a FIFO, a symlink or a directory where info/exclude should be is read as empty, never blocks", async () => {
    const dir = newTemp("ws-small-");
    spawnSync("mkfifo", [join(dir, "fifo")]);
    writeFileSync(join(dir, "real"), "*.log\n");
    symlinkSync(join(dir, "real"), join(dir, "link"));
    expect(await readSmallText(join(dir, "fifo"))).toBe("");
    expect(await readSmallText(join(dir, "link"))).toBe("");
    expect(await readSmallText(dir)).toBe("");
    expect(await readSmallText(join(dir, "missing"))).toBe("");
    expect(await readSmallText(join(dir, "real"))).toBe("*.log\n");
  });
});

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

/**
 * A chain of `depth` directories named `a` below `dir`, ending in a file: deeper than any path can name, so it is built
 * from the bottom up, each block of 500 made by name and then moved, whole, below a new block.
 */
function makeDeepChain(dir: string, depth: number): void {
  const stage = newTemp("ws-chain-");
  let made = 0;
  let held: string | undefined; // the chain so far, at stage/<n>
  for (let block = 0; made < depth; block += 1) {
    const levels = Math.min(500, depth - made);
    const top = join(stage, String(block));
    const bottom = join(top, ...Array.from({ length: levels - 1 }, () => "a"));
    mkdirSync(bottom, { recursive: true });
    if (held) renameSync(held, join(bottom, "a"));
    else writeFileSync(join(bottom, "f"), "x");
    held = top;
    made += levels;
  }
  renameSync(held as string, join(dir, "a"));
}

/**
 * Run `code` (an ES module body; `SRC` is src/'s absolute path) in a child that the file system's permission bits bind
 * (as root: without capabilities, so a directory made `chmod 100` cannot be listed); its stdout is parsed as JSON.
 */
function withoutPrivilege(code: string): unknown {
  const script = join(newTemp("ws-unpriv-"), "script.ts");
  writeFileSync(script, `const SRC = ${JSON.stringify(resolve(import.meta.dir, "../../src"))};\n${code}`);
  const argv = process.getuid?.() === 0 ? ["setpriv", "--bounding-set=-all", "--inh-caps=-all", process.execPath, script] : [process.execPath, script];
  const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: "utf8", timeout: 60_000 });
  if (run.status !== 0) throw new Error(`child failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split("\n").pop() as string);
}

/** A worktree of a fresh repository whose `a.txt` the "sub-agent" changed. */
async function changedWorktree(): Promise<{ workspace: Awaited<ReturnType<typeof prepareWorkspace>>; wt: string }> {
  const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: makeRepository(), logger: silent });
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

  test("a worktree with directories made unwritable and unreadable, and a chain 20 000 deep, is removed whole", () => {
    const base = newTemp("ws-resist-");
    const wt = join(base, "wt");
    mkdirSync(join(wt, "locked", "inner"), { recursive: true });
    writeFileSync(join(wt, "locked", "inner", "f"), "x");
    mkdirSync(join(wt, "sealed", "inner"), { recursive: true });
    writeFileSync(join(wt, "sealed", "inner", "f"), "x");
    mkdirSync(join(wt, "chain"));
    makeDeepChain(join(wt, "chain"), 20_000);
    chmodSync(join(wt, "locked", "inner"), 0o500);
    chmodSync(join(wt, "sealed"), 0o000);
    const outcome = withoutPrivilege(`
      const { removeWorktree } = await import(SRC + "/workspace/removal.ts");
      const warnings = [];
      const started = performance.now();
      await removeWorktree(${JSON.stringify(base)}, ${JSON.stringify(wt)}, { warn: (m) => warnings.push(m), debug() {} });
      console.log(JSON.stringify({ warnings, ms: performance.now() - started, left: require("fs").existsSync(${JSON.stringify(base)}) }));
    `) as { warnings: string[]; ms: number; left: boolean };
    expect(outcome.warnings).toEqual([]);
    expect(outcome.left).toBe(false);
    expect(outcome.ms).toBeLessThan(100_000); // about 7 s here; rm -r ran for hours on such a chain
  }, 240_000);

  test("removeTree takes names that are not UTF-8 and leaves nothing", async () => {
    const root = newTemp("ws-rm-raw-");
    const raw = Buffer.concat([Buffer.from(`${root}/t/`), Buffer.from([0x63, 0x61, 0x66, 0xe9])]);
    mkdirSync(Buffer.concat([raw, Buffer.from("/d")]), { recursive: true });
    writeFileSync(Buffer.concat([raw, Buffer.from("/d/"), Buffer.from([0xff])]), "x");
    await removeTree(join(root, "t"));
    expect(readdirSync(root)).toEqual([]);
  });

  test("the list of changed files is read whole: a .env that sorts after a megabyte of names stays out", async () => {
    const repo = makeRepository();
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

describe("patch parts", () => {
  const part = (header: string, body: string) => `diff --git ${header}\n${body}`;
  test("paths are read from plain headers (spaces included) and C-quoted ones (octal bytes included)", () => {
    expect(headerPath(Buffer.from("a/dir/my file.txt b/dir/my file.txt"))?.toString()).toBe("dir/my file.txt");
    expect(headerPath(Buffer.from('"a/caf\\303\\251 \\"q\\".txt" "b/caf\\303\\251 \\"q\\".txt"'))?.toString()).toBe('café "q".txt');
    expect(headerPath(Buffer.from("a/x b/y"))).toBeUndefined();
  });

  test("a patch splits into per-file parts that know if they are binary or UTF-8", () => {
    const patch = Buffer.concat([
      Buffer.from(part("a/t.txt b/t.txt", "--- a/t.txt\n+++ b/t.txt\n@@ -1 +1 @@\n-a\n+b\n")),
      Buffer.from(part("a/l.txt b/l.txt", "@@ -1 +1 @@\n-a\n+caf")),
      Buffer.from([0xe9, 10]),
      Buffer.from(part("a/i.bin b/i.bin", "index 1..2\nGIT binary patch\nliteral 3\nKcmZQz\n\n")),
    ]);
    const parts = splitPatch(patch)!;
    expect(parts.map((p) => [p.path.toString(), p.binary, p.utf8])).toEqual([
      ["t.txt", false, true],
      ["l.txt", false, false],
      ["i.bin", true, true],
    ]);
    expect(Buffer.concat(parts.map((p) => p.bytes)).equals(patch)).toBe(true);
    expect(splitPatch(Buffer.alloc(0))).toEqual([]);
    expect(splitPatch(Buffer.from("garbage"))).toBeUndefined();
  });

  test("secret-shaped names: env files, keys, credential stores and anything in a credentials directory", () => {
    for (const path of [".env", "config/.env.production", "keys/id_rsa", "id_ed25519.pub", "cert/server.pem", "a/.netrc", ".ssh/config", "x/.aws/credentials"]) {
      expect(isSecretShapedPath(path), path).toBe(true);
    }
    for (const path of ["src/env.ts", "README.md", "environment/setup.md", "node_modules/x.js", "docs/keys.md"]) {
      expect(isSecretShapedPath(path), path).toBe(false);
    }
  });
});

describe("cwd inside a git directory", () => {
  test("the walk stops at the first git directory, and a directory named .git always counts", async () => {
    const probe = async (dir: string) => dir === "/srv/bare.git";
    expect(await findEnclosingGitDir("/srv/bare.git/refs/heads", probe)).toBe("/srv/bare.git");
    expect(await findEnclosingGitDir("/work/repo/.git/modules/x", async () => false)).toBe("/work/repo/.git");
    expect(await findEnclosingGitDir("/work/repo/src", async () => false)).toBeUndefined();
  });

  test("refused: .git, its hooks, a submodule's git directory, a bare repository; allowed: the working tree", async () => {
    const repo = makeRepository();
    mkdirSync(join(repo, ".git", "modules", "sm"), { recursive: true });
    const bare = join(newTemp("ws-bare-"), "bare.git");
    git(newTemp("ws-bare-parent-"), "init", "-q", "--bare", bare);
    for (const cwd of [join(repo, ".git"), join(repo, ".git", "hooks"), join(repo, ".git", "modules", "sm"), bare, join(bare, "refs")]) {
      await expect(refuseGitDirectory(cwd), cwd).rejects.toBeInstanceOf(PolicyError);
    }
    expect(await refuseGitDirectory(repo)).toBe(repo);
  });
});

describe("repositories refused for worktree isolation", () => {
  test("core.worktree", async () => {
    const repo = makeRepository();
    git(repo, "config", "core.worktree", repo);
    await expect(prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent })).rejects.toThrow(/sets core\.worktree/);
  });

  test("a top level or git directory outside the roots", async () => {
    const repo = makeRepository();
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

describe("the user's global config defines no driver for the server's git", () => {
  test("a driver in ~/.gitconfig (as Git LFS installs one), named by the sub-agent's .gitattributes, is not run", async () => {
    const repo = makeRepository();
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

describe("a FIFO in the user's tree", () => {
  test("a nested repository whose HEAD is a FIFO bounds the dirty check instead of hanging the set-up", async () => {
    const repo = makeRepository();
    mkdirSync(join(repo, "trap", ".git", "objects"), { recursive: true });
    mkdirSync(join(repo, "trap", ".git", "refs"));
    spawnSync("mkfifo", [join(repo, "trap", ".git", "HEAD")]);
    const started = Date.now();
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(workspace.notes.join("\n")).toContain("did not finish");
    await workspace.cleanup();
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
    const repo = makeRepository();
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

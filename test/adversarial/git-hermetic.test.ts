// Git that reads only what we trust: a hostile repository, and a sub-agent that plants git metadata in
// its worktree, each try to make the server's own git run a program of theirs, outside codex's sandbox. Every
// program they name is a script that touches a marker file; after every case no marker may exist, the call must have
// answered (a refusal or a success), and no worktree, temporary directory or process may be left.
//
// Vectors: `includeIf "gitdir:**/worktrees/**"` and `[include]` config files, `.git/info/attributes`, `.gitattributes`
// at depth, a submodule's own `.git/modules/<name>/config`, `core.fsmonitor`/`core.hooksPath`/`core.pager`/
// `diff.external`/textconv in each of those places, a `.git` planted by the sub-agent at a submodule path, at depth and
// at the top, a FIFO as a planted repository's HEAD, `core.worktree`, a git directory outside the roots, and `cwd`
// inside a git directory in every isolation mode.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import { closeServerWorld } from "../helpers/codex-server.ts";
import { assistantMessage, developerMessages, functionCall, functionCallOutputs, startMockModel, type MockModel } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";
import {
  afterCase, countBadInput, fakeCall, makeScratch, newToken, startServer, useScratch, workDirOf, type AdversarialServer,
  type PlantItem, type Scratch,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);
let server: AdversarialServer;
let markers: string;
let bin: string;

const GIT_ENV = {
  GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};

function git(cwd: string, ...args: string[]): string {
  const run = spawnSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, ...GIT_ENV, HOME: scratch.base } });
  if (run.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout;
}

/** An attacker's program: touches markers/<name>; a filter also passes its input through. */
function program(name: string, filter = false): string {
  const file = path.join(bin, name);
  writeFileSync(file, `#!/bin/sh\ntouch "${path.join(markers, name)}"\n${filter ? "exec cat\n" : ""}`);
  chmodSync(file, 0o755);
  return file;
}

/** Config text that defines, for one source, every program-valued key and the drivers `names` (marker `<source>-…`). */
function hostileConfig(source: string, names: string[]): string {
  const hooks = path.join(scratch.base, `hooks-${source}`);
  mkdirSync(hooks, { recursive: true });
  for (const hook of ["post-checkout", "reference-transaction", "post-index-change", "pre-commit"]) {
    writeFileSync(path.join(hooks, hook), `#!/bin/sh\nexec "${program(`${source}-hook-${hook}`)}"\n`);
    chmodSync(path.join(hooks, hook), 0o755);
  }
  const lines = [
    "[core]",
    `\tfsmonitor = ${program(`${source}-fsmonitor`)}`,
    `\thooksPath = ${hooks}`,
    `\tpager = ${program(`${source}-pager`)}`,
    `\tsshCommand = ${program(`${source}-ssh`)}`,
    `\taskPass = ${program(`${source}-askpass`)}`,
    `\teditor = ${program(`${source}-editor`)}`,
    "[diff]",
    `\texternal = ${program(`${source}-diff-external`)}`,
    "[gpg]",
    `\tprogram = ${program(`${source}-gpg`)}`,
    "[credential]",
    `\thelper = ${program(`${source}-credential`)}`,
  ];
  for (const name of names) {
    lines.push(
      `[filter "${name}"]`,
      `\tclean = ${program(`${source}-${name}-clean`, true)}`,
      `\tsmudge = ${program(`${source}-${name}-smudge`, true)}`,
      `\trequired = true`,
      `[diff "${name}"]`,
      `\ttextconv = ${program(`${source}-${name}-textconv`, true)}`,
      `\tcommand = ${program(`${source}-${name}-command`)}`,
      `[merge "${name}"]`,
      `\tdriver = ${program(`${source}-${name}-merge`)}`,
    );
  }
  return lines.join("\n") + "\n";
}

function markersSeen(): string[] {
  return existsSync(markers) ? readdirSync(markers).sort() : [];
}

function clearMarkers(): void {
  rmSync(markers, { recursive: true, force: true });
  mkdirSync(markers);
}

// Every driver name an attribute file in the repository (or the sub-agent) mentions.
const DRIVERS = ["localf", "incf", "wtf", "infof", "smf", "deepf"];

beforeAll(async () => {
  markers = path.join(scratch.base, "markers");
  bin = path.join(scratch.base, "bin");
  mkdirSync(markers);
  mkdirSync(bin);
  const root = scratch.root;

  // The hostile repository: content first (committed with plain git, before any program is configured).
  git(root, "init", "-q", "-b", "main");
  writeFileSync(path.join(root, "README.md"), "hello\n");
  writeFileSync(path.join(root, "info.txt"), "named by info/attributes\n");
  writeFileSync(path.join(root, ".gitattributes"), "README.md filter=localf diff=localf\n*.cfg filter=incf diff=incf\n");
  writeFileSync(path.join(root, "x.cfg"), "k = v\n");
  mkdirSync(path.join(root, "deep", "a", "b"), { recursive: true });
  writeFileSync(path.join(root, "deep", "a", "b", ".gitattributes"), "* filter=wtf diff=wtf merge=wtf\n");
  writeFileSync(path.join(root, "deep", "a", "b", "file.txt"), "deep file\n");
  // A populated submodule whose git directory is .git/modules/sm, with attributes of its own.
  mkdirSync(path.join(root, ".git", "modules"), { recursive: true });
  git(root, "init", "-q", "--separate-git-dir", path.join(root, ".git", "modules", "sm"), path.join(root, "sm"));
  writeFileSync(path.join(root, "sm", ".gitattributes"), "* filter=smf diff=smf\n");
  writeFileSync(path.join(root, "sm", "inner.txt"), "submodule file\n");
  git(path.join(root, "sm"), "add", "-A");
  git(path.join(root, "sm"), "commit", "-q", "-m", "sm");
  writeFileSync(path.join(root, ".gitmodules"), '[submodule "sm"]\n\tpath = sm\n\turl = ./sm\n');
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "init");

  // Then the programs, in every place git reads configuration or attributes from.
  const gitDir = path.join(root, ".git");
  // Each source defines only its own drivers, so that listing drivers from the repository's config (what the server
  // once did) misses the ones only a worktree or a submodule sees.
  writeFileSync(path.join(gitDir, "included.cfg"), hostileConfig("include", ["incf"]));
  writeFileSync(path.join(gitDir, "worktrees-only.cfg"), hostileConfig("worktrees", ["wtf", "infof"]));
  writeFileSync(
    path.join(gitDir, "config"),
    (await Bun.file(path.join(gitDir, "config")).text()) +
      hostileConfig("local", ["localf"]) +
      `[include]\n\tpath = included.cfg\n[includeIf "gitdir:**/worktrees/**"]\n\tpath = worktrees-only.cfg\n`,
  );
  mkdirSync(path.join(gitDir, "info"), { recursive: true });
  writeFileSync(path.join(gitDir, "info", "attributes"), "info.txt filter=infof diff=infof\n");
  for (const hook of ["post-checkout", "reference-transaction", "post-index-change"]) {
    writeFileSync(path.join(gitDir, "hooks", hook), `#!/bin/sh\nexec "${program(`default-hook-${hook}`)}"\n`);
    chmodSync(path.join(gitDir, "hooks", hook), 0o755);
  }
  const smConfig = path.join(gitDir, "modules", "sm", "config");
  writeFileSync(smConfig, (await Bun.file(smConfig).text()) + hostileConfig("modules", ["smf"]));
  // Stat-dirty (same content, new mtime): a status that entered the submodule would run its clean filter on it.
  const future = new Date(Date.now() + 60_000);
  utimesSync(path.join(root, "sm", "inner.txt"), future, future);

  server = await startServer(scratch, { env: { HOME: scratch.base } });
});

async function call(args: Record<string, unknown>): Promise<any> {
  return server.client.callTool({ name: "delegate", arguments: args }, { timeout: 120_000 });
}

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

/**
 * A planted repository at `dir` whose HEAD is a FIFO (git blocks on opening it), a file `beside` it and one real
 * change; with `latin1`, the paths below `dir` are bytes (a name that is not UTF-8).
 */
function fifoHeadRepo(dir: string, beside: PlantItem, latin1 = false): PlantItem[] {
  return [
    { path: `${dir}/.git/objects`, dir: true, latin1 },
    { path: `${dir}/.git/refs`, dir: true, latin1 },
    { path: `${dir}/.git/HEAD`, fifo: true, latin1 },
    { ...beside, latin1 },
    { path: "added.txt", text: "still collected\n" },
  ];
}

/** One bad input: a run that plants `fifoHeadRepo(...)`; checks the call answered, well before git's 10-minute timeout. */
async function fifoHeadRun(name: string, dir: string, beside: PlantItem, latin1 = false): Promise<{ token: string; content: any }> {
  countBadInput();
  const token = newToken(name);
  const started = Date.now();
  const result = await plantedRun(token, fifoHeadRepo(dir, beside, latin1));
  expect(result.isError).toBeFalsy();
  expect(Date.now() - started).toBeLessThan(60_000);
  return { token, content: result.structuredContent };
}

/** The patch has each of `inPatch`, the notes say `inNotes`, no planted program ran; then the usual after-case checks. */
async function expectCollected(token: string, content: { patch: string; notes: string[] }, inPatch: string[], inNotes: string): Promise<void> {
  for (const text of inPatch) expect(content.patch).toContain(text);
  expect(content.notes.join("\n")).toContain(inNotes);
  expect(markersSeen()).toEqual([]);
  await afterCase(server, token);
}

/** A worktree run at the top of the hostile repository whose fake codex plants `plant` (a hostile sub-agent's files). */
function plantedRun(token: string, plant: PlantItem[]): Promise<any> {
  return call(fakeCall(scratch, token, { plant }, { isolation: "worktree", cwd: scratch.root }));
}

describe("the attack is real", () => {
  test("plain git in this repository runs the planted programs (so the cases below can fail)", () => {
    const probe = path.join(scratch.base, "probe-wt");
    spawnSync("git", ["worktree", "add", "--detach", probe, "HEAD"], { cwd: scratch.root, env: { ...process.env, HOME: scratch.base } });
    spawnSync("git", ["status"], { cwd: scratch.root, env: { ...process.env, HOME: scratch.base } });
    spawnSync("git", ["worktree", "remove", "--force", probe], { cwd: scratch.root, env: { ...process.env, HOME: scratch.base } });
    spawnSync("git", ["worktree", "prune"], { cwd: scratch.root });
    const seen = markersSeen();
    expect(seen).toContain("worktrees-wtf-smudge"); // includeIf gitdir:**/worktrees/** applies inside a worktree only
    expect(seen.some((name) => name.startsWith("modules-"))).toBe(true); // .git/modules/sm/config, entered by status
    clearMarkers();
  });
});

describe("a hostile repository runs nothing of its own in the server's git", () => {
  test("worktree set-up, dirty check, patch and cleanup: no hook, filter, textconv, fsmonitor, pager or external diff", async () => {
    countBadInput();
    const token = newToken("hostile-repo");
    const result = await plantedRun(token, [
      { path: "README.md", text: "hello\nchanged by the sub-agent\n" },
      { path: "deep/a/b/new.txt", text: "new deep file\n" },
      { path: "info.txt", text: "edited\n" },
    ]);
    expect(result.isError).toBeFalsy();
    const patch: string = result.structuredContent.patch;
    expect(patch).toContain("+changed by the sub-agent");
    expect(patch).toContain("b/deep/a/b/new.txt");
    expect(markersSeen()).toEqual([]);
    // The used worktree is removed just after the result; the server's spare of this repository (made, index-refreshed
    // and later removed the same hermetic way) stays while the server runs, and runs nothing either. Nothing of the
    // server's is registered in the repository; the spare lives in the private work directory.
    const listed = () => git(scratch.root, "worktree", "list").trim().split("\n");
    const spares = () => (existsSync(workDirOf(scratch)) ? readdirSync(workDirOf(scratch)) : []).filter((name) => name.startsWith("codex-subagents-spare-"));
    for (let waited = 0; spares().length < 1 && waited < 5000; waited += 50) await Bun.sleep(50);
    expect(spares()).toHaveLength(1);
    expect(listed()).toHaveLength(1);
    await Bun.sleep(1500); // the spare's index is written again about a second after its checkout
    expect(markersSeen()).toEqual([]);
    await afterCase(server, token);
  });

  test("a subdirectory cwd of the same repository (attributes at depth above and below it)", async () => {
    countBadInput();
    const token = newToken("hostile-sub");
    const result = await call(fakeCall(scratch, token, { plant: [{ path: "file.txt", text: "deep edit\n" }] }, {
      isolation: "worktree", cwd: path.join(scratch.root, "deep", "a", "b"),
    }));
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.patch).toContain("+deep edit");
    expect(markersSeen()).toEqual([]);
    await afterCase(server, token);
  });
});

describe("a sub-agent that plants git metadata in its worktree", () => {
  const plantedRepo = (at: string, source: string): PlantItem[] => [
    { path: `${at}/.git/HEAD`, text: "ref: refs/heads/main\n" },
    { path: `${at}/.git/objects`, dir: true },
    { path: `${at}/.git/refs/heads`, dir: true },
    { path: `${at}/.git/config`, text: hostileConfig(source, DRIVERS) },
    { path: `${at}/.gitattributes`, text: "* filter=deepf diff=deepf\n" },
    { path: `${at}/payload.txt`, text: `planted at ${at}\n` },
  ];

  test("a .git at the submodule path, at depth and at the top, and .gitattributes at depth naming drivers of every config", async () => {
    countBadInput(4);
    const token = newToken("planted");
    const result = await plantedRun(token, [
      ...plantedRepo("sm", "planted-sm"),
      ...plantedRepo("deep/a/nested", "planted-deep"),
      // `.gitattributes` at depth naming the drivers the includeIf-worktrees config defines.
      { path: "deep/x/y/.gitattributes", text: "* filter=wtf diff=wtf\n" },
      { path: "deep/x/y/z.txt", text: "cleaned by nobody\n" },
      // The top-level .git pointed at a git directory of the sub-agent's making.
      { path: "evil-gitdir/HEAD", text: "ref: refs/heads/main\n" },
      { path: "evil-gitdir/objects", dir: true },
      { path: "evil-gitdir/refs", dir: true },
      { path: "evil-gitdir/config", text: hostileConfig("planted-top", DRIVERS) },
      { path: ".git", remove: true },
      { path: ".git", text: "gitdir: evil-gitdir\n" },
      { path: "added.txt", text: "the real change\n" },
    ]);
    expect(result.isError).toBeFalsy();
    const { patch, notes } = result.structuredContent;
    expect(patch).toContain("b/added.txt");
    expect(patch).toContain("b/deep/x/y/z.txt");
    expect(patch).toContain("b/deep/a/nested/payload.txt"); // the files beside a planted .git come back as files
    expect(patch).not.toContain("b/sm/"); // a submodule path is never entered, and the reviewer is told
    expect(notes.join("\n")).toContain("git metadata inside its worktree");
    expect(notes.join("\n")).toMatch(/wrote inside submodule path\(s\) \(sm\)/);
    expect(markersSeen()).toEqual([]);
    await afterCase(server, token);
  });

  test("a FIFO as a planted repository's HEAD does not hang patch collection", async () => {
    const { token, content } = await fifoHeadRun("fifo-head", "trap", { path: "trap/file.txt", text: "x\n" });
    expect(content.patch).toContain("b/added.txt");
    expect(markersSeen()).toEqual([]);
    await afterCase(server, token);
  });

  test("a planted repository in a directory whose name is not UTF-8 is found and removed, and does not hang the patch", async () => {
    const beside = { path: "caf\xe9/beside.txt", text: "beside the planted repository\n" };
    const { token, content } = await fifoHeadRun("raw-name", "caf\xe9", beside, true);
    await expectCollected(token, content, ["b/added.txt", "+beside the planted repository"], "git metadata inside its worktree");
  });

  test("a FIFO named .gitignore or .gitattributes, at the top and at depth, does not hang patch collection", async () => {
    countBadInput();
    const token = newToken("fifo-ignore");
    const started = Date.now();
    const result = await plantedRun(token, [
      { path: ".gitignore", fifo: true },
      { path: "deep/x/.gitignore", fifo: true },
      { path: "deep/x/y/.gitattributes", fifo: true },
      { path: "deep/x/y/kept.txt", text: "beside the FIFOs\n" },
      { path: "added.txt", text: "still collected\n" },
    ]);
    expect(result.isError).toBeFalsy();
    expect(Date.now() - started).toBeLessThan(60_000); // git add -A blocked on the open until its 10-minute timeout
    await expectCollected(token, result.structuredContent, ["b/added.txt", "+beside the FIFOs"], "deep/x/y/.gitattributes");
  });

  test("symlinks out of the worktree come back as links, never as the files they point at", async () => {
    countBadInput();
    const token = newToken("symlinks");
    const secret = path.join(scratch.base, "outside-secret.txt");
    writeFileSync(secret, "OUTSIDE-CONTENT-77123\n");
    const result = await plantedRun(token, [
      { path: "deep/a", remove: true },
      { path: "deep/a", symlink: scratch.base }, // a tracked directory replaced by a link out
      { path: "link.txt", symlink: secret },
      { path: "sm", remove: true },
      { path: "sm", symlink: path.join(scratch.root, ".git") }, // the submodule path as a link into .git
    ]);
    expect(result.isError).toBeFalsy();
    const patch: string = result.structuredContent.patch;
    expect(patch).not.toContain("OUTSIDE-CONTENT-77123");
    expect(patch).toContain("new file mode 120000");
    expect(markersSeen()).toEqual([]);
    await afterCase(server, token);
  });
});

describe("a sub-agent that swaps its whole worktree for a link", () => {
  test("the worktree moved aside and replaced by a link to another directory: no patch of that directory", async () => {
    countBadInput();
    const token = newToken("swap-worktree");
    const elsewhere = path.join(scratch.base, "elsewhere");
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(path.join(elsewhere, "private.txt"), "ELSEWHERE-CONTENT-31337\n");
    const result = await plantedRun(token, [
      { path: ".", renameTo: "../wt-moved" },
      { path: "../wt", symlink: elsewhere },
    ]);
    expect(result.isError).toBeFalsy();
    const { patch, notes } = result.structuredContent;
    expect(patch ?? "").not.toContain("ELSEWHERE-CONTENT-31337");
    expect(notes.join("\n")).toContain("moved or replaced");
    expect(existsSync(path.join(elsewhere, "private.txt"))).toBe(true); // cleanup did not follow the link either
    expect(markersSeen()).toEqual([]);
    await afterCase(server, token);
  });
});

describe("every git the server starts, seen from outside", () => {
  // A `git` wrapper first on the server's PATH logs each invocation (working directory, GIT_DIR, argv) and runs the
  // real git. Whatever git version runs and whatever hook or driver mechanism it has, the server must run nothing in
  // the repository itself but `rev-parse` and `config` (which fire no hook and read no attribute), and everything
  // else against a private git directory of its own.
  let logged: Scratch;
  let wrapped: AdversarialServer;
  let log: string;

  beforeAll(async () => {
    logged = await makeScratch();
    log = path.join(logged.base, "git-calls.log");
    const realGit = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim();
    const wrapperDir = path.join(logged.base, "wrapper-bin");
    mkdirSync(wrapperDir);
    writeFileSync(
      path.join(wrapperDir, "git"),
      // One write a line: git runs concurrently (the dirty check beside the checkout), and lines written piecemeal
      // interleave.
      `#!/bin/sh\nline=$(printf '%s\\037%s' "$PWD" "\${GIT_DIR:-}"; for a in "$@"; do printf '\\037%s' "$a"; done)\nprintf '%s\\n' "$line" >> "${log}"\nexec "${realGit}" "$@"\n`,
    );
    chmodSync(path.join(wrapperDir, "git"), 0o755);
    git(logged.root, "init", "-q", "-b", "main");
    writeFileSync(path.join(logged.root, "README.md"), "hello\n");
    git(logged.root, "add", "-A");
    git(logged.root, "commit", "-q", "-m", "init");
    wrapped = await startServer(logged, { env: { PATH: `${wrapperDir}:${process.env.PATH ?? "/usr/bin:/bin"}` } });
  });

  afterAll(async () => {
    await wrapped?.close();
    await logged?.cleanup();
  });

  test("a worktree run: only rev-parse and config in the repository, everything else with a private GIT_DIR", async () => {
    const token = newToken("wrapped");
    const result: any = await wrapped.client.callTool({
      name: "delegate",
      arguments: fakeCall(logged, token, { plant: [{ path: "new.txt", text: "new\n" }, { path: "x.bin", base64: "AAEC" }] }, {
        isolation: "worktree", cwd: logged.root,
      }),
    }, { timeout: 120_000 });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.patch).toContain("b/new.txt");
    const calls = (await Bun.file(log).text()).trim().split("\n").map((line) => {
      const [cwd, gitDir, ...argv] = line.split("\x1f");
      const rest = [...argv];
      while (rest[0] === "--no-pager" || rest[0] === "-c") rest.splice(0, rest[0] === "-c" ? 2 : 1);
      return { cwd, gitDir, command: rest[0] ?? "" };
    });
    const subcommands = new Set(calls.map((call) => call.command));
    for (const expected of ["rev-parse", "config", "read-tree", "status", "add", "diff"]) expect(subcommands).toContain(expected);
    for (const call of calls) {
      if (call.gitDir === "") expect(["rev-parse", "config", "--version"], JSON.stringify(call)).toContain(call.command);
      else expect(path.basename(call.gitDir!), JSON.stringify(call)).toMatch(/^git-[A-Za-z0-9]{6}$/);
    }
    for (const forbidden of ["worktree", "update-ref", "checkout", "reset", "submodule", "commit"]) expect(subcommands).not.toContain(forbidden);
    await afterCase(wrapped, token);
  });
});

describe("repositories the server will not make a worktree of", () => {
  test("core.worktree is refused", async () => {
    countBadInput();
    const other = path.join(scratch.root, "cw-repo");
    mkdirSync(other, { recursive: true });
    git(other, "init", "-q");
    writeFileSync(path.join(other, "f.txt"), "f\n");
    git(other, "add", "-A");
    git(other, "commit", "-q", "-m", "f");
    git(other, "config", "core.worktree", scratch.base);
    const token = newToken("core-worktree");
    const result = await call(fakeCall(scratch, token, {}, { isolation: "worktree", cwd: other }));
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("core.worktree");
    expect((await readdir(scratch.report)).filter((f) => f.startsWith("argv-"))).toEqual([]);
    expect(markersSeen()).toEqual([]);
    rmSync(other, { recursive: true, force: true });
    await afterCase(server, token);
  });

  test("a repository whose git directory lies outside the roots is refused", async () => {
    countBadInput();
    const linked = path.join(scratch.root, "linked-repo");
    const outsideGitDir = path.join(scratch.base, "outside-gitdir");
    git(scratch.base, "init", "-q", "--separate-git-dir", outsideGitDir, linked);
    writeFileSync(path.join(linked, "f.txt"), "f\n");
    git(linked, "add", "-A");
    git(linked, "commit", "-q", "-m", "f");
    writeFileSync(path.join(outsideGitDir, "config"), (await Bun.file(path.join(outsideGitDir, "config")).text()) + hostileConfig("outside", ["outf"]));
    const token = newToken("gitdir-outside");
    const result = await call(fakeCall(scratch, token, {}, { isolation: "worktree", cwd: linked }));
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("outside the allowed roots");
    expect(existsSync(path.join(outsideGitDir, "worktrees"))).toBe(false);
    expect(markersSeen()).toEqual([]);
    rmSync(linked, { recursive: true, force: true });
    await afterCase(server, token);
  });
});

describe("nothing of the server's is kept in the repository's .git/worktrees", () => {
  // The worktree's private git directory used to live in `.git/worktrees/<name>/`. A repository's `worktrees` can be a
  // symlink out of the roots (to /tmp, which every sandbox writes), and a nested repository's `.git` is writable by a
  // sub-agent whose cwd holds it: a filter planted in that config ran in the server's own checkout. Now nothing is
  // written there, so nothing is read from there.
  test("a nested repository whose .git/worktrees is a symlink out of the roots: nothing appears there, the run works", async () => {
    countBadInput();
    // Its own scratch area and server (no spares), so its run's files and spare touch none of the other cases.
    const own = await makeScratch();
    const ownServer = await startServer(own, { args: ["--spare-worktrees", "0"], env: { HOME: own.base } });
    const nested = path.join(own.root, "nested");
    mkdirSync(nested);
    git(nested, "init", "-q");
    writeFileSync(path.join(nested, "a.txt"), "a\n");
    git(nested, "add", "-A");
    git(nested, "commit", "-q", "-m", "a");
    const outside = path.join(own.base, "worktrees-target");
    mkdirSync(outside);
    symlinkSync(outside, path.join(nested, ".git", "worktrees"));
    const token = newToken("worktrees-link");
    const pending: Promise<any> = ownServer.client.callTool({
      name: "delegate",
      arguments: fakeCall(own, token, { sleepMs: 800, plant: [{ path: "b.txt", text: "b\n" }] }, { isolation: "worktree", cwd: nested }),
    }, { timeout: 120_000 });
    await Bun.sleep(400);
    const during = readdirSync(outside);
    const result = await pending;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.patch).toContain("b/b.txt");
    expect(during).toEqual([]);
    expect(readdirSync(outside)).toEqual([]);
    await afterCase(ownServer, token);
    await ownServer.close();
    await own.cleanup();
  });
});

describe("cwd inside a git directory is refused in every isolation mode", () => {
  const inside = () => {
    const bare = path.join(scratch.root, "bare.git");
    if (!existsSync(bare)) git(scratch.root, "init", "-q", "--bare", bare);
    return [
      path.join(scratch.root, ".git"),
      path.join(scratch.root, ".git", "hooks"),
      path.join(scratch.root, ".git", "modules", "sm"),
      bare,
      path.join(bare, "refs"),
    ];
  };
  for (const isolation of ["none", "mirror", "worktree"] as const) {
    test(`isolation ${isolation}: .git, .git/hooks, .git/modules/<name>, a bare repository and a directory in it`, async () => {
      for (const cwd of inside()) {
        countBadInput();
        const token = newToken(`cwd-gitdir-${isolation}`);
        const result = await call(fakeCall(scratch, token, { plant: [{ path: "hooks/post-checkout", text: "#!/bin/sh\n" }] }, { isolation, cwd }));
        expect(result.isError, cwd).toBe(true);
        expect(text(result)).toContain("inside the git directory");
        expect((await readdir(scratch.report)).filter((f) => f.startsWith("argv-"))).toEqual([]);
        await afterCase(server, token);
      }
    });
  }

  test("the repository's working tree itself is still allowed with isolation none (the refusal is not blanket)", async () => {
    const token = newToken("cwd-ok");
    const result = await call(fakeCall(scratch, token, {}, { isolation: "none", cwd: scratch.root }));
    expect(result.isError).toBeFalsy();
    await afterCase(server, token);
  });
});

describe("what the patch carries", () => {
  test("one Latin-1 file: only it is re-encoded, the note reaches the result; binary files are named; secret-shaped added files are left out", async () => {
    countBadInput();
    const token = newToken("patch-notes");
    const result = await plantedRun(token, [
      { path: "latin1.txt", base64: Buffer.from("caf\xe9 cr\xe8me\n", "latin1").toString("base64") },
      { path: "plain.txt", text: "plain text stays text\n" },
      { path: "image.bin", base64: Buffer.from([0, 1, 2, 3, 0, 255]).toString("base64") },
      { path: "blob.bin", base64: Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from("AKIAIOSFODNN7EXAMPLE")]).toString("base64") },
      { path: ".env", text: "DB_PASSWORD=hunter2hunter2\n" },
      { path: "config/.env.production", text: "X=1\n" },
      { path: "keys/id_rsa", text: "not really a key\n" },
    ]);
    expect(result.isError).toBeFalsy();
    const { patch, notes } = result.structuredContent as { patch: string; notes: string[] };
    const said = notes.join("\n");
    expect(said).toContain("not UTF-8");
    expect(said).toContain("latin1.txt");
    expect(patch).toContain("+plain text stays text");
    expect(said).toMatch(/binary content in the patch[^\n]*image\.bin/);
    expect(said).toMatch(/left out of the patch: binary file\(s\) holding a secret-looking value \(blob\.bin\)/);
    expect(patch).not.toContain("b/blob.bin");
    expect(said).toMatch(/left out of the patch: 3 file\(s\)[^\n]*\.env/);
    expect(patch).not.toContain("b/.env");
    expect(patch).not.toContain("b/keys/id_rsa");
    expect(patch).not.toContain("b/config/.env.production");
    expect(markersSeen()).toEqual([]);
    await afterCase(server, token);
  });
});

describe("the real codex in a worktree, against the mock model", () => {
  // Its own repository: the includeIf-worktrees section defines one filter driver (`wtonly`) that no file in HEAD
  // names, so nothing runs it until the sub-agent (workspace-write) plants a `.gitattributes` naming it. A second
  // driver (`localf`) is named by HEAD's attributes: codex itself runs `git status` in its working directory, outside
  // its sandbox, and that git must find the server's config in the worktree, not the repository's.
  const PERSONA = "You are the git-planting attacker. GIT-PLANTER-5521";
  let codexScratch: Scratch;
  let mock: MockModel;
  let home: CodexHome;
  let codexServer: AdversarialServer;

  beforeAll(async () => {
    codexScratch = await makeScratch();
    const repo = codexScratch.root;
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(path.join(repo, "README.md"), "benign\n");
    writeFileSync(path.join(repo, ".gitattributes"), "README.md filter=localf\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "init");
    // A driver in the repository's own config, named by HEAD's attributes: codex's own `git status` in its working
    // directory (outside its sandbox) runs it on a racily-clean README.md unless that git reads the server's config.
    git(repo, "config", "filter.localf.clean", program("codex-repo-localf-clean", true));
    git(repo, "config", "filter.localf.smudge", program("codex-repo-localf-smudge", true));
    const worktreesOnly = path.join(repo, ".git", "worktrees-only.cfg");
    writeFileSync(worktreesOnly, `[filter "wtonly"]\n\tclean = ${program("codex-wtonly-clean", true)}\n\tsmudge = ${program("codex-wtonly-smudge", true)}\n`);
    git(repo, "config", "includeIf.gitdir:**/worktrees/**.path", worktreesOnly);

    const q = (value: string) => `'${value.replace(/'/g, "'\\''")}'`;
    const plantCommand = [
      // .gitattributes at depth naming the driver only a worktree's config defines
      "mkdir -p deep/x/y",
      "printf '* filter=wtonly\\n' > deep/x/y/.gitattributes",
      "printf 'planted\\n' > deep/x/y/z.txt",
      // a git directory of its own at depth, with programs in its config and no commit
      "mkdir -p nested/.git/objects nested/.git/refs",
      "printf 'ref: refs/heads/main\\n' > nested/.git/HEAD",
      `printf '[core]\\n\\tfsmonitor = %s\\n[filter \"deepf\"]\\n\\tclean = %s\\n' ${q(program("codex-planted-fsmonitor"))} ${q(program("codex-planted-clean", true))} > nested/.git/config`,
      "printf '* filter=deepf\\n' > nested/.gitattributes",
      "printf 'n\\n' > nested/n.txt",
      "printf 'the real change\\n' > added.txt",
      "echo planted",
    ].join(" && ");
    mock = await startMockModel((req) => {
      const persona = developerMessages(req.body).join("\n");
      if (persona.includes("GIT-READER-5522")) return [assistantMessage("read only, nothing planted")];
      if (!persona.includes("GIT-PLANTER-5521")) return [assistantMessage("unexpected caller")];
      const outputs = functionCallOutputs(req.body);
      if (outputs.length === 0) return [functionCall({ name: "exec_command", args: { cmd: plantCommand }, callId: "call_plant" })];
      return [assistantMessage(`done; tool said: ${outputs[0]!.output.replace(/\s+/g, " ").slice(0, 300)}`)];
    });
    home = await makeCodexHome({ baseUrl: mock.baseUrl });
    codexServer = await startServer(codexScratch, { codex: codexBin, env: { ...home.env } });
  });

  afterAll(() => closeServerWorld({ server: codexServer, mock, home }, codexScratch?.base));

  test("codex's own git in the worktree reads the server's config, not the repository's (read-only sub-agent)", async () => {
    countBadInput();
    const result: any = await codexServer.client.callTool(
      {
        name: "delegate",
        arguments: {
          agent: "git-reader", persona: "You only read. GIT-READER-5522", sandbox_mode: "read-only", isolation: "worktree",
          cwd: codexScratch.root, task: "Say hello.",
        },
      },
      { timeout: 120_000 },
    );
    expect(result.isError, text(result)).toBeFalsy();
    expect(result.structuredContent.final_message).toContain("nothing planted");
    expect(markersSeen()).toEqual([]);
    for (const entry of await readdir(codexScratch.tmp)) {
      if (entry.startsWith("codex-bwrap-")) rmSync(path.join(codexScratch.tmp, entry), { recursive: true, force: true });
    }
    await afterCase(codexServer);
  }, 150_000);

  test("no planted program runs when the server collects the patch, and the change still comes back", async () => {
    countBadInput(2);
    const result: any = await codexServer.client.callTool(
      {
        name: "delegate",
        arguments: {
          agent: "git-planter", persona: PERSONA, sandbox_mode: "workspace-write", isolation: "worktree",
          cwd: codexScratch.root, task: "Plant the files.",
        },
      },
      { timeout: 120_000 },
    );
    expect(result.isError, text(result)).toBeFalsy();
    const { patch, final_message: finalMessage, notes } = result.structuredContent;
    expect(finalMessage).toContain("planted"); // the command ran inside the sandbox
    expect(patch).toContain("b/added.txt");
    expect(patch).toContain("b/deep/x/y/z.txt");
    expect(patch).toContain("b/nested/n.txt");
    expect(notes.join("\n")).toContain("git metadata inside its worktree");
    expect(markersSeen()).toEqual([]);
    // codex's own sandbox helper leaves a mount-target directory in TMPDIR; that one is codex's, not ours.
    for (const entry of await readdir(codexScratch.tmp)) {
      if (entry.startsWith("codex-bwrap-")) rmSync(path.join(codexScratch.tmp, entry), { recursive: true, force: true });
    }
    await afterCase(codexServer);
  }, 150_000);
});

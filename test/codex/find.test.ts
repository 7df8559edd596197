/**
 * Finding codex the way a spawn without a shell would, including the Windows case this project must not get wrong:
 * `npm install -g @openai/codex` leaves `codex.cmd`, which only cmd.exe can run. The Windows lookups run here on any
 * platform, with `platform: "win32"` (file names and the `;` path list are what differ).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { findCodex, findGit, shimTarget } from "../../src/codex/find.ts";

// What cmd-shim (npm's) writes for a global `codex`; %dp0% is the shim's own directory.
const NPM_CMD_SHIM = [
  "@ECHO off",
  "GOTO start",
  ":find_dp0",
  "SET dp0=%~dp0",
  "EXIT /b",
  ":start",
  "SETLOCAL",
  "CALL :find_dp0",
  "",
  'IF EXIST "%dp0%\\node.exe" (',
  '  SET "_prog=%dp0%\\node.exe"',
  ") ELSE (",
  '  SET "_prog=node"',
  "  SET PATHEXT=%PATHEXT:;.JS;=;%",
  ")",
  "",
  'endLocal & goto #_undefined_# 2>NUL || title %COMSPEC% & "%_prog%"  "%dp0%\\node_modules\\@openai\\codex\\bin\\codex.js" %*',
  "",
].join("\r\n");

let scratch: string;

beforeAll(async () => {
  scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-find-codex-")));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function file(relative: string, text = "", mode = 0o644): Promise<string> {
  const full = path.join(scratch, relative);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, text);
  await chmod(full, mode);
  return full;
}

describe("findCodex on Unix", () => {
  test("the first executable codex on PATH wins; a non-executable one is skipped", async () => {
    await file("unix/a/codex", "not executable", 0o644);
    const good = await file("unix/b/codex", "#!/bin/sh\n", 0o755);
    await file("unix/c/codex", "#!/bin/sh\n", 0o755);
    const env = { PATH: ["a", "b", "c"].map((d) => path.join(scratch, "unix", d)).join(":") };
    const found = await findCodex({ command: "codex", source: "PATH", env, cwd: scratch, platform: "linux" });
    expect(found.problem).toBeUndefined();
    expect(found.found).toBe(good);
    expect(found.runnable).toBe(good);
  });

  test("relative PATH entries are never searched: a repository's own bin/codex or ./codex is not found", async () => {
    const project = path.join(scratch, "unix", "project");
    await file("unix/project/bin/codex", "#!/bin/sh\n", 0o755);
    await file("unix/project/codex", "#!/bin/sh\n", 0o755);
    await file("unix/project/bin/git", "#!/bin/sh\n", 0o755);
    const found = await findCodex({ command: "codex", source: "PATH", env: { PATH: "bin:.:" }, cwd: project, platform: "linux" });
    expect(found.runnable).toBeNull();
    expect(found.problem!.detail).toContain("relative entries are ignored");
    const absolute = await file("unix/abs/codex", "#!/bin/sh\n", 0o755);
    const next = await findCodex({ command: "codex", source: "PATH", env: { PATH: `bin:.::${path.dirname(absolute)}` }, cwd: project, platform: "linux" });
    expect(next.runnable).toBe(absolute);
    const git = await file("unix/abs-git/git", "#!/bin/sh\n", 0o755);
    const prevCwd = process.cwd();
    process.chdir(project);
    try {
      expect(await findGit({ PATH: "bin:." }, "linux")).toBeNull();
      expect(await findGit({ PATH: `bin:.:${path.dirname(git)}` }, "linux")).toBe(git);
    } finally {
      process.chdir(prevCwd);
    }
  });

  test("a relative --codex path is resolved against the working directory", async () => {
    const bin = await file("unix/rel/bin/codex", "#!/bin/sh\n", 0o755);
    const found = await findCodex({ command: "bin/codex", source: "--codex", env: {}, cwd: path.join(scratch, "unix", "rel"), platform: "linux" });
    expect(found.runnable).toBe(bin);
  });

  test("a --codex path that is not executable says so and how to fix it", async () => {
    const plain = await file("unix/plain/codex", "x", 0o644);
    const found = await findCodex({ command: plain, source: "--codex", env: {}, cwd: scratch, platform: "linux" });
    expect(found.runnable).toBeNull();
    expect(found.problem!.detail).toBe(`--codex "${plain}" is not an executable file`);
    expect(found.problem!.hint).toContain("chmod +x");
  });

  test("nothing on PATH: a problem naming PATH, with the install hint", async () => {
    const found = await findCodex({ command: "codex", source: "PATH", env: { PATH: path.join(scratch, "empty") }, cwd: scratch, platform: "linux" });
    expect(found.found).toBeNull();
    expect(found.problem!.detail).toContain('"codex" was not found on PATH');
    expect(found.problem!.hint).toContain("npm install -g @openai/codex");
  });
});

describe("findCodex on Windows", () => {
  test("codex.exe on Path (any case of the variable) is found as is", async () => {
    const exe = await file("win-exe/bin/codex.exe", "MZ");
    const found = await findCodex({ command: "codex", source: "PATH", env: { Path: path.join(scratch, "win-exe", "bin") }, cwd: scratch, platform: "win32", arch: "x64" });
    expect(found.problem).toBeUndefined();
    expect(found.runnable).toBe(exe);
  });

  test("an npm codex.cmd shim is refused, and the native codex.exe behind it is named in the hint", async () => {
    const prefix = path.join(scratch, "npm-global");
    const shim = await file("npm-global/codex.cmd", NPM_CMD_SHIM);
    await file("npm-global/node_modules/@openai/codex/bin/codex.js", "// launcher");
    // npm hoists the platform package beside @openai/codex.
    const exe = await file("npm-global/node_modules/@openai/codex-win32-x64/vendor/x86_64-pc-windows-msvc/bin/codex.exe", "MZ");
    const found = await findCodex({ command: "codex", source: "PATH", env: { PATH: `${path.join(scratch, "nothing-here")};${prefix}` }, cwd: scratch, platform: "win32", arch: "x64" });
    expect(found.found).toBe(shim);
    expect(found.runnable).toBe(exe);
    expect(found.problem!.detail).toContain("only a shell can run");
    expect(found.problem!.hint).toBe(`pass --codex ${exe} (or set CODEX_SUBAGENTS_CODEX to it): that is the codex executable the shim runs`);
  });

  test("a shim whose platform package is nested inside @openai/codex is resolved too", async () => {
    await file("npm-nested/codex.cmd", NPM_CMD_SHIM);
    await file("npm-nested/node_modules/@openai/codex/bin/codex.js", "// launcher");
    const exe = await file("npm-nested/node_modules/@openai/codex/node_modules/@openai/codex-win32-arm64/vendor/aarch64-pc-windows-msvc/bin/codex.exe", "MZ");
    const found = await findCodex({ command: "codex", source: "PATH", env: { PATH: path.join(scratch, "npm-nested") }, cwd: scratch, platform: "win32", arch: "arm64" });
    expect(found.runnable).toBe(exe);
  });

  test("a shim with no codex.exe behind it: refused, with a reinstall hint", async () => {
    await file("npm-broken/codex.cmd", NPM_CMD_SHIM);
    await file("npm-broken/node_modules/@openai/codex/bin/codex.js", "// launcher");
    const found = await findCodex({ command: "codex", source: "PATH", env: { PATH: path.join(scratch, "npm-broken") }, cwd: scratch, platform: "win32", arch: "x64" });
    expect(found.runnable).toBeNull();
    expect(found.problem!.hint).toContain("npm install -g @openai/codex");
  });

  test("--codex naming the .cmd shim itself is resolved the same way", async () => {
    const shim = await file("npm-direct/codex.cmd", NPM_CMD_SHIM);
    await file("npm-direct/node_modules/@openai/codex/bin/codex.js", "// launcher");
    const exe = await file("npm-direct/node_modules/@openai/codex-win32-x64/vendor/x86_64-pc-windows-msvc/bin/codex.exe", "MZ");
    const found = await findCodex({ command: shim, source: "--codex", env: {}, cwd: scratch, platform: "win32", arch: "x64" });
    expect(found.runnable).toBe(exe);
    expect(found.problem!.detail).toStartWith(`--codex "${shim}" is a script shim`);
  });

  test("shimTarget reads the wrapped script and ignores node.exe", () => {
    expect(shimTarget(path.join("/x", "codex.cmd"), NPM_CMD_SHIM)).toBe(path.join("/x", "node_modules", "@openai", "codex", "bin", "codex.js"));
    expect(shimTarget("/x/codex.cmd", '@"%~dp0\\tools\\codex.exe" %*')).toBe(path.join("/x", "tools", "codex.exe"));
    expect(shimTarget("/x/codex.cmd", "@echo off\r\ncodex-real %*")).toBeNull();
  });
});

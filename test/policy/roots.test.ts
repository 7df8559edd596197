import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isWithin, PolicyError, realPathSoFar, resolveAllowedDir, resolveRoots, type Root } from "../../src/policy/roots.ts";

let base: string;
let roots: Root[];

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-roots-")));
  await mkdir(path.join(base, "repo", "src"), { recursive: true });
  await mkdir(path.join(base, "repo-evil"));
  await mkdir(path.join(base, "outside"));
  await writeFile(path.join(base, "repo", "file.txt"), "x");
  await symlink(path.join(base, "outside"), path.join(base, "repo", "link-out"));
  await symlink(path.join(base, "repo", "src"), path.join(base, "repo", "link-in"));
  await symlink(path.join(base, "nowhere"), path.join(base, "repo", "dangling"));
  await symlink(base, path.join(base, "repo", "parent-link"));
  roots = await resolveRoots([path.join(base, "repo")], base);
});
afterAll(() => rm(base, { recursive: true, force: true }));

const refused = async (input: string, fragment: string) => {
  const error = await resolveAllowedDir(input, roots).then(() => null, (e) => e);
  expect(error).toBeInstanceOf(PolicyError);
  expect(error.message).toContain(fragment);
  expect(error.hint).toContain("allowed roots");
};

describe("roots", () => {
  test("isWithin compares whole segments", () => {
    expect(isWithin("/repo", "/repo")).toBe(true);
    expect(isWithin("/repo/a/b", "/repo")).toBe(true);
    expect(isWithin("/repo-evil", "/repo")).toBe(false);
    expect(isWithin("/re", "/repo")).toBe(false);
    expect(isWithin("/", "/repo")).toBe(false);
    expect(isWithin("/repo/..foo", "/repo")).toBe(true);
  });

  test("isWithin on Windows paths ignores case, as NTFS does, and still compares whole segments", () => {
    expect(isWithin("C:\\Repo\\src", "c:\\repo", path.win32)).toBe(true);
    expect(isWithin("c:\\REPO", "C:\\repo", path.win32)).toBe(true);
    expect(isWithin("C:\\repo-evil", "C:\\repo", path.win32)).toBe(false);
    expect(isWithin("D:\\repo\\x", "C:\\repo", path.win32)).toBe(false);
    expect(isWithin("C:\\", "C:\\repo", path.win32)).toBe(false);
    // POSIX paths are case-sensitive: another case is another directory.
    expect(isWithin("/Repo/src", "/repo", path.posix)).toBe(false);
  });

  test("the root and its subdirectories are allowed, symlinks inside too", async () => {
    expect(await resolveAllowedDir(path.join(base, "repo"), roots)).toBe(path.join(base, "repo"));
    expect(await resolveAllowedDir(path.join(base, "repo", "src"), roots)).toBe(path.join(base, "repo", "src"));
    expect(await resolveAllowedDir(path.join(base, "repo", "link-in"), roots)).toBe(path.join(base, "repo", "src"));
  });

  test("sibling prefix", () => refused(path.join(base, "repo-evil"), "outside the allowed roots"));
  test("dot-dot escape", () => refused(`${base}/repo/../outside`, "outside the allowed roots"));
  test("symlink pointing out", () => refused(path.join(base, "repo", "link-out"), "a symlink points out"));
  test("symlinked parent pointing out", () => refused(path.join(base, "repo", "parent-link", "outside"), "a symlink points out"));
  test("dangling link", () => refused(path.join(base, "repo", "dangling"), "does not exist"));
  test("NUL byte", () => refused(`${base}/repo\0/x`, "NUL"));
  test("relative path", () => refused("repo/src", "not an absolute path"));
  test("a file, not a directory", () => refused(path.join(base, "repo", "file.txt"), "not a directory"));
  test("empty", () => refused("", "empty"));

  test("a missing root is a start-up error", async () => {
    await expect(resolveRoots([path.join(base, "missing")], base)).rejects.toThrow("does not exist");
  });
});

describe("realPathSoFar", () => {
  test("follows links as far as they lead, a dangling one (and a chain of them) to where its target will be made", async () => {
    const repo = path.join(base, "repo");
    expect(await realPathSoFar(path.join(repo, "link-in", "new", "file"))).toBe(path.join(repo, "src", "new", "file"));
    expect(await realPathSoFar(path.join(repo, "dangling", "agents"))).toBe(path.join(base, "nowhere", "agents"));
    await symlink("dangling", path.join(repo, "to-dangling"));
    expect(await realPathSoFar(path.join(repo, "to-dangling"))).toBe(path.join(base, "nowhere"));
    await symlink("loop-b", path.join(repo, "loop-a"));
    await symlink("loop-a", path.join(repo, "loop-b"));
    expect(await realPathSoFar(path.join(repo, "loop-a", "x"))).toBe(path.join(repo, "loop-a", "x"));
  });

  test("a dangling link's relative target climbs from where the link really is, not from the path as written", async () => {
    // repo/via → outside; outside/up → ../made-later (dangling). Read through repo/via, `..` is outside's parent.
    await symlink(path.join(base, "outside"), path.join(base, "repo", "via"));
    await symlink("../made-later", path.join(base, "outside", "up"));
    expect(await realPathSoFar(path.join(base, "repo", "via", "up", "agents"))).toBe(path.join(base, "made-later", "agents"));
  });
});

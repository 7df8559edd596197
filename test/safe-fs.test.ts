/** readRegularFile / appendRegularFile: a planted FIFO, symlink or directory is a problem to report, never a hang. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { appendRegularFile, readRegularFile, readRegularFileFrom, readWholeRegularFile } from "../src/safe-fs.ts";

let dir: string;
let victim: string;

beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-safe-fs-")));
  victim = path.join(dir, "victim.txt");
  await writeFile(victim, "victim\n");
  await writeFile(path.join(dir, "plain.txt"), "hello world");
  await symlink(victim, path.join(dir, "link.txt"));
  spawnSync("mkfifo", [path.join(dir, "fifo")]);
  await mkdir(path.join(dir, "sub"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("readRegularFile", () => {
  test("a regular file is read, up to the limit", async () => {
    expect(await readRegularFile(path.join(dir, "plain.txt"), 100)).toEqual({ text: "hello world", truncated: false });
    expect(await readRegularFile(path.join(dir, "plain.txt"), 5)).toEqual({ text: "hello", truncated: true });
  });
  test("a missing file is missing, not a problem", async () => {
    expect(await readRegularFile(path.join(dir, "nope"), 10)).toEqual({ missing: true });
  });
  test("a symlink, a FIFO and a directory are problems named as such, and the FIFO does not block", async () => {
    expect(await readRegularFile(path.join(dir, "link.txt"), 10)).toEqual({ problem: expect.stringContaining("a symbolic link") });
    expect(await readRegularFile(path.join(dir, "fifo"), 10)).toEqual({ problem: expect.stringContaining("a FIFO") });
    expect(await readRegularFile(path.join(dir, "sub"), 10)).toEqual({ problem: expect.stringContaining("a directory") });
  });
});

describe("readWholeRegularFile", () => {
  test("a regular file within the limit is read whole; a larger one is null, never cut short", async () => {
    expect((await readWholeRegularFile(path.join(dir, "plain.txt"), 11))?.toString("utf8")).toBe("hello world");
    expect(await readWholeRegularFile(path.join(dir, "plain.txt"), 10)).toBeNull();
  });
  test("a missing file, a symlink, a FIFO and a directory are null, and the FIFO does not block", async () => {
    for (const name of ["nope", "link.txt", "fifo", "sub"]) expect(await readWholeRegularFile(path.join(dir, name), 100)).toBeNull();
  });
});

describe("readRegularFileFrom", () => {
  test("reads from an offset to the end, at most the limit; a symlink or FIFO is null and does not block", async () => {
    expect((await readRegularFileFrom(path.join(dir, "plain.txt"), 6, 100))?.toString("utf8")).toBe("world");
    expect((await readRegularFileFrom(path.join(dir, "plain.txt"), 0, 5))?.toString("utf8")).toBe("hello");
    expect((await readRegularFileFrom(path.join(dir, "plain.txt"), 11, 100))?.length).toBe(0);
    for (const name of ["nope", "link.txt", "fifo", "sub"]) expect(await readRegularFileFrom(path.join(dir, name), 0, 100)).toBeNull();
  });
});

describe("appendRegularFile", () => {
  test("appends to an existing regular file, and never creates a missing one", async () => {
    const file = path.join(dir, "events.jsonl");
    expect(await appendRegularFile(file, "a\n")).toContain("no longer exists");
    await writeFile(file, "", { flag: "wx" });
    expect(await appendRegularFile(file, "a\n")).toBeNull();
    expect(await appendRegularFile(file, "b\n")).toBeNull();
    expect(await readFile(file, "utf8")).toBe("a\nb\n");
  });
  test("a symlink is refused and its target untouched; a FIFO without a reader is refused at once", async () => {
    expect(await appendRegularFile(path.join(dir, "link.txt"), "x")).toContain("a symbolic link");
    expect(await readFile(victim, "utf8")).toBe("victim\n");
    expect(await appendRegularFile(path.join(dir, "fifo"), "x")).toContain("FIFO");
  });
});

// The private git directories (src/workspace/private-git.ts): the config they carry, and the repository's small files
// read without blocking or following a link.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { privateConfigText, readSmallText } from "../../src/workspace/private-git.ts";
import { newTemp, removeAll, temps } from "./helpers.ts";

afterAll(() => removeAll(...temps));

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

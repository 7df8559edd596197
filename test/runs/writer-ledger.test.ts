// The in-place writers ledger (src/runs/writer-ledger.ts): what is recorded, what counts as plantable, and that a
// ledger which cannot be trusted refuses rather than answering "nothing was ever written".
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createWriterLedger, LEDGER_FILE, parseLedger, plantableIn } from "../../src/runs/writer-ledger.ts";

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), "ledger-")); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

describe("createWriterLedger", () => {
  test("records each cwd once, and a second ledger on the same directory (another process) sees it", async () => {
    const ledger = createWriterLedger(dir);
    expect(await ledger.cwds()).toEqual([]);
    await ledger.add("/src/proj");
    await ledger.add("/src/proj");
    await ledger.add("/src/other");
    expect(await createWriterLedger(dir).cwds()).toEqual(["/src/proj", "/src/other"]);
    expect((await readFile(path.join(dir, LEDGER_FILE), "utf8")).split("\n").filter(Boolean)).toHaveLength(2);
  });

  test("a last line a crash left without its newline cannot swallow the next writer", async () => {
    await writeFile(path.join(dir, LEDGER_FILE), '"/src/proj"\n"/src/crash');
    const ledger = createWriterLedger(dir);
    await ledger.add("/src/next");
    expect(await createWriterLedger(dir).cwds()).toEqual(["/src/proj", "/src/next"]);
  });

  test("a symlink at the ledger's name is refused, for reading and for writing, and its target is untouched", async () => {
    const target = path.join(dir, "elsewhere");
    await writeFile(target, "");
    await symlink(target, path.join(dir, LEDGER_FILE));
    const ledger = createWriterLedger(dir);
    await expect(ledger.cwds()).rejects.toThrow(/cannot be read/);
    await expect(ledger.add("/src/proj")).rejects.toThrow(/in-place writers ledger/);
    expect(await readFile(target, "utf8")).toBe("");
  });

  test("a FIFO at the ledger's name is refused at once, not waited on", async () => {
    spawnSync("mkfifo", [path.join(dir, LEDGER_FILE)]);
    await expect(createWriterLedger(dir).cwds()).rejects.toThrow(/cannot be read/);
  });
});

test("parseLedger skips a torn or foreign line and relative paths", () => {
  expect(parseLedger('"/a"\n{"x":1}\n"rel"\n"/b\n"/a"\n')).toEqual(["/a"]);
});

describe("plantableIn", () => {
  const writers = ["/src/proj"];
  test("strictly below a writer's cwd is plantable; the cwd itself, its parent and a sibling prefix are not", () => {
    expect(plantableIn("/src/proj/sub", writers, [])).toContain('"/src/proj"');
    expect(plantableIn("/src/proj/a/b", writers, [])).not.toBeNull();
    expect(plantableIn("/src/proj", writers, [])).toBeNull();
    expect(plantableIn("/src", writers, [])).toBeNull();
    expect(plantableIn("/src/proj-evil/x", writers, [])).toBeNull();
  });
  test("anything in a temporary directory is plantable, whatever the ledger says", () => {
    expect(plantableIn("/tmp/x", [], ["/tmp"])).toContain('"/tmp"');
    expect(plantableIn("/tmp", [], ["/tmp"])).not.toBeNull();
    // A place codex does not keep read-only for the writer: its own cwd counts too.
    expect(plantableIn("/src/proj", writers, [], { writerCwdItself: true })).toContain('in "/src/proj"');
    expect(plantableIn("/src", writers, [], { writerCwdItself: true })).toBeNull();
  });
});

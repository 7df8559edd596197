/**
 * The planted-layer rule on a real directory tree: when a project's `.codex` layers are not used for a run. The proof
 * with the real codex is test/adversarial/capabilities.test.ts ("a planted project layer").
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ancestorsOf, plantedLayers, refuseCodexLayerWriter } from "../../src/codex/project-layers.ts";

describe("the planted-layer rule (a real directory tree)", () => {
  let base: string, tmp: string, outsideTmp: string;
  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-layers-")));
    tmp = path.join(base, "tmp");
    // Stands for a place outside /tmp: the rule is given the tmp directories, so any other directory will do.
    outsideTmp = path.join(base, "home");
    await mkdir(path.join(outsideTmp, "repo", "sub", "deep"), { recursive: true });
    await mkdir(path.join(outsideTmp, "repo", ".codex"));
    await mkdir(tmp);
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });
  const repo = () => path.join(outsideTmp, "repo");

  test("ancestors, nearest first, up to /", () => {
    expect(ancestorsOf("/a/b")).toEqual(["/a/b", "/a", "/"]);
  });

  test("no writer recorded: the repository's own .codex is used", async () => {
    expect(await plantedLayers({ workingDir: path.join(repo(), "sub"), sourceDir: path.join(repo(), "sub") }, [], [tmp])).toEqual({ reasons: [], untrusted: [] });
  });

  test("a writer's own cwd keeps its .codex (codex protects it); a .codex strictly below a writer's cwd is planted", async () => {
    const deep = path.join(repo(), "sub", "deep");
    expect((await plantedLayers({ workingDir: deep, sourceDir: deep }, [repo()], [tmp])).reasons).toEqual([]);
    await mkdir(path.join(repo(), "sub", ".codex"));
    const planted = await plantedLayers({ workingDir: deep, sourceDir: deep }, [repo()], [tmp]);
    expect(planted.reasons).toEqual([`"${path.join(repo(), "sub", ".codex")}" may have been planted: it lies below "${repo()}", where a sub-agent once worked with a sandbox that can write in place`]);
    expect(planted.untrusted).toEqual(ancestorsOf(deep));
    await rm(path.join(repo(), "sub", ".codex"), { recursive: true });
  });

  test("a link or a file named .codex counts; so does one on the way to a copy's source", async () => {
    await symlink("/nonexistent", path.join(repo(), "sub", ".codex"));
    const copy = path.join(base, "copy");
    const planted = await plantedLayers({ workingDir: copy, sourceDir: path.join(repo(), "sub") }, [repo()], [tmp]);
    expect(planted.reasons.length).toBe(1);
    expect(planted.untrusted).toEqual(expect.arrayContaining([copy, path.join(repo(), "sub")]));
    await rm(path.join(repo(), "sub", ".codex"));
  });

  test("a writer whose cwd is in the layer (its .codex itself, or a directory a .codex link leads to) planted it; a writer in it is refused", async () => {
    await mkdir(path.join(repo(), "sub", ".codex", "rules"), { recursive: true });
    const sub = path.join(repo(), "sub");
    for (const writer of [path.join(sub, ".codex"), path.join(sub, ".codex", "rules")]) {
      const planted = await plantedLayers({ workingDir: sub, sourceDir: sub }, [writer], [tmp]);
      expect(planted.reasons).toEqual([`"${path.join(sub, ".codex")}" may have been planted: a sub-agent once worked in it ("${writer}") with a sandbox that can write in place`]);
      expect(() => refuseCodexLayerWriter(writer, true)).toThrow(`is inside the codex configuration directory "${path.join(sub, ".codex")}"`);
      expect(refuseCodexLayerWriter(writer, false)).toBe(writer);
    }
    expect(refuseCodexLayerWriter(path.join(sub, ".CODEX"), false)).toBe(path.join(sub, ".CODEX"));
    expect(() => refuseCodexLayerWriter(path.join(sub, ".CODEX", "x"), true)).toThrow("codex configuration directory");
    expect(refuseCodexLayerWriter(path.join(sub, ".codexrc"), true)).toBe(path.join(sub, ".codexrc"));
    await rm(path.join(sub, ".codex"), { recursive: true });
    await mkdir(path.join(sub, "conf"));
    await symlink("conf", path.join(sub, ".codex"));
    expect((await plantedLayers({ workingDir: sub, sourceDir: sub }, [path.join(sub, "conf")], [tmp])).reasons).toEqual([
      `"${path.join(sub, ".codex")}" may have been planted: a sub-agent once worked in it ("${path.join(sub, "conf")}") with a sandbox that can write in place`,
    ]);
    // A writer whose cwd holds the link: codex keeps only that cwd's own .codex read-only, not a directory beside it.
    expect((await plantedLayers({ workingDir: sub, sourceDir: sub }, [sub], [tmp])).reasons.length).toBe(1);
    await rm(path.join(sub, ".codex"));
    await symlink(tmp, path.join(sub, ".codex"));
    expect((await plantedLayers({ workingDir: sub, sourceDir: sub }, [], [tmp])).reasons).toEqual([`"${path.join(sub, ".codex")}" may have been planted: it leads to "${tmp}", in "${tmp}", which every workspace-write sub-agent may write`]);
    await rm(path.join(sub, ".codex"));
    await rm(path.join(sub, "conf"), { recursive: true });
  });

  test("in /tmp or $TMPDIR a run is always untrusted (any sandbox may write there at any moment), without a note", async () => {
    const inTmp = path.join(tmp, "x");
    await mkdir(path.join(inTmp, ".codex"), { recursive: true });
    expect(await plantedLayers({ workingDir: inTmp, sourceDir: inTmp }, [], [tmp])).toEqual({ reasons: [], untrusted: ancestorsOf(inTmp) });
  });
});

// The spare pool (src/workspace/spares.ts), with real git: a set-up from a spare at the new HEAD, spares given up
// when idle or beyond the repository limit, none when switched off, nothing left after close().
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { SparePool, SPARE_DIR_PREFIX } from "../../src/workspace/spares.ts";
import { git, newTemp, nodeRepository, removeAll, silent, temps } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

afterAll(() => removeAll(...temps));

describe("spare worktrees", () => {
  test("the second set-up comes from the spare, at the new HEAD; close() removes every spare", async () => {
    const repo = nodeRepository();
    const baseDir = newTemp("spares-base-");
    const pool = new SparePool({ perRepository: 1, baseDir, logger: silent });
    try {
      const first = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, spares: pool });
      expect(first.notes.join("\n")).not.toContain("spare");
      pool.deferRemoval(() => first.cleanup());
      // HEAD moves between the two delegations.
      writeFileSync(join(repo, "test.js"), "require('some-lib'); // second commit\n");
      git(repo, "commit", "-q", "-am", "second");
      const second = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, spares: pool });
      expect(second.notes.join("\n")).toContain("set-up came from a spare worktree");
      expect(second.workingDir.startsWith(join(baseDir, SPARE_DIR_PREFIX))).toBe(true);
      expect(readFileSync(join(second.workingDir, "test.js"), "utf8")).toBe("require('some-lib'); // second commit\n");
      expect(git(second.workingDir, "rev-parse", "HEAD")).toBe(git(repo, "rev-parse", "HEAD"));
      writeFileSync(join(second.workingDir, "new.txt"), "x\n");
      const patch = (await second.collectPatch())?.patch ?? "";
      expect(patch).toContain("diff --git a/new.txt b/new.txt");
      expect(patch).not.toContain("test.js");
      pool.deferRemoval(() => second.cleanup());
    } finally {
      await pool.close();
    }
    expect(readdirSync(baseDir)).toEqual([]);
    expect(git(repo, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
  });

  test("a repository not used for the idle time loses its spare; beyond the repository limit the oldest goes", async () => {
    const first = nodeRepository();
    const second = nodeRepository();
    const baseDir = newTemp("spares-idle-");
    const pool = new SparePool({ perRepository: 1, baseDir, logger: silent, idleMs: 2500, maxRepositories: 1 });
    try {
      const spares = () => readdirSync(baseDir).filter((name) => name.startsWith(SPARE_DIR_PREFIX));
      const a = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: first, logger: silent, spares: pool });
      await a.cleanup();
      await pool.settled();
      expect(spares()).toHaveLength(1);
      // A second repository: the limit is one repository, so the first one's spare is removed.
      const b = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: second, logger: silent, spares: pool });
      await b.cleanup();
      await pool.settled();
      expect(spares()).toHaveLength(1);
      expect(git(first, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
      // The spare is not registered in the repository: git lists only the repository itself.
      expect(git(second, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
      // Unused for the idle time: gone.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await pool.settled();
      expect(spares()).toEqual([]);
      expect(git(second, "worktree", "list", "--porcelain").match(/^worktree /gm)?.length).toBe(1);
    } finally {
      await pool.close();
    }
  }, 30_000);

  test("--spare-worktrees 0 makes none", async () => {
    const repo = nodeRepository();
    const baseDir = newTemp("spares-off-");
    const pool = new SparePool({ perRepository: 0, baseDir, logger: silent });
    const workspace = await prepareWorkspace({ git: hostGit, mode: "worktree", cwd: repo, logger: silent, spares: pool });
    await workspace.cleanup();
    await pool.close();
    expect(readdirSync(baseDir)).toEqual([]);
  });
});

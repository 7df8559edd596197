// Removal (src/workspace/removal.ts): cleanup never throws and leaves nothing, even of a worktree built to resist it.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { exists, expectCleanedUp, makeDeepChain, makeRepository, newTemp, removeAll, silent, temps, withoutPrivilege, workspaceBase } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

afterAll(() => removeAll(...temps));

describe("worktree isolation", () => {
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
});

describe("a worktree built to resist the walk and the removal", () => {
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
});

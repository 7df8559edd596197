// The dirty check (src/workspace/dirty-check.ts) is advisory: a trap in the user's tree bounds it, never hangs the set-up.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { prepareWorkspace } from "../../src/workspace/index.ts";
import { makeSmallRepository, removeAll, silent, temps } from "./helpers.ts";
import { hostGit } from "../helpers/git.ts";

afterAll(() => removeAll(...temps));

describe("a FIFO in the user's tree", () => {
  test("a nested repository whose HEAD is a FIFO bounds the dirty check instead of hanging the set-up", async () => {
    const repo = makeSmallRepository();
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

/**
 * Worktree isolation end to end: the real codex against the mock model, in a temporary git
 * repository. The mock tells the sub-agent to run a shell command (codex's `exec_command` tool) that writes a new
 * file and edits an existing one. The result's patch must apply onto a fresh clone, and the user's repository must
 * look exactly as before: same `git status`, no extra worktree, no temporary directory left behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { gitWithHome } from "../helpers/git.ts";
import { closeServerWorld } from "../helpers/codex-server.ts";
import { scratchWithDirs } from "../helpers/e2e-scratch.ts";
import { serverWorkDir, startShellAgentWorld, type ShellAgentWorld } from "../helpers/e2e-repo-server.ts";

const PERSONA = "You are the worktree-writer test agent. WORKTREE-PERSONA-41";
const EDIT_COMMAND = "mkdir -p notes && printf 'brand new file\\n' > notes/new.md && printf 'line added by the sub-agent\\n' >> README.md";

let scratch: string;
let repo: string;
/** The server's own TMPDIR, so the test can see that nothing it made is left behind. */
let serverTmp: string;
let world: ShellAgentWorld;

function git(cwd: string, ...args: string[]): string {
  return gitWithHome(scratch, cwd, ...args);
}

beforeAll(async () => {
  [scratch, repo, serverTmp] = await scratchWithDirs("cs-worktree-e2e-", "repo", "tmp");
  git(repo, "init", "-q", "-b", "main");
  await writeFile(path.join(repo, "README.md"), "# Demo\n\nOriginal text.\n");
  await mkdir(path.join(repo, "src"));
  await writeFile(path.join(repo, "src", "app.ts"), "export const answer = 42;\n");
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "initial");

  world = await startShellAgentWorld(
    {
      personaMarker: "WORKTREE-PERSONA-41",
      command: EDIT_COMMAND,
      callId: "call_edit",
      answer: (said) => `edits done; tool said: ${said.replace(/\s+/g, " ").slice(0, 200)}`,
    },
    { root: scratch, repo, serverTmp },
  );
});

afterAll(async () => {
  await closeServerWorld(world ?? {}, scratch);
});

function delegateWorktree() {
  return world.server.client.callTool(
    {
      name: "delegate",
      arguments: {
        agent: "worktree-writer",
        persona: PERSONA,
        sandbox_mode: "workspace-write",
        isolation: "worktree",
        cwd: repo,
        task: "Add notes/new.md and append a line to README.md.",
      },
    },
    { timeout: 120_000 },
  );
}

/** Everything in the server's TMPDIR, and what is left in its work directory, spares aside (one per repository,
 *  removed at exit; the used worktree is removed just after the result, so give that a moment). */
async function leftovers(): Promise<string[]> {
  const list = async () => [
    ...(await readdir(serverTmp)).filter((name) => name.startsWith("codex-subagents-")),
    ...(await readdir(serverWorkDir(world.home)).catch(() => [] as string[])).filter((name) => !name.startsWith("codex-subagents-spare-")),
  ];
  for (let waited = 0; (await list()).length > 0 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  return list();
}

/** `git worktree list` without the server's spare. */
function worktreesBesidesSpares(): string[] {
  return git(repo, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree ") && !l.includes("codex-subagents-spare-"));
}

/** git's admin dirs of worktrees other than the spare. */
async function adminDirsBesidesSpares(): Promise<string[]> {
  const names = await readdir(path.join(repo, ".git", "worktrees")).catch(() => [] as string[]);
  const kept: string[] = [];
  for (const name of names) {
    const gitdir = await readFile(path.join(repo, ".git", "worktrees", name, "gitdir"), "utf8").catch(() => "");
    if (!gitdir.includes("codex-subagents-spare-")) kept.push(name);
  }
  return kept;
}

describe("isolation: worktree with the real codex", () => {
  test("the patch holds the new file and the edit, applies onto a fresh clone, and the user's repository is untouched", async () => {
    const statusBefore = git(repo, "status", "--porcelain");
    const headBefore = git(repo, "rev-parse", "HEAD");
    const result: any = await delegateWorktree();
    const out = result.structuredContent;
    expect(out).toBeDefined();
    expect(out.ok).toBe(true);
    expect(out.isolation).toBe("worktree");
    expect(out.final_message).toStartWith("edits done");
    expect(out.working_dir).not.toBe(repo);

    // The sub-agent really ran the command in its worktree, not in the user's repository.
    const patch: string = out.patch;
    expect(typeof patch).toBe("string");
    expect(patch).toContain("diff --git a/README.md b/README.md");
    expect(patch).toContain("+line added by the sub-agent");
    expect(patch).toContain("diff --git a/notes/new.md b/notes/new.md");
    expect(patch).toContain("new file mode");
    expect(patch).toContain("+brand new file");

    // It applies cleanly onto a fresh clone of HEAD.
    const clone = path.join(scratch, "clone");
    git(scratch, "clone", "-q", repo, clone);
    const patchFile = path.join(scratch, "sub-agent.patch");
    await writeFile(patchFile, patch);
    git(clone, "apply", "--check", patchFile);
    git(clone, "apply", patchFile);
    expect(await readFile(path.join(clone, "README.md"), "utf8")).toBe("# Demo\n\nOriginal text.\nline added by the sub-agent\n");
    expect(await readFile(path.join(clone, "notes", "new.md"), "utf8")).toBe("brand new file\n");

    // The user's repository: same status, same HEAD, no new file, one worktree, nothing left in TMPDIR.
    expect(git(repo, "status", "--porcelain")).toBe(statusBefore);
    expect(git(repo, "rev-parse", "HEAD")).toBe(headBefore);
    expect(await readFile(path.join(repo, "README.md"), "utf8")).toBe("# Demo\n\nOriginal text.\n");
    expect(await leftovers()).toEqual([]);
    expect(worktreesBesidesSpares()).toEqual([`worktree ${repo}`]);
    expect(await adminDirsBesidesSpares()).toEqual([]);
  });

  test("a dirty tree: the result says the sub-agent did not see the uncommitted changes, and they stay as they were", async () => {
    await writeFile(path.join(repo, "src", "app.ts"), "export const answer = 43; // uncommitted\n");
    await writeFile(path.join(repo, "scratch.txt"), "untracked\n");
    const statusBefore = git(repo, "status", "--porcelain");
    expect(statusBefore).toContain("src/app.ts");

    const result: any = await delegateWorktree();
    const out = result.structuredContent;
    expect(out.ok).toBe(true);
    const notes: string[] = out.notes;
    const dirtyNote = notes.find((n) => n.includes("uncommitted changes"));
    expect(dirtyNote).toBeDefined();
    expect(dirtyNote).toContain("NOT visible to the sub-agent");
    expect(dirtyNote).toMatch(/src\/app\.ts|scratch\.txt/);
    // The patch is against HEAD, not against the dirty files.
    expect(out.patch).not.toContain("uncommitted");

    expect(git(repo, "status", "--porcelain")).toBe(statusBefore);
    expect(await readFile(path.join(repo, "src", "app.ts"), "utf8")).toBe("export const answer = 43; // uncommitted\n");
    expect(await leftovers()).toEqual([]);
    expect(worktreesBesidesSpares()).toHaveLength(1);
  });

  test("a cwd outside any git repository is a clear error", async () => {
    const plain = path.join(scratch, "not-a-repo");
    await mkdir(plain, { recursive: true });
    const result: any = await world.server.client.callTool({
      name: "delegate",
      arguments: { agent: "worktree-writer", persona: PERSONA, isolation: "worktree", cwd: plain, task: "anything" },
    });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain("not inside a git repository");
    expect(await leftovers()).toEqual([]);
  });

  test("after the server exits, its spare worktree is gone too: nothing in TMPDIR or the work dir, one worktree, no admin dir", async () => {
    await world.server.close();
    expect((await readdir(serverTmp)).filter((name) => name.startsWith("codex-subagents-"))).toEqual([]);
    expect(await readdir(serverWorkDir(world.home)).catch(() => [])).toEqual([]);
    expect(git(repo, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree "))).toEqual([`worktree ${repo}`]);
    expect(await readdir(path.join(repo, ".git", "worktrees")).catch(() => [])).toEqual([]);
  });
});

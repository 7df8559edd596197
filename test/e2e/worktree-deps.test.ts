/**
 * Dependency links and spare worktrees end to end: the real codex against the mock model, the starter `test` agent
 * (workspace-write, worktree).
 * - worktree_deps "auto": the ignored node_modules of the user's repository is linked into the worktree; the sub-agent
 *   runs `node test.js`, which requires a library from it, and it works. A write into node_modules through the link
 *   is refused by codex's sandbox, the user's file stays as it was, and the patch holds no trace of the link.
 * - Two delegations in a row on one repository: the second one's set-up comes from the spare made after the first
 *   (its notes say so), and it sees the HEAD committed between the two.
 * - After the server exits nothing is left: no spare, no worktree, no admin dir, no incomplete run.
 *
 * Security: a workspace-write sandbox may write /tmp and $TMPDIR, so the user's repository here lives under $HOME
 * (test/helpers/e2e-scratch.ts privateScratchParent), not in the clone, which may itself lie in /tmp. There the write
 * through the link would succeed and prove nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { starterPersonaFirstLine } from "../helpers/agents.ts";
import { codexBin } from "../helpers/paths.ts";
import { serverCommand } from "../helpers/server-command.ts";
import { gitWithHome } from "../helpers/git.ts";
import { closeServerWorld } from "../helpers/codex-server.ts";
import { privateScratchWithDirs, scratchWithDirs } from "../helpers/e2e-scratch.ts";
import { serveInRepo, serverWorkDir, startShellAgentWorld, type ShellAgentWorld } from "../helpers/e2e-repo-server.ts";

const LIBRARY = "exports.hello = () => 'hello from some-lib';\n";
// One shell command per delegation: run the project's test, try to tamper with the dependency, add a test file,
// and show which version of the code the worktree holds.
const RUN_COMMAND = [
  "node test.js",
  "(printf 'tampered\\n' > node_modules/some-lib/index.js) 2>&1; echo \"tamper-exit=$?\"",
  "printf 'added by the sub-agent\\n' > added.test.txt",
  "cat version.txt",
].join("; ");

let scratch: string;
let repo: string;
let serverTmp: string;
let tmpParent: string;
let world: ShellAgentWorld;

beforeAll(async () => {
  // Outside /tmp and $TMPDIR on purpose (see the header), wherever the clone lives: under $HOME.
  [scratch, repo] = await privateScratchWithDirs("worktree-deps-e2e-", "repo");
  [tmpParent, serverTmp] = await scratchWithDirs("cs-deps-tmp-", "tmp");
  await mkdir(path.join(repo, "node_modules", "some-lib"), { recursive: true });
  await writeFile(path.join(repo, ".gitignore"), "node_modules/\n");
  await writeFile(path.join(repo, "package.json"), '{ "name": "demo", "private": true }\n');
  await writeFile(path.join(repo, "test.js"), "const lib = require('some-lib');\nconsole.log('TEST PASSED: ' + lib.hello());\n");
  await writeFile(path.join(repo, "version.txt"), "version one\n");
  await writeFile(path.join(repo, "node_modules", "some-lib", "index.js"), LIBRARY);
  git(repo, "init", "-q", "-b", "main");
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "initial");

  const persona = await starterPersonaFirstLine("test");
  world = await startShellAgentWorld(
    { personaMarker: persona, command: RUN_COMMAND, callId: "call_run", answer: (said) => `ran the tests; tool said: ${said}` },
    { root: scratch, repo, serverTmp },
  );
});

afterAll(async () => {
  await closeServerWorld(world ?? {}, scratch, tmpParent);
});

function git(cwd: string, ...args: string[]): string {
  return gitWithHome(scratch, cwd, ...args);
}

function delegateTest(extra: Record<string, unknown> = {}) {
  return world.server.client.callTool(
    { name: "delegate", arguments: { agent: "test", cwd: repo, worktree_deps: ["auto"], task: "Run the project's tests and add one.", ...extra } },
    { timeout: 120_000 },
  );
}

/** What the server made and still keeps: in its work directory (spares, run directories) or, wrongly, in TMPDIR. */
async function entries(): Promise<string[]> {
  const work = await readdir(serverWorkDir(world.home)).catch(() => [] as string[]);
  return [...(await readdir(serverTmp)).filter((name) => name.startsWith("codex-subagents-")), ...work.filter((name) => name.startsWith("codex-subagents-") || name.startsWith("run-"))];
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe("worktree_deps and spare worktrees with the real codex", () => {
  let firstPatch = "";

  test("auto links node_modules: the test runs, a write through the link is refused, the patch has no trace of it", async () => {
    const result: any = await delegateTest();
    const out = result.structuredContent;
    expect(out.isolation).toBe("worktree");
    expect(out.ok).toBe(true);
    const said: string = out.final_message;
    process.stderr.write(`  sub-agent's tool output: ${said.replace(/\s+/g, " ").slice(0, 400)}\n`);
    // The project's test ran in the worktree and found the library through the link.
    expect(said).toContain("TEST PASSED: hello from some-lib");
    // The sandbox refused the write through the link; the user's file is unchanged.
    expect(said).toMatch(/Read-only file system|Permission denied/);
    expect(said).not.toContain("tamper-exit=0");
    expect(await readFile(path.join(repo, "node_modules", "some-lib", "index.js"), "utf8")).toBe(LIBRARY);
    expect(said).toContain("version one");
    const notes: string[] = out.notes;
    expect(notes.join("\n")).toContain("node_modules is a link to the user's own directory");
    expect(notes.join("\n")).not.toContain("spare worktree");

    firstPatch = out.patch;
    expect(firstPatch).toContain("diff --git a/added.test.txt b/added.test.txt");
    expect(firstPatch).not.toContain("node_modules");
    expect(firstPatch).not.toContain(repo);
    expect(firstPatch).not.toContain("tampered");
  });

  test("the second delegation's set-up comes from the spare and sees the HEAD committed in between", async () => {
    // The spare is made in the background after the first set-up; the used worktree is removed after the result.
    expect(await waitFor(async () => (await entries()).length === 1 && (await entries())[0]!.startsWith("codex-subagents-spare-"), 20_000)).toBe(true);
    await writeFile(path.join(repo, "version.txt"), "version two\n");
    git(repo, "commit", "-q", "-am", "second");

    const result: any = await delegateTest();
    const out = result.structuredContent;
    expect(out.ok).toBe(true);
    const notes: string[] = out.notes;
    expect(notes.join("\n")).toContain("set-up came from a spare worktree made ahead of time");
    expect(out.notes[0]).toContain(git(repo, "rev-parse", "HEAD").trim().slice(0, 12));
    expect(out.final_message).toContain("version two");
    expect(out.final_message).not.toContain("version one");
    expect(out.final_message).toContain("TEST PASSED: hello from some-lib");
    expect(out.patch).toBe(firstPatch);
    expect(await readFile(path.join(repo, "node_modules", "some-lib", "index.js"), "utf8")).toBe(LIBRARY);
  });

  test("worktree_deps is refused for danger-full-access, saying why, and nothing is made", async () => {
    const loose = await serveInRepo(world.home, { root: scratch, repo, serverTmp }, path.join(scratch, "runs-loose"), ["--max-sandbox", "danger-full-access"]);
    try {
      const before = await entries();
      const result: any = await loose.client.callTool({
        name: "delegate",
        arguments: { agent: "deps-full", persona: "ad hoc", sandbox_mode: "danger-full-access", isolation: "worktree", cwd: repo, worktree_deps: ["node_modules"], task: "x" },
      });
      expect(result.isError).toBe(true);
      expect(result.content[0].text).toContain('worktree_deps cannot be used with sandbox "danger-full-access"');
      expect(result.content[0].text).toContain("writing the user's own dependency directories through the links");
      // Nothing new: no run directory, worktree or mirror (the suite's other server may meanwhile still be removing
      // the previous call's worktree or making its spare, which only a set-up that went through starts).
      expect((await entries()).filter((name) => !before.includes(name) && !name.startsWith("codex-subagents-spare-"))).toEqual([]);
    } finally {
      await loose.close();
    }
  });

  test("after the server exits nothing is left: no spare, no worktree, no admin dir, no incomplete run", async () => {
    await world.server.close();
    expect(await entries()).toEqual([]);
    const worktrees = git(repo, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree "));
    expect(worktrees).toEqual([`worktree ${repo}`]);
    expect(await readdir(path.join(repo, ".git", "worktrees")).catch(() => [])).toEqual([]);
    expect(git(repo, "status", "--porcelain")).toBe("");
    const runs = spawnSync(serverCommand([]).command, [...serverCommand([]).args.slice(0, -1), "runs", "--json", "--runs-dir", path.join(scratch, "runs")], { encoding: "utf8" });
    const listed = JSON.parse(runs.stdout);
    expect(listed.runs.length).toBe(2);
    for (const run of listed.runs) expect(run.outcome).toBe("ok");
    // doctor looks where the server made its workspaces and finds none left.
    const doctor = spawnSync(serverCommand([]).command, [...serverCommand([]).args.slice(0, -1), "doctor", "--json", "--codex", codexBin, "--root", scratch], {
      encoding: "utf8",
      env: { ...world.home.env, TMPDIR: serverTmp },
    });
    const workspaces = JSON.parse(doctor.stdout).checks.find((check: any) => check.id === "workspaces");
    expect(workspaces).toEqual({ id: "workspaces", status: "PASS", detail: `no spare worktree or run directory left in ${serverWorkDir(world.home)}` });
  });

  test("doctor reports a spare worktree while a server keeps one (the check can fail)", async () => {
    const running = await serveInRepo(world.home, { root: scratch, repo, serverTmp }, path.join(scratch, "runs"));
    try {
      const result: any = await running.client.callTool({ name: "delegate", arguments: { agent: "test", cwd: repo, task: "again" } }, { timeout: 120_000 });
      expect(result.structuredContent.ok).toBe(true);
      expect(await waitFor(async () => (await entries()).length === 1, 20_000)).toBe(true);
      const doctor = spawnSync(serverCommand([]).command, [...serverCommand([]).args.slice(0, -1), "doctor", "--json", "--codex", codexBin, "--root", scratch], {
        encoding: "utf8",
        env: { ...world.home.env, TMPDIR: serverTmp },
      });
      const workspaces = JSON.parse(doctor.stdout).checks.find((check: any) => check.id === "workspaces");
      expect(workspaces.status).toBe("WARN");
      expect(workspaces.detail).toContain("1 spare worktree");
    } finally {
      await running.close();
    }
    expect(await entries()).toEqual([]);
  });
});

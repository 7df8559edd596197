// A repository planted for a later call, with the real codex against the mock model. Codex runs `git status` in its
// --cd directory at each turn start, OUTSIDE its sandbox; its workspace-write sandbox protects only the `.git` of the
// sub-agent's own cwd. So a workspace-write sub-agent with isolation "none" can `git init` a subdirectory and define a
// clean filter there; a later call whose cwd is in that subdirectory would make codex's git run the filter unsandboxed.
// The server decides which repository codex sees (src/workspace/codex-git.ts): a repository whose git directory lies
// below the cwd of an in-place writer on record (runs/writer-ledger.ts) is refused for isolation "none"; an accepted
// one is handed over as GIT_DIR/GIT_WORK_TREE, and with none GIT_DIR names a path that does not exist. A PATH shim logs
// every git codex runs, with its GIT_DIR. The rule must not refuse what no sub-agent could have planted: the README's
// own set-up (a root that is the parent of the user's projects) serves `review` in a project on the first try.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, functionCall, functionCallOutputs, startMockModel, type MockModel } from "../helpers/mock-model.ts";
import { codexBin } from "../helpers/paths.ts";
import { countBadInput, reportTally } from "./harness.ts";
import { serveWithCodexHome } from "../helpers/codex-server.ts";
import { privateScratchWithDirs } from "../helpers/e2e-scratch.ts";

let parent: string, home: CodexHome, mock: MockModel, server: ConnectedServer, root: string, bare: string, marker: string, gitLog: string;
// The README's set-up: a root that holds the user's projects, each its own repository.
let projects: string, project: string;
let lastOutput = "";

const git = (cwd: string, ...args: string[]) => spawnSync("git", ["-c", "user.name=a", "-c", "user.email=a@b", ...args], { cwd });

/** The hostile sub-agent's command: plant a repository with a clean filter in `dir` (relative to its cwd). */
function plant(dir: string): string {
  return [
    // It does not rely on what the server handed it: it drops GIT_DIR/GIT_WORK_TREE first.
    `unset GIT_DIR GIT_WORK_TREE; mkdir -p ${dir} && cd ${dir} && git init -q . && printf 'aaaa\\n' > a.txt && printf '*.txt filter=x\\n' > .gitattributes`,
    `git -c user.name=a -c user.email=a@b add . && git -c user.name=a -c user.email=a@b commit -qm x`,
    `printf '#!/bin/sh\\nid > "${marker}"\\ncat\\n' > .git/evil.sh && chmod +x .git/evil.sh && git config filter.x.clean "$PWD/.git/evil.sh"`,
    `touch -d 2001-01-01 a.txt && echo PLANTED`,
  ].join(" && ");
}

beforeAll(async () => {
  // Out of every sandbox's reach wherever the clone lives (a sandbox may write /tmp and $TMPDIR).
  [parent] = await privateScratchWithDirs("cs-planted-repo-");
  marker = path.join(parent, "PWNED");
  gitLog = path.join(parent, "codex-git.log");
  mock = await startMockModel((req) => {
    const user = JSON.stringify(req.body?.input ?? "");
    const outputs = functionCallOutputs(req.body);
    const target = /PLANT-IT:([a-z/.]+)/.exec(user)?.[1];
    if (target && outputs.length === 0) return [functionCall({ name: "exec_command", args: { cmd: plant(target) }, callId: "c1" })];
    lastOutput = outputs.map((o) => o.output).join("\n") || lastOutput;
    return [assistantMessage("done")];
  });
  home = await makeCodexHome({ baseUrl: mock.baseUrl, parentDir: parent });
  // A shim first on PATH logs every git call (the server's own and codex's) with the GIT_DIR it was given.
  const shimDir = path.join(parent, "shim");
  await mkdir(shimDir);
  const realGit = spawnSync("sh", ["-c", "command -v git"]).stdout.toString().trim();
  await writeFile(path.join(shimDir, "git"), `#!/bin/sh\nprintf '%s\\t%s\\t%s\\n' "$PWD" "\${GIT_DIR-unset}" "$*" >> "${gitLog}"\nexec ${realGit} "$@"\n`);
  chmodSync(path.join(shimDir, "git"), 0o755);
  // root: a repository (its .git is <root>/.git); bare: a root in no repository at all.
  root = path.join(parent, "project");
  // Outside this checkout (itself a git repository), so that no repository encloses it, and outside /tmp and $TMPDIR,
  // where every sandbox may write (a <cwd>/.git there is writable, whatever codex protects).
  [bare] = await privateScratchWithDirs("cs-planted-plain-");
  await mkdir(root);
  await mkdir(path.join(parent, "tmp"));
  await writeFile(path.join(root, "README.md"), "hi\n");
  git(root, "init", "-q");
  git(root, "add", ".");
  git(root, "commit", "-qm", "init");
  projects = path.join(parent, "src");
  project = path.join(projects, "proj");
  await mkdir(project, { recursive: true });
  await writeFile(path.join(project, "README.md"), "a project\n");
  git(project, "init", "-q");
  git(project, "add", ".");
  git(project, "commit", "-qm", "init");
  // Started beside the root, not in it: a writer in the server's working directory is refused, since it could plant
  // ./agents for the next start (test/adversarial/planted-agents.test.ts).
  server = await serveWithCodexHome(home, ["--root", root, "--root", bare, "--root", projects, "--codex", codexBin], parent, { PATH: `${shimDir}:${home.env.PATH}`, TMPDIR: path.join(parent, "tmp") });
});
afterAll(async () => {
  await server?.close(); await mock?.close(); await home?.cleanup();
  if (parent && !process.env.KEEP) await rm(parent, { recursive: true, force: true });
  if (bare) await rm(bare, { recursive: true, force: true });
  reportTally(import.meta.file);
});

function text(result: any): string {
  return result.content.map((c: any) => c.text ?? "").join("\n");
}

/** The git calls codex made (cwd, GIT_DIR, argv): the shim's lines whose GIT_DIR is set (the server's never are). */
function codexGitCalls(): string[][] {
  if (!existsSync(gitLog)) return [];
  return readFileSync(gitLog, "utf8").split("\n").filter(Boolean).map((l) => l.split("\t")).filter((f) => f[1] !== "unset");
}

test("a repository a none-writer planted in a subdirectory: a later none call there is refused, the filter never runs", async () => {
  const first: any = await server.client.callTool({ name: "delegate", arguments: { agent: "writer", persona: "You run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "PLANT-IT:sub", isolation: "none" } }, { timeout: 120_000 });
  expect(first.isError).toBeFalsy();
  expect(lastOutput).toContain("PLANTED"); // the attack really planted the repository
  expect(existsSync(path.join(root, "sub", ".git", "config"))).toBe(true);
  expect(existsSync(marker)).toBe(false);
  const calls = codexGitCalls();

  countBadInput();
  const second: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "review sub/", cwd: path.join(root, "sub") } }, { timeout: 120_000 });
  expect(existsSync(marker)).toBe(false); // without the fix: codex's `git status` in sub/ ran the planted filter
  expect(second.isError).toBe(true);
  expect(text(second)).toContain(`git directory "${path.join(root, "sub", ".git")}"`);
  expect(text(second)).toContain('isolation "worktree" or "mirror"');
  expect(existsSync(marker)).toBe(false);
  // The same directory with isolation "mirror": the planted .git is left out and codex's git sees no repository.
  const mirrored: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "review sub/", cwd: path.join(root, "sub"), isolation: "mirror" } }, { timeout: 120_000 });
  expect(mirrored.isError).toBeFalsy();
  expect(mirrored.structuredContent.ok).toBe(true);
  expect(existsSync(marker)).toBe(false);
  // codex's own git, in the first call, ran with the repository the server chose: <root>/.git.
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) expect(call[1]).toBe(path.join(root, ".git"));
}, 240_000);

test("a root in no repository: codex's git is shown none, so a .git the sub-agent makes in its cwd is never read", async () => {
  await rm(gitLog, { force: true });
  lastOutput = "";
  const first: any = await server.client.callTool({ name: "delegate", arguments: { agent: "writer", persona: "You run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "PLANT-IT:.", isolation: "none", cwd: bare } }, { timeout: 120_000 });
  expect(first.isError).toBeFalsy();
  expect(first.structuredContent.ok).toBe(true); // codex runs fine with "not a git repository"
  // Whatever git codex ran (0.171 runs none when it finds no .git), it was shown no repository.
  for (const call of codexGitCalls()) expect(call[1]).toMatch(/no-repository-here$/);
  expect(existsSync(marker)).toBe(false);
  countBadInput();
  // The rule relies on this (measured with codex 0.169 and 0.171): codex keeps <cwd>/.git read-only for the run, even
  // when it does not exist yet, so a writer cannot make its own cwd a repository.
  expect(lastOutput).toContain("Read-only file system"); // the plant really ran, and the sandbox said no
  expect(lastOutput).not.toContain("PLANTED");
  expect(existsSync(path.join(bare, ".git"))).toBe(false);
  const second: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "review", cwd: bare } }, { timeout: 120_000 });
  expect(second.isError).toBeFalsy();
  expect(existsSync(marker)).toBe(false);
  // The server left nothing in TMPDIR (codex's own bwrap mount targets aside).
  const left = (await readdir(path.join(parent, "tmp"))).filter((name) => !name.startsWith("codex-bwrap-"));
  expect(left).toEqual([]);
}, 240_000);

test("the README's set-up: review in a project below a root of projects is served at once; after a writer worked in the root, it is refused", async () => {
  await rm(gitLog, { force: true });
  const first: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "review the last commit", cwd: project } }, { timeout: 120_000 });
  expect(first.isError).toBeFalsy();
  expect(first.structuredContent.ok).toBe(true);
  // codex's own git was shown the project's repository.
  const calls = codexGitCalls();
  for (const call of calls) expect(call[1]).toBe(path.join(project, ".git"));
  // A writer in the root of projects could rewrite every project's .git/config: from now on none is refused there.
  const writer: any = await server.client.callTool({ name: "delegate", arguments: { agent: "writer", persona: "You run commands.", sandbox_mode: "workspace-write", approval_policy: "never", task: "say done", isolation: "none", cwd: projects } }, { timeout: 120_000 });
  expect(writer.isError).toBeFalsy();
  countBadInput();
  const after: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "review the last commit", cwd: project } }, { timeout: 120_000 });
  expect(after.isError).toBe(true);
  expect(text(after)).toContain(`below "${projects}"`);
  expect(text(after)).toContain('hint: use isolation "worktree" or "mirror"');
  const mirrored: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "review", cwd: project, isolation: "mirror" } }, { timeout: 120_000 });
  expect(mirrored.structuredContent.ok).toBe(true);
  expect(existsSync(marker)).toBe(false);
}, 240_000);

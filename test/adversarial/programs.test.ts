// Programs found once, by absolute path. With a relative entry in PATH (`bin`, `.`, an empty entry) a
// lookup at each spawn would run the repository's own `git`, `codex` or `node`. The server resolves git and codex once
// at start-up from absolute PATH entries only, spawns those files, hands codex a PATH without relative entries, and
// `doctor` shows what it found. A missing git is a refusal for worktree isolation, not an internal error. `run` finds
// them the same way (it builds the same delegation context, src/delegation/context.ts).
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { connectServer } from "../helpers/mcp-client.ts";
import { serverCommand } from "../helpers/server-command.ts";
import {
  afterCase, countBadInput, expectNoSurvivors, expectNoTempDirs, FAKE_CODEX, fakeCall, fakePersona, newToken, serverEnv, useScratch, type AdversarialServer,
} from "./harness.ts";

const scratch = useScratch(import.meta.file);
let markers: string;
let trustedBin: string;

/** A program that records that it ran (the attack succeeded) and exits 1. */
async function plant(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  // Shell expansions only: the PATH it runs with may hold no dirname or basename.
  await writeFile(file, `#!/bin/sh\nd="\${0%/*}"\necho "$0 $*" > "${markers}/${name}-ran-from-\${d##*/}"\nexit 1\n`);
  await chmod(file, 0o755);
}

beforeAll(async () => {
  markers = path.join(scratch.base, "markers");
  await mkdir(markers);
  // The repository the server is started in ships its own programs, reachable through relative PATH entries.
  for (const dir of [path.join(scratch.root, "bin"), scratch.root]) {
    for (const name of ["git", "codex", "node"]) await plant(dir, name);
  }
  const git = (...args: string[]) => spawnSync("/usr/bin/git", args, { cwd: scratch.root, env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "init");
  // The real programs, in an absolute PATH directory after the relative ones: codex is the fake, by that name.
  trustedBin = path.join(scratch.base, "trusted-bin");
  await mkdir(trustedBin);
  await symlink(FAKE_CODEX, path.join(trustedBin, "codex"));
  for (const name of ["git", "node"]) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
    await symlink(found, path.join(trustedBin, name));
  }
});

const HOSTILE_PATH = () => ["bin", ".", "", trustedBin].join(":");

async function start(pathValue: string): Promise<AdversarialServer> {
  // No --codex: the server looks codex up on PATH, as most users run it.
  const connected = await connectServer({
    ...serverCommand(["--root", scratch.root]),
    env: { ...serverEnv(scratch), PATH: pathValue },
    cwd: scratch.root,
  });
  return Object.assign(connected, { scratch });
}

describe("relative PATH entries are never used", () => {
  test("delegate (worktree isolation) runs the absolute codex, git and node, never the repository's own", async () => {
    countBadInput(3);
    const server = await start(HOSTILE_PATH());
    try {
      const token = newToken("path");
      const result: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { isolation: "worktree" }) });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent.final_message).toBe("fake done");
      expect(await readdir(markers)).toEqual([]);
      // codex's own PATH has no relative entries left, so what it starts by name cannot come from the repository.
      const envFile = (await readdir(scratch.report)).find((f) => f.startsWith("env-"))!;
      const childEnv = JSON.parse(await readFile(path.join(scratch.report, envFile), "utf8"));
      expect(childEnv.PATH).toBe(trustedBin);
      await afterCase(server, token);
    } finally {
      await server.close();
    }
  });

  test("run (no --codex) finds codex and git as serve does: the absolute ones, never the repository's own", async () => {
    countBadInput();
    const token = newToken("run-path");
    const agents = path.join(scratch.base, "run-agents");
    await mkdir(agents, { recursive: true });
    await writeFile(path.join(agents, "fake.md"), `---\ndescription: the fake codex\n---\n${fakePersona({ token, report: scratch.report })}\n`);
    const { command, args } = serverCommand([]);
    const base = args.slice(0, args.indexOf("serve"));
    const run = spawnSync(command, [...base, "run", "fake", "do the thing", "--isolation", "worktree", "--agents-dir", agents], {
      cwd: scratch.root, env: { ...serverEnv(scratch), PATH: HOSTILE_PATH() }, encoding: "utf8", timeout: 60_000,
    });
    expect({ code: run.status, stderr: run.stderr }).toMatchObject({ code: 0 });
    expect(run.stdout).toBe("fake done\n");
    // Without the fix, the repository's own `git` (through "bin" and ".") ran for the worktree and left a marker.
    expect(await readdir(markers)).toEqual([]);
    const envFile = (await readdir(scratch.report)).filter((f) => f.startsWith("env-")).sort().at(-1)!;
    expect(JSON.parse(await readFile(path.join(scratch.report, envFile), "utf8")).PATH).toBe(trustedBin);
    await expectNoSurvivors(scratch, token);
    await expectNoTempDirs(scratch);
    for (const entry of await readdir(scratch.report)) await rm(path.join(scratch.report, entry), { recursive: true, force: true });
  });

  test("doctor names the absolute codex and git, and warns about the relative entries (text and --json)", async () => {
    countBadInput();
    const { command, args } = serverCommand([]);
    const base = args.slice(0, args.indexOf("serve"));
    const env = { ...serverEnv(scratch), PATH: HOSTILE_PATH() };
    const json = spawnSync(command, [...base, "doctor", "--json"], { cwd: scratch.root, env, encoding: "utf8", timeout: 60_000 });
    const report = JSON.parse(json.stdout);
    expect(report.codex.path).toBe(path.join(trustedBin, "codex"));
    expect(report.git.path).toBe(path.join(trustedBin, "git"));
    expect(report.checks.find((c: any) => c.id === "PATH").status).toBe("WARN");
    const textRun = spawnSync(command, [...base, "doctor"], { cwd: scratch.root, env, encoding: "utf8", timeout: 60_000 });
    expect(textRun.stdout).toContain(`PASS git: ${path.join(trustedBin, "git")}`);
    expect(textRun.stdout).toContain('WARN PATH: PATH has relative entries ("bin", ".", "")');
    expect(await readdir(markers)).toEqual([]);
  });

  test("only relative entries: codex and git are not found, and each call says so rather than running the planted ones", async () => {
    countBadInput(2);
    const server = await start(["bin", ".", ""].join(":"));
    try {
      const token = newToken("only-relative");
      const plain: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token) });
      expect(plain.isError).toBe(true);
      // Refused before any codex runs: not even `codex mcp list` is looked up on the relative PATH.
      expect(plain.content[0].text).toContain("relative PATH entries are ignored");
      const worktree: any = await server.client.callTool({ name: "delegate", arguments: fakeCall(scratch, token, {}, { isolation: "worktree" }) });
      expect(worktree.isError).toBe(true);
      expect(worktree.content[0].text).toContain('isolation "worktree" needs git');
      expect(worktree.content[0].text).not.toContain("internal error");
      expect(await readdir(markers)).toEqual([]);
      expect(existsSync(path.join(scratch.report, "pids"))).toBe(false);
      await afterCase(server, token);
    } finally {
      await server.close();
    }
  });
});

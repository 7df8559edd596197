import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  createGit, filterNeutralisingArgs, GIT_MISSING, gitEnvironment, isolatedConfigEnv, parseGitVersion, SAFETY_CONFIG, versionAtLeast,
} from "../../src/workspace/git.ts";
import { hostGit } from "../helpers/git.ts";

describe("git runner", () => {
  test("the environment drops every GIT_* variable (any case) and keeps the rest", () => {
    const env = gitEnvironment({
      PATH: "/usr/bin",
      HOME: "/home/u",
      GIT_DIR: "/evil/.git",
      GIT_WORK_TREE: "/evil",
      GIT_INDEX_FILE: "/evil/index",
      GIT_CONFIG_GLOBAL: "/evil/config",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "core.hooksPath",
      GIT_CONFIG_VALUE_0: "/evil/hooks",
      GIT_CONFIG_PARAMETERS: "'core.fsmonitor'='/evil/fsmon'",
      GIT_EXEC_PATH: "/evil/libexec",
      GIT_SSH_COMMAND: "/evil/ssh",
      GIT_ASKPASS: "/evil/askpass",
      Git_Dir: "/evil/mixed-case",
    });
    expect(Object.keys(env).sort()).toEqual(["GIT_OPTIONAL_LOCKS", "GIT_TERMINAL_PROMPT", "HOME", "LC_ALL", "PATH"]);
    expect(env.GIT_TERMINAL_PROMPT).toBe("0");
  });

  test("every call carries the settings that stop hooks, fsmonitor, auto-gc and network", () => {
    for (const setting of ["core.hooksPath=/dev/null", "core.fsmonitor=false", "gc.auto=0", "protocol.allow=never"]) {
      expect(SAFETY_CONFIG).toContain(setting);
    }
  });

  test("filter drivers from `git config -z --get-regexp` are blanked, dotted names included", () => {
    const listing = "filter.lfs.clean\ngit-lfs clean -- %f\0filter.lfs.smudge\ngit-lfs smudge\0filter.a.b.process\nx\0";
    expect(filterNeutralisingArgs(listing)).toEqual([
      "filter.lfs.clean=",
      "filter.lfs.smudge=",
      "filter.lfs.process=",
      "filter.lfs.required=false",
      "filter.a.b.clean=",
      "filter.a.b.smudge=",
      "filter.a.b.process=",
      "filter.a.b.required=false",
    ]);
    expect(filterNeutralisingArgs("")).toEqual([]);
    expect(filterNeutralisingArgs("filter.x=y.clean\ncmd\0")).toBeUndefined();
  });

  test("output is capped and the cap is reported", async () => {
    const result = await hostGit.run(["--version"], { cwd: process.cwd(), maxOutputBytes: 5 });
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBe(5);
  });

  test("each Git runs its own program; one made with none (no git found) refuses every call and names the fix", async () => {
    expect(hostGit.program).toMatch(/^\/.*\/git$/);
    const none = createGit(null);
    await expect(none.run(["--version"], { cwd: process.cwd() })).rejects.toThrow(GIT_MISSING.message);
    await expect(none.version()).rejects.toMatchObject({ hint: expect.stringContaining("install git") });
    const missing = createGit("/nonexistent/bin/git");
    await expect(missing.run(["--version"], { cwd: process.cwd() })).rejects.toThrow('cannot run git "/nonexistent/bin/git"');
    expect((await hostGit.version())[0]).toBeGreaterThanOrEqual(2);
  });

  test("git is spawned in exactly one place in src/ (auditable by search)", () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith(".ts")) sources.push(path);
      }
    };
    walk(join(import.meta.dir, "..", "..", "src"));
    // A literal "git" anywhere, or git.ts's start-up-resolved `program` (createGit), handed to the child-process
    // layer (src/process, whose own spawn is of its caller's `program` and is left out here).
    const spawnsGit = sources
      .filter((path) => !path.includes("/src/process/"))
      .filter((path) => /(spawn(Sync)?|runProcess)\(\s*(["'`]git["'`]|program\b)/.test(readFileSync(path, "utf8")));
    expect(spawnsGit.map((path) => path.slice(path.indexOf("src/")))).toEqual(["src/workspace/git.ts"]);
  });
});

describe("version gates", () => {
  test("git --version output is parsed, platform suffixes included", () => {
    expect(parseGitVersion("git version 2.39.5\n")).toEqual([2, 39, 5]);
    expect(parseGitVersion("git version 2.40.0.windows.1")).toEqual([2, 40, 0]);
    expect(parseGitVersion("git version 2.45")).toEqual([2, 45, 0]);
    expect(parseGitVersion("not git")).toBeUndefined();
    expect(versionAtLeast([2, 39, 5], 2, 40)).toBe(false);
    expect(versionAtLeast([3, 0, 0], 2, 40)).toBe(true);
  });

  test("system and global config are off; before 2.32 by pointing HOME away", () => {
    const modern = isolatedConfigEnv([2, 39, 5]);
    expect(modern).toMatchObject({ GIT_CONFIG_NOSYSTEM: "1", GIT_ATTR_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" });
    expect(modern.HOME).toBeUndefined();
    expect(isolatedConfigEnv([2, 31, 0]).HOME).toMatch(/^\/nonexistent\//);
  });

  test("every program-valued key git 2.39 could reach in our commands is forced off", () => {
    for (const pair of [
      "core.hooksPath=/dev/null", "core.fsmonitor=false", "core.sshCommand=", "core.askPass=", "core.pager=cat",
      "core.editor=:", "sequence.editor=:", "credential.helper=", "diff.external=", "gpg.program=", "protocol.allow=never",
      "submodule.recurse=false",
    ]) {
      expect(SAFETY_CONFIG).toContain(pair);
    }
  });
});

// The delegation context (src/delegation/context.ts): built in one place for serve, run and the tests, from the
// server options, with every dependency explicit; where a call without cwd works.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { resolveServerOptions } from "../../src/config.ts";
import { buildDelegateContext, defaultCwdOf } from "../../src/delegation/context.ts";
import { resolveRoots } from "../../src/policy/roots.ts";
import { SparePool } from "../../src/workspace/spares.ts";
import { NO_SPARES } from "../../src/workspace/spares-interface.ts";
import { scratchWithDirs } from "../helpers/e2e-scratch.ts";
import { repoRoot } from "../helpers/paths.ts";

let scratch: string, projects: string, project: string, bin: string, home: string;

beforeAll(async () => {
  [scratch, projects, bin, home] = await scratchWithDirs("cs-context-", "src", "bin", "home");
  project = path.join(projects, "proj");
  await mkdir(path.join(project, "sub"), { recursive: true });
  await writeFile(path.join(bin, "codex"), "#!/bin/sh\nexit 0\n");
  await chmod(path.join(bin, "codex"), 0o755);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("defaultCwdOf: where a call without cwd works", () => {
  test("the working directory when it lies inside a root (the project Codex was started in), else the first root", async () => {
    const roots = await resolveRoots([projects, bin], scratch);
    expect(await defaultCwdOf(path.join(project, "sub"), roots)).toBe(path.join(project, "sub"));
    expect(await defaultCwdOf(bin, roots)).toBe(bin);
    expect(await defaultCwdOf(home, roots)).toBe(projects);
    expect(await defaultCwdOf(path.join(scratch, "gone"), roots)).toBe(projects);
  });
});

describe("buildDelegateContext", () => {
  const build = (cwd: string, flags: Record<string, string[]>, lifetime: "server" | "one-run") => {
    const env = { PATH: `relative-bin:.:${bin}:${process.env.PATH}`, HOME: home, CODEX_HOME: path.join(home, ".codex"), CODEX_SUBAGENTS_DEPTH: "0" };
    const options = resolveServerOptions({ values: new Map(Object.entries(flags)) }, env, cwd);
    return buildDelegateContext(options, { env, cwd, writeLog: () => {} }, lifetime);
  };

  test("codex and git are found on PATH's absolute entries, as absolute paths; every dependency is a field", async () => {
    const { context, codex } = await build(project, { "--root": [projects] }, "one-run");
    expect(codex.problem).toBeUndefined();
    expect(context.codexPath).toBe(path.join(bin, "codex"));
    expect(context.git.program).toMatch(/^\/.*\/git$/);
    expect(context.defaultCwd).toBe(project);
    expect(context.workDir).toBe(path.join(home, ".codex", "subagents", "work"));
    expect(context.depth).toBe(0);
    expect(context.spares).toBe(NO_SPARES);
    for (const field of ["threads", "treeLock", "writers", "startRecord", "limiter"] as const) expect(context[field]).toBeDefined();
  });

  test("a server keeps spare worktrees; a one-off run does not", async () => {
    const built = await build(project, { "--root": [projects], "--spare-worktrees": ["2"] }, "server");
    expect(built.context.spares).toBeInstanceOf(SparePool);
    expect((built.context.spares as SparePool).perRepository).toBe(2);
    await built.closeSpares();
  });

  test("a codex that is not found is reported with the fix, and never left to a PATH lookup at spawn", async () => {
    const { context, codex } = await build(project, { "--root": [projects], "--codex": ["no-such-codex"] }, "one-run");
    expect(codex.problem?.detail).toContain('"no-such-codex" was not found on PATH');
    expect(context.codexPath).toBe("no-such-codex"); // a bare name: runCodex refuses to spawn it
  });

  test("serve, run and the test helper build the context with this one function; nothing else assembles one (the run table only derives a run's own from it)", async () => {
    const sources = ["src/commands/serve.ts", "src/commands/run.ts", "test/helpers/delegate-context.ts"];
    for (const file of sources) expect(await readFile(path.join(repoRoot, file), "utf8")).toContain("buildDelegateContext(");
    const assembled: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (full.endsWith(".ts") && /:\s*DelegateContext\s*=\s*\{(?!\s*\.\.\.)/.test(await readFile(full, "utf8"))) assembled.push(path.relative(repoRoot, full));
      }
    };
    await walk(path.join(repoRoot, "src"));
    expect(assembled).toEqual(["src/delegation/context.ts"]);
  });
});

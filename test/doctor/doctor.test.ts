/**
 * `codex-subagents doctor` as users run it: against the real codex (healthy), a fake codex whose help lacks an option
 * the server needs, a codex that is not there, and broken agents, roots and runs directories. Each failure names the
 * thing and comes with a hint line; a usage error exits 64 with nothing on stdout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, copyFile, mkdir, realpath, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { TESTED_CODEX_VERSIONS } from "../../src/doctor/index.ts";
import { codexBin, codexVersion, distBinary, repoRoot } from "../helpers/paths.ts";
import { scratchWithDirs } from "../helpers/e2e-scratch.ts";
import { cliPrefix, runCli, type CliRun } from "./run-cli.ts";
import { existsSync } from "node:fs";

const FIXTURE = path.join(repoRoot, "test", "fixtures", "fake-codex-doctor", "fake-codex-doctor.mjs");

let scratch: string;
let root: string;
let codexHome: string;
let agentsDir: string;

beforeAll(async () => {
  [scratch, root, codexHome, agentsDir] = await scratchWithDirs("cs-doctor-", "root", "codex-home", "agents");
  await mkdir(path.join(scratch, "home"));
  await writeFile(path.join(agentsDir, "review.md"), "---\ndescription: Reviews code\nsandbox_mode: read-only\n---\nYou review code carefully.\n");
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A minimal environment like the one a user's shell or an MCP client gives: no CODEX_SUBAGENTS_* leaking in. */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: path.join(scratch, "home"), ...extra };
}

function doctor(args: string[], env: Record<string, string> = baseEnv()) {
  return runCli(["doctor", "--root", root, "--agents-dir", agentsDir, "--runs-dir", path.join(scratch, "runs"), ...args], { cwd: root, env });
}

/** A copy of the fake codex in its own directory, with its behaviour file beside it. */
async function fakeCodex(name: string, config: Record<string, unknown>): Promise<string> {
  const dir = path.join(scratch, `fake-${name}`);
  await mkdir(dir);
  const script = path.join(dir, "codex");
  await copyFile(FIXTURE, script);
  await chmod(script, 0o755);
  await writeFile(path.join(dir, "fake-codex-doctor.json"), JSON.stringify(config));
  return script;
}

/** doctor with the real codex, on agents, root and runs directories other than the suite's (no runsDir: doctor's default). */
function doctorOn(dirs: { agentsDir: string; root: string; runsDir?: string }, env: Record<string, string> = baseEnv()) {
  const runsDir = dirs.runsDir === undefined ? [] : ["--runs-dir", dirs.runsDir];
  return runCli(["doctor", "--codex", codexBin, "--agents-dir", dirs.agentsDir, "--root", dirs.root, ...runsDir], { cwd: root, env });
}

/** A new agents directory in the scratch area holding one agent file. */
async function agentsDirWith(dirName: string, fileName: string, text: string): Promise<string> {
  const dir = path.join(scratch, dirName);
  await mkdir(dir);
  await writeFile(path.join(dir, fileName), text);
  return dir;
}

/** doctor (text output) against a fake codex made by fakeCodex(name, config); the fake's path too, to run it again. */
async function doctorWithFake(name: string, config: Record<string, unknown>): Promise<{ fake: string; run: CliRun }> {
  const fake = await fakeCodex(name, config);
  return { fake, run: await doctor(["--codex", fake]) };
}

function line(stdout: string, prefix: string): string | undefined {
  return stdout.split("\n").find((l) => l.startsWith(prefix));
}

describe("doctor", () => {
  test("healthy against the real codex: exit 0, names the version, every option check passes", async () => {
    const run = await doctor(["--codex", codexBin]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const version = codexVersion();
    // The codex under test is one this release names as tested, and doctor says which ones those are.
    expect(TESTED_CODEX_VERSIONS).toContain(version);
    expect(line(run.stdout, "PASS codex version:")).toBe(`PASS codex version: codex-cli ${version} (this release was tested with ${TESTED_CODEX_VERSIONS.slice(0, -1).join(", ")} and ${TESTED_CODEX_VERSIONS.at(-1)})`);
    for (const check of ["codex", "codex options", "codex exec options", "codex exec resume options", "codex features", "agents", "roots", "runs dir"]) {
      expect(line(run.stdout, `PASS ${check}:`)).toBeDefined();
    }
    expect(run.stdout).not.toMatch(/^FAIL /m);
    // Every line is a check or a hint: nothing else for a script to trip over.
    for (const l of run.stdout.trimEnd().split("\n")) expect(l).toMatch(/^(PASS|FAIL|WARN) [a-z ]+: |^hint: /);
  });

  test("--json: machine-readable report with the version and one entry per check", async () => {
    const run = await doctor(["--codex", codexBin, "--json"]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.healthy).toBe(true);
    expect(report.codex.version).toBe(codexVersion());
    expect(report.codex.tested_versions).toEqual([...TESTED_CODEX_VERSIONS]);
    expect(report.codex.path).toBe(codexBin);
    const ids = report.checks.map((c: any) => c.id);
    expect(ids).toContain("codex exec options");
    for (const check of report.checks) {
      expect(["PASS", "WARN", "FAIL"]).toContain(check.status);
      expect(typeof check.detail).toBe("string");
    }
  });

  test("codex found on PATH when no --codex is given", async () => {
    const run = await doctor([], baseEnv({ PATH: `${path.dirname(codexBin)}:${process.env.PATH}` }));
    expect(run.code).toBe(0);
    expect(line(run.stdout, "PASS codex:")).toContain(`${codexBin} (found on PATH)`);
  });

  test("a codex that does not know a feature we switch off: exit 1, the FAIL says sub-agents could not run", async () => {
    const { run } = await doctorWithFake("no-v2", { drop: ["multi_agent_v2"] });
    expect(run.code).toBe(1);
    const fail = line(run.stdout, "FAIL codex features:");
    expect(fail).toContain("passed as --disable, exited with 1: Error: Unknown feature flag: multi_agent_v2; every delegation passes these --disable flags, so none could run");
    expect(run.stdout.split("\n")[run.stdout.split("\n").indexOf(fail!) + 1]).toMatch(/^hint: /);
    expect(line(run.stdout, "PASS codex exec options:")).toBeDefined();
  });

  test("a codex without exec --ignore-rules: exit 1, the FAIL names it (rules files could lift a sub-agent's sandbox)", async () => {
    const { run } = await doctorWithFake("no-ignore-rules", { drop: ["--ignore-rules"] });
    expect(run.code).toBe(1);
    expect(line(run.stdout, "FAIL codex exec options:")).toContain("--ignore-rules");
    expect(line(run.stdout, "FAIL codex exec resume options:")).toContain("--ignore-rules");
  });

  test("a codex that cannot list its MCP servers: exit 1, the FAIL says every delegation would be refused", async () => {
    const { run } = await doctorWithFake("no-mcp-list", { mcpListFails: true });
    expect(run.code).toBe(1);
    const fail = line(run.stdout, "FAIL mcp servers:");
    expect(fail).toContain("Error: failed to load configuration");
    expect(fail).toContain("every delegation would be refused");
  });

  test("the user's MCP servers, which agents are granted each, and what --allow-mcp allows (real codex)", async () => {
    const home = path.join(scratch, "mcp-home");
    await mkdir(home);
    await writeFile(path.join(home, "config.toml"), '[mcp_servers.notes]\ncommand = "/bin/true"\n[mcp_servers.files]\ncommand = "/bin/true"\n');
    const dir = await agentsDirWith("agents-mcp", "echoer.md", "---\ndescription: Echoes\nmcp_servers:\n  notes: [echo]\n---\nYou echo.\n");
    await writeFile(path.join(dir, "lost.md"), "---\ndescription: Wants a server nobody declared\nmcp_servers: [nowhere]\n---\nYou look.\n");
    const run = await runCli(["doctor", "--codex", codexBin, "--agents-dir", dir, "--root", root, "--allow-mcp", "notes"], { cwd: root, env: baseEnv({ CODEX_HOME: home }) });
    const warn = line(run.stdout, "WARN mcp servers:");
    expect(warn).toContain("files (granted to no agent; not allowed (--allow-mcp))");
    expect(warn).toContain("notes (granted to echoer; allowed by --allow-mcp)");
    expect(warn).toContain('lost is granted "nowhere", which your codex config does not declare here');
    // validate says the same of the same file.
    const validated = await runCli(["validate", dir, "--json"], { cwd: root, env: baseEnv({ CODEX_HOME: home, PATH: `${path.dirname(codexBin)}:${process.env.PATH}` }) });
    const issues = JSON.parse(validated.stdout).files.flatMap((f: any) => f.issues.map((i: any) => `${f.agent}:${i.code}`));
    expect(issues).toEqual(["lost:MCP_SERVER_UNDECLARED"]);
  });

  test("a codex whose exec help lacks --output-schema: exit 1, the FAIL names it, a hint says what to do", async () => {
    const { fake, run } = await doctorWithFake("no-schema", { drop: ["--output-schema"] });
    expect(run.code).toBe(1);
    const fail = line(run.stdout, "FAIL codex exec options:");
    expect(fail).toContain("--output-schema");
    expect(line(run.stdout, "FAIL codex exec resume options:")).toContain("--output-schema");
    const lines = run.stdout.split("\n");
    expect(lines[lines.indexOf(fail!) + 1]).toMatch(/^hint: upgrade codex/);
    // Only what is missing is reported missing.
    expect(fail).toContain("does not list --output-schema;");
    expect(line(run.stdout, "PASS codex version:")).toContain("0.169.0");
    expect(line(run.stdout, "PASS codex options:")).toBeDefined();
    const report = JSON.parse((await doctor(["--codex", fake, "--json"])).stdout);
    expect(report.healthy).toBe(false);
    expect(report.checks.find((c: any) => c.id === "codex exec options").status).toBe("FAIL");
  });

  test("a codex version this release was not tested with: still PASS, and the line says which versions were", async () => {
    const { run } = await doctorWithFake("untested", { version: "codex-cli 0.100.0" });
    expect(line(run.stdout, "PASS codex version:")).toContain(`codex-cli 0.100.0 (this release was tested with ${TESTED_CODEX_VERSIONS.slice(0, -1).join(", ")} and ${TESTED_CODEX_VERSIONS.at(-1)}; the option checks below tell whether this one fits)`);
  });

  test("a codex without exec resume: exit 1 naming resume", async () => {
    const { run } = await doctorWithFake("no-resume", { drop: ["resume"], failOn: "exec resume --help" });
    expect(run.code).toBe(1);
    expect(line(run.stdout, "FAIL codex exec options:")).toContain("resume (subcommand)");
    expect(line(run.stdout, "FAIL codex exec resume options:")).toContain("exited with 3");
  });

  test("a program that is not codex: the version check fails", async () => {
    const { run } = await doctorWithFake("not-codex", { version: "something else 1.0" });
    expect(run.code).toBe(1);
    expect(line(run.stdout, "FAIL codex version:")).toContain("something else 1.0");
  });

  test("missing codex: exit 1 with a hint, and no probe lines", async () => {
    const run = await doctor(["--codex", path.join(scratch, "no-such-codex")]);
    expect(run.code).toBe(1);
    expect(line(run.stdout, "FAIL codex:")).toContain("does not exist");
    expect(run.stdout).toMatch(/^FAIL codex: .*\nhint: install codex .*--codex/m);
    expect(run.stdout).not.toContain("codex version");

    const onPath = await doctor([], baseEnv({ PATH: path.join(scratch, "home") }));
    expect(onPath.code).toBe(1);
    expect(line(onPath.stdout, "FAIL codex:")).toContain('"codex" was not found on PATH');
  });

  test("CODEX_SUBAGENTS_CODEX is used and named", async () => {
    const run = await doctor([], baseEnv({ CODEX_SUBAGENTS_CODEX: codexBin }));
    expect(run.code).toBe(0);
    expect(line(run.stdout, "PASS codex:")).toContain("from CODEX_SUBAGENTS_CODEX");
  });

  test("broken agents, a missing root and an unwritable runs dir each fail with a hint", async () => {
    const badAgents = await agentsDirWith("bad-agents", "broken.md", "---\nsandbox_mode: everything\n---\nPersona.\n");
    const runsFile = path.join(scratch, "runs-is-a-file");
    await writeFile(runsFile, "");
    const run = await doctorOn({ agentsDir: badAgents, root: path.join(scratch, "no-such-root"), runsDir: runsFile });
    expect(run.code).toBe(1);
    expect(line(run.stdout, "FAIL agents:")).toContain("broken.md");
    expect(run.stdout).toContain(`hint: run codex-subagents validate ${await realpath(badAgents)}`);
    expect(line(run.stdout, "FAIL roots:")).toContain("no-such-root");
    expect(line(run.stdout, "FAIL runs dir:")).toContain("is not a directory");
  });

  test("a missing agents directory named explicitly fails instead of falling back", async () => {
    const run = await doctorOn({ agentsDir: path.join(scratch, "nope"), root });
    expect(run.code).toBe(1);
    expect(line(run.stdout, "FAIL agents:")).toContain("does not exist");
  });

  test("warnings (missing profile file, variables Codex would not pass) keep exit 0 and say how to fix them", async () => {
    const profiled = await agentsDirWith("profiled-agents", "fast.md", "---\nprofile: speedy\n---\nBe quick.\n");
    const run = await doctorOn(
      { agentsDir: profiled, root, runsDir: path.join(scratch, "runs") },
      baseEnv({ CODEX_HOME: codexHome, OPENAI_API_KEY: "sk-test-not-a-real-key-000000" }),
    );
    expect(run.code).toBe(0);
    expect(line(run.stdout, "WARN profiles:")).toContain('"speedy"');
    expect(run.stdout).toContain(`hint: create ${path.join(codexHome, "speedy.config.toml")}`);
    expect(line(run.stdout, "WARN mcp environment:")).toContain("CODEX_HOME, OPENAI_API_KEY");
    expect(run.stdout).toContain('env_vars = ["CODEX_HOME", "OPENAI_API_KEY"]');
    // The key's value is never printed.
    expect(run.stdout).not.toContain("sk-test-not-a-real-key");
  });

  test("usage errors exit 64 with nothing on stdout", async () => {
    for (const args of [["doctor", "extra"], ["doctor", "--frobnicate"], ["doctor", "--json=yes"], ["doctor", "--timeout", "soon"]]) {
      const run = await runCli(args, { cwd: root, env: baseEnv() });
      expect(run.code).toBe(64);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^codex-subagents: .+\n(hint: .+\n)?$/);
    }
  });
});

describe("Codex's entry for this server (codex mcp list, the real codex found on PATH)", () => {
  /** A CODEX_HOME whose config.toml has `entry` as [mcp_servers.subagents], its command this executable. */
  async function homeWithEntry(name: string, args: string[], entry: string): Promise<string> {
    const home = path.join(scratch, name);
    await mkdir(home);
    const [command, ...lead] = cliPrefix();
    await writeFile(path.join(home, "config.toml"), `[mcp_servers.subagents]\ncommand = ${JSON.stringify(command)}\nargs = ${JSON.stringify([...lead, ...args])}\n${entry}\n`);
    return home;
  }
  const envWith = (home: string) => ({ PATH: `${path.dirname(codexBin)}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: path.join(scratch, "home"), CODEX_HOME: home, OPENAI_API_KEY: "sk-test-not-a-real-key-000000" });
  const check = (report: any, id: string) => report.checks.find((c: any) => c.id === id);

  test("an entry that forwards CODEX_HOME in env_vars, names existing roots and a long tool timeout: no warning about them", async () => {
    const home = await homeWithEntry("home-good", ["--max-concurrency", "2"], `tool_timeout_sec = 1860\nenv_vars = ["OPENAI_API_KEY", "CODEX_HOME"]\n\n[mcp_servers.subagents.env]\nCODEX_SUBAGENTS_ROOTS = ${JSON.stringify(root)}`);
    const run = await runCli(["doctor", "--json"], { cwd: root, env: envWith(home) });
    const report = JSON.parse(run.stdout);
    if (existsSync(distBinary)) expect(check(report, "codex entry subagents")).toMatchObject({ status: "PASS" });
    expect(check(report, "codex entry subagents environment")).toMatchObject({ status: "PASS" });
    expect(check(report, "codex entry subagents roots")).toMatchObject({ status: "PASS" });
    expect(check(report, "codex entry subagents roots").detail).toContain(root);
    expect(check(report, "codex entry subagents timeout")).toMatchObject({ status: "PASS" });
    expect(report.checks.find((c: any) => c.id === "mcp environment")).toBeUndefined();
    expect(run.stdout).not.toContain("sk-test-not-a-real-key");
  });

  test("an entry that drops CODEX_HOME, names a missing root and keeps Codex's default tool timeout: each said, with the fix", async () => {
    const missing = path.join(scratch, "no-such-root");
    const home = await homeWithEntry("home-bad", [], `\n[mcp_servers.subagents.env]\nCODEX_SUBAGENTS_ROOTS = ${JSON.stringify(missing)}`);
    const run = await runCli(["doctor"], { cwd: root, env: envWith(home) });
    expect(run.code).toBe(1);
    expect(line(run.stdout, "FAIL codex entry subagents roots:")).toContain(`"${missing}" does not exist`);
    expect(line(run.stdout, "WARN codex entry subagents environment:")).toContain("CODEX_HOME, OPENAI_API_KEY are set here, but the server [mcp_servers.subagents] starts would not see them");
    expect(run.stdout).toContain('env_vars = ["CODEX_HOME", "OPENAI_API_KEY"]');
    expect(line(run.stdout, "WARN codex entry subagents timeout:")).toContain("sets no tool_timeout_sec");
    expect(run.stdout).toContain("hint: set tool_timeout_sec = 1860 in the entry");
  });

  test("an entry whose args the server would refuse at start-up: FAIL, quoting the server's own message", async () => {
    const home = await homeWithEntry("home-args", ["--max-sandboxx", "read-only"], "");
    const run = await runCli(["doctor"], { cwd: root, env: envWith(home) });
    expect(line(run.stdout, "FAIL codex entry subagents args:")).toContain('unknown option "--max-sandboxx"; did you mean "--max-sandbox"?');
  });
});

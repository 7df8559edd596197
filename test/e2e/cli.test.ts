/**
 * The built executable as users and CI meet it: its command line (help, version, list, validate, usage errors, a
 * bad agents dir at start-up) and its MCP surface through the official SDK client (tool list, schemas, annotations,
 * list_agents and validate_agents on good and broken agent files, the refusals of delegate).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { connectServer, type ConnectedServer } from "../helpers/mcp-client.ts";
import { bunBin, distBinary, repoRoot } from "../helpers/paths.ts";
import { suiteValue } from "../helpers/e2e-suite.ts";
import { serverCommand } from "../helpers/server-command.ts";

/** The executable's argv prefix: dist/codex-subagents, or the source under bun (as serverCommand decides). */
function cliPrefix(): string[] {
  const { command, args } = serverCommand([]);
  // serverCommand puts "serve" last; drop it to get the bare program.
  return [command, ...args.slice(0, args.length - 1)];
}

function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const [command, ...prefix] = cliPrefix();
  const run = spawnSync(command!, [...prefix, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: scratch, ...opts.env },
    encoding: "utf8",
    input: "",
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

let scratch: string;
let goodDir: string;
let brokenDir: string;
let root: string;

const GOOD_AGENTS: Record<string, string> = {
  "alpha-checker.md": "---\ndescription: Checks the alpha module for mistakes\nsandbox_mode: read-only\n---\nYou check alpha.\n",
  "beta-writer.json": JSON.stringify({ description: "Writes beta documentation", sandbox_mode: "workspace-write", isolation: "worktree", persona: "You write beta docs." }),
};

beforeAll(async () => {
  scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-cli-")));
  root = path.join(scratch, "root");
  goodDir = path.join(root, "good-agents");
  brokenDir = path.join(root, "broken-agents");
  await mkdir(goodDir, { recursive: true });
  await mkdir(brokenDir, { recursive: true });
  for (const [file, text] of Object.entries(GOOD_AGENTS)) await writeFile(path.join(goodDir, file), text);
  await writeFile(path.join(brokenDir, "fine.md"), "---\ndescription: A fine agent\n---\nFine persona.\n");
  await writeFile(path.join(brokenDir, "broken.md"), "---\ndescription: Broken on purpose\nsandbox_mode: yolo\n---\nPersona.\n");
  await writeFile(path.join(brokenDir, "warned.md"), "---\ndescription: Has an unknown key\ncolour: blue\n---\nPersona.\n");
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("command line", () => {
  test("--help: exit 0, usage on stdout", () => {
    const run = cli(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage:");
    expect(run.stdout).toContain("codex-subagents validate [DIR]");
    expect(run.stdout).toContain("--agents-dir DIR");
  });

  test("--version: first line is `codex-subagents <package.json version>`", async () => {
    const { version } = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8"));
    const run = cli(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe(`codex-subagents ${version}`);
  });

  test("list --json: the starter agents in ./agents, from the repository root", () => {
    const run = cli(["list", "--json"]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.source).toBe("directory");
    expect(report.dir).toBe(path.join(repoRoot, "agents"));
    const names = report.agents.map((a: any) => a.name);
    expect(names).toEqual(expect.arrayContaining(["review", "debugger", "security", "test", "docs"]));
    const review = report.agents.find((a: any) => a.name === "review");
    expect(review).toMatchObject({ sandbox_mode: "read-only", file: "review.md", ok: true });
    expect(review.description.length).toBeGreaterThan(10);
  });

  test("list --json elsewhere falls back to the embedded starter agents", () => {
    const run = cli(["list", "--json"], { cwd: scratch });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.source).toBe("embedded");
    expect(report.dir).toBeNull();
    expect(report.agents.map((a: any) => a.name)).toEqual(expect.arrayContaining(["review", "security"]));
  });

  test("validate agents/: exit 0 (how CI checks the starter agents with the built executable)", () => {
    const run = cli(["validate", "agents/"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("0 with errors");
  });

  test("validate on a dir with a broken file: exit 1, names the file and the code", () => {
    const run = cli(["validate", brokenDir]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/broken\.md: INVALID_VALUE \[sandbox_mode\]/);
    expect(run.stdout).toMatch(/warned\.md: UNKNOWN_KEY/);
    const json = cli(["validate", brokenDir, "--json"]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(false);
    expect(report.summary).toEqual({ files: 3, ok: 2, with_errors: 1, with_warnings: 1 });
    const broken = report.files.find((f: any) => f.file === "broken.md");
    expect(broken.issues).toEqual([expect.objectContaining({ level: "error", code: "INVALID_VALUE", field: "sandbox_mode" })]);
  });

  test("validate /nope: exit 2 with a hint", () => {
    const run = cli(["validate", "/nope"]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('no such directory "/nope"');
  });

  test("an unknown flag: exit 64, the error line and its hint line on stderr, nothing on stdout", () => {
    for (const args of [["--bogus"], ["serve", "--bogus"], ["list", "--bogus"]]) {
      const run = cli(args);
      expect(run.code).toBe(64);
      expect(run.stdout).toBe("");
      const lines = run.stderr.split("\n").filter((l) => l !== "");
      expect(lines).toEqual(['codex-subagents: error: unknown option "--bogus"', "hint: see codex-subagents --help"]);
    }
  });

  test("an unknown command: exit 64 naming the commands", () => {
    const run = cli(["frobnicate"]);
    expect(run.code).toBe(64);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('unknown command "frobnicate"');
  });

  test("serve --agents-dir /nope fails at start with a clear message, before speaking MCP", () => {
    const run = cli(["serve", "--agents-dir", "/nope"]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('agents directory "/nope"');
    expect(run.stderr).toContain("--agents-dir");
  });

  test("the built executable exists when CI runs this suite", () => {
    if (process.env.CI) expect(existsSync(distBinary)).toBe(true);
    expect(existsSync(bunBin)).toBe(true);
  });
});

function connect(agentsDir: string): Promise<ConnectedServer> {
  return connectServer({
    ...serverCommand(["--agents-dir", agentsDir, "--root", root, "--codex", path.join(scratch, "no-codex-here")]),
    env: { HOME: scratch, CODEX_HOME: path.join(scratch, "codex-home") },
    cwd: root,
  });
}

/** The text of a delegate call the server refuses: an error result (isError), not a thrown error. */
async function refusalText(server: ConnectedServer, args: Record<string, unknown>): Promise<string> {
  const result: any = await server.client.callTool({ name: "delegate", arguments: args });
  expect(result.isError).toBe(true);
  return result.content[0].text;
}

describe("MCP surface, good agents", () => {
  const server = suiteValue(() => connect(goodDir), (s) => s.close());

  test("serverInfo names the product and the package version", async () => {
    const { version } = JSON.parse(await readFile(path.join(repoRoot, "package.json"), "utf8"));
    expect(server().client.getServerVersion()).toMatchObject({ name: "codex-subagents", version });
  });

  test("exactly delegate, list_agents and validate_agents, with strict inputs, output schemas and annotations", async () => {
    const { tools } = await server().client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["cancel_run", "delegate", "get_run", "list_agents", "validate_agents"]);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object");
      expect((tool.inputSchema as any).additionalProperties).toBe(false);
      expect(tool.outputSchema?.type).toBe("object");
      expect(tool.annotations).toBeDefined();
      expect(tool.description!.length).toBeGreaterThan(40);
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.delegate!.inputSchema.required).toEqual(expect.arrayContaining(["agent", "task"]));
    expect(Object.keys(byName.delegate!.outputSchema!.properties ?? {})).toEqual(
      expect.arrayContaining(["ok", "agent", "exit_code", "final_message", "thread_id", "usage", "duration_ms", "working_dir", "isolation", "stderr_tail", "timed_out", "cancelled", "run_dir"]),
    );
    expect(byName.delegate!.annotations).toMatchObject({ readOnlyHint: false, openWorldHint: true });
    expect(byName.list_agents!.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.validate_agents!.annotations).toMatchObject({ readOnlyHint: true });
  });

  test("the delegate description names the loaded agents and what each is for", async () => {
    const { tools } = await server().client.listTools();
    const description = tools.find((t) => t.name === "delegate")!.description!;
    expect(description).toContain("alpha-checker: Checks the alpha module for mistakes");
    expect(description).toContain("beta-writer: Writes beta documentation");
    // Only the loaded agents: not the starter agents of the repository.
    expect(description).not.toContain("- review:");
  });

  test("list_agents: both agents from the directory, with their settings", async () => {
    const result: any = await server().client.callTool({ name: "list_agents", arguments: {} });
    expect(result.isError).toBeFalsy();
    const report = result.structuredContent;
    expect(report.source).toBe("directory");
    expect(report.dir).toBe(goodDir);
    expect(report.agents).toEqual([
      expect.objectContaining({ name: "alpha-checker", sandbox_mode: "read-only", file: "alpha-checker.md", ok: true }),
      expect.objectContaining({ name: "beta-writer", sandbox_mode: "workspace-write", isolation: "worktree", file: "beta-writer.json", ok: true }),
    ]);
    expect(JSON.parse(result.content[0].text)).toEqual(report);
  });

  test("validate_agents without dir: the server's own directory is clean", async () => {
    const result: any = await server().client.callTool({ name: "validate_agents", arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ ok: true, dir: goodDir, summary: { files: 2, ok: 2, with_errors: 0, with_warnings: 0 } });
  });

  test("validate_agents on a broken directory inside a root: errors and warnings with codes", async () => {
    const result: any = await server().client.callTool({ name: "validate_agents", arguments: { dir: brokenDir } });
    expect(result.isError).toBeFalsy();
    const report = result.structuredContent;
    expect(report.ok).toBe(false);
    expect(report.summary).toEqual({ files: 3, ok: 2, with_errors: 1, with_warnings: 1 });
    expect(report.files.find((f: any) => f.file === "broken.md")).toMatchObject({
      ok: false,
      issues: [{ level: "error", code: "INVALID_VALUE", field: "sandbox_mode" }],
    });
    expect(report.files.find((f: any) => f.file === "warned.md")).toMatchObject({ ok: true, issues: [{ level: "warning", code: "UNKNOWN_KEY" }] });
  });

  test("validate_agents outside the roots is refused", async () => {
    const result: any = await server().client.callTool({ name: "validate_agents", arguments: { dir: path.join(repoRoot, "agents") } });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain("root");
  });

  test("an unknown input key is an error result, and the server keeps running", async () => {
    const result: any = await server().client.callTool({ name: "delegate", arguments: { agent: "alpha-checker", task: "x", colour: "blue" } });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain("colour");
    const again: any = await server().client.callTool({ name: "list_agents", arguments: {} });
    expect(again.isError).toBeFalsy();
  });

  test("an unknown agent: the error names the known agents", async () => {
    const text = await refusalText(server(), { agent: "nobody", task: "do it" });
    expect(text).toContain('unknown agent "nobody"');
    expect(text).toContain("alpha-checker");
    expect(text).toContain("beta-writer");
    expect(text).toContain("persona");
  });

  test("a registry agent with a persona: refused, saying to edit its file", async () => {
    const text = await refusalText(server(), { agent: "alpha-checker", task: "do it", persona: "Be someone else." });
    expect(text).toContain("registry agent");
    expect(text).toContain("alpha-checker.md");
    expect(text).toContain("\nhint: edit its file");
  });
});

describe("MCP surface, broken agents", () => {
  const server = suiteValue(() => connect(brokenDir), (s) => s.close());

  test("list_agents lists the broken agent with ok: false", async () => {
    const result: any = await server().client.callTool({ name: "list_agents", arguments: {} });
    expect(result.isError).toBeFalsy();
    const agents = result.structuredContent.agents;
    expect(agents.find((a: any) => a.name === "broken")).toMatchObject({ ok: false, file: "broken.md" });
    expect(agents.find((a: any) => a.name === "fine")).toMatchObject({ ok: true });
  });

  test("validate_agents without dir reports the broken file", async () => {
    const result: any = await server().client.callTool({ name: "validate_agents", arguments: {} });
    expect(result.structuredContent).toMatchObject({ ok: false, dir: brokenDir, summary: { with_errors: 1 } });
  });

  test("delegating to the broken agent is refused naming the file and what is wrong", async () => {
    const text = await refusalText(server(), { agent: "broken", task: "do it" });
    expect(text).toContain("broken.md");
    expect(text).toContain("sandbox_mode");
    expect(text).toContain("validate");
  });
});

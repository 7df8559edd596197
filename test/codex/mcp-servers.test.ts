// What codex says it would load (src/codex/mcp-servers.ts): its JSON parsed, and the real codex asked with the same
// global options a run uses, so a profile's servers and a trusted project's layers are seen.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { listMcpServers, parseMcpList } from "../../src/codex/mcp-servers.ts";
import { codexBin } from "../helpers/paths.ts";

describe("parseMcpList", () => {
  test("entries of both transports; a bad shape or non-JSON is a problem, not an empty list", () => {
    const parsed = parseMcpList(JSON.stringify([
      { name: "notes", enabled: true, transport: { type: "stdio", command: "/bin/notes", args: [], env: null, env_vars: [], cwd: null }, startup_timeout_sec: null, tool_timeout_sec: 30, extra: 1 },
      { name: "web", enabled: false, transport: { type: "streamable_http", url: "http://127.0.0.1:1/mcp" } },
    ]));
    expect("servers" in parsed && parsed.servers.map((s) => [s.name, s.enabled])).toEqual([["notes", true], ["web", false]]);
    expect(parseMcpList("not json")).toHaveProperty("problem");
    expect(parseMcpList(JSON.stringify([{ enabled: true }]))).toHaveProperty("problem");
  });
});

describe("listMcpServers with the real codex", () => {
  let root: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    root = await realpath(await mkdtemp(path.join(tmpdir(), "cs-mcp-list-")));
    const home = path.join(root, "codex-home");
    const project = path.join(root, "proj");
    await mkdir(project);
    spawnSync("git", ["init", "-q", project]);
    await mkdir(path.join(project, "sub", ".codex"), { recursive: true });
    await mkdir(home);
    await writeFile(path.join(home, "config.toml"), [
      "[mcp_servers.notes]", 'command = "/bin/true"', "",
      `[projects.${JSON.stringify(project)}]`, 'trust_level = "trusted"', "",
    ].join("\n"));
    await writeFile(path.join(home, "prof.config.toml"), '[mcp_servers.from_profile]\ncommand = "/bin/true"\n');
    await writeFile(path.join(project, "sub", ".codex", "config.toml"), '[mcp_servers.from_project]\ncommand = "/bin/true"\n');
    env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, CODEX_HOME: home };
  });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  const names = async (globalArgs: string[]) => {
    const cwd = globalArgs[globalArgs.indexOf("--cd") + 1]!;
    const listed = await listMcpServers({ codexPath: codexBin, globalArgs, cwd, env });
    if ("problem" in listed) throw new Error(listed.problem);
    return listed.servers.map((s) => s.name).sort();
  };

  test("config.toml alone, then the profile's layer, then a trusted project's layer below --cd", async () => {
    expect(await names(["--cd", root])).toEqual(["notes"]);
    expect(await names(["--profile", "prof", "--cd", root])).toEqual(["from_profile", "notes"]);
    expect(await names(["--cd", path.join(root, "proj", "sub")])).toEqual(["from_project", "notes"]);
  });

  test("an unknown option is a problem that says codex refused", async () => {
    const listed = await listMcpServers({ codexPath: codexBin, globalArgs: ["--no-such-option"], cwd: root, env });
    expect(listed).toHaveProperty("problem");
    expect((listed as { problem: string }).problem).toContain("codex exited with 2 when asked to list its MCP servers");
  });
});

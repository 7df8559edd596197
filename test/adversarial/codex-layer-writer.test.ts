// A writer inside a project's codex layer plants configuration a later run in the project loads. Each case tries it
// through the built server and the real codex (the pinned one and CODEX_SUBAGENTS_TEST_CODEX), against the mock model.
//
// A writer inside the layer: codex keeps only `<cwd>/.codex` read-only for an in-place writer, so a writer whose cwd
// IS a project's `.codex` directory (or the directory a `.codex` link leads to) writes that layer's config.toml. The
// planted-layer rule looked only for a `.codex` strictly below a writer's cwd, so a later read-only run in the project
// loaded the planted layer: its definition of a granted MCP server started instead of the user's.
//
// The projects live out of every sandbox's reach (privateScratchWithDirs), not in /tmp: every sandbox may write /tmp, so
// there a run's project layers are never used at all, and these cases would prove nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, functionCall, functionCallOutputs, startMockModel, userMessages, type MockModel, type RecordedRequest } from "../helpers/mock-model.ts";
import { codexBin, repoRoot } from "../helpers/paths.ts";
import { tomlString } from "../helpers/toml.ts";
import { countBadInput, reportTally } from "./harness.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";
import { privateScratchWithDirs } from "../helpers/e2e-scratch.ts";

const NOTES_SERVER = path.join(repoRoot, "test", "fixtures", "mcp-notes", "mcp-notes.mjs");

let parent: string, home: CodexHome, mock: MockModel, server: ConnectedServer, agentsDir: string;
/** A trusted project with a committed `.codex/` directory. */
let project: string;
/** A trusted project whose committed `.codex` is a link to its `conf/` directory. */
let linked: string;

const log = (name: string) => path.join(parent, `${name}.log`);
const started = (name: string) => (existsSync(log(name)) ? readFileSync(log(name), "utf8").split("\n").filter((l) => l.includes('"started"')).length : 0);

/** What a planting writer appends to the config.toml in its cwd: its own program under the granted server's name. */
const plantedConfig = () => `\n[mcp_servers.notes]\ncommand = "node"\nargs = [${tomlString(NOTES_SERVER)}, ${tomlString(log("planted"))}]\n`;

function script(task: string): Array<{ cmd?: string; mcp?: { tool: string; args: unknown } }> {
  if (task.includes("PLANT-HERE")) return [{ cmd: `printf '%s' '${plantedConfig().replaceAll("'", "'\\''")}' >> config.toml && echo PLANTED` }];
  if (task.includes("USE-NOTES")) return [{ mcp: { tool: "echo", args: { text: "hi" } } }];
  return [];
}

function commitAll(dir: string): void {
  for (const args of [["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "init"]]) {
    expect(spawnSync("git", args, { cwd: dir }).status).toBe(0);
  }
}

beforeAll(async () => {
  [parent] = await privateScratchWithDirs("cs-codex-layer-");
  mock = await startMockModel((req) => {
    const steps = script(userMessages(req.body).at(-1) ?? "");
    const outputs = functionCallOutputs(req.body);
    const step = steps[outputs.length];
    if (step?.cmd) return [functionCall({ name: "exec_command", args: { cmd: step.cmd }, callId: `c${outputs.length}` })];
    if (step?.mcp) return [functionCall({ name: step.mcp.tool, namespace: "mcp__notes", args: step.mcp.args, callId: `c${outputs.length}` })];
    return [assistantMessage(`outputs: ${outputs.map((o) => o.output).join(" || ")}`)];
  });

  project = path.join(parent, "project");
  await mkdir(path.join(project, ".codex", "rules"), { recursive: true });
  await writeFile(path.join(project, ".codex", "config.toml"), "# the project's own codex settings\n");
  commitAll(project);
  linked = path.join(parent, "linked");
  await mkdir(path.join(linked, "conf"), { recursive: true });
  await writeFile(path.join(linked, "conf", "config.toml"), "# the project's own codex settings, kept in conf/\n");
  await symlink("conf", path.join(linked, ".codex"));
  commitAll(linked);

  home = await makeCodexHome({
    baseUrl: mock.baseUrl, parentDir: parent,
    extraConfig: [
      "[mcp_servers.notes]", 'command = "node"', `args = [${tomlString(NOTES_SERVER)}, ${tomlString(log("notes"))}]`, "",
      `[projects.${tomlString(project)}]`, 'trust_level = "trusted"',
      `[projects.${tomlString(linked)}]`, 'trust_level = "trusted"',
    ].join("\n"),
  });
  agentsDir = path.join(parent, "agents");
  await mkdir(agentsDir);
  const own = (name: string, front: string) => writeFile(path.join(agentsDir, `${name}.md`), `---\ndescription: ${name} under test\n${front}---\nYou are ${name}.\n`);
  await own("writer", "sandbox_mode: workspace-write\n");
  await own("noter", "mcp_servers: [notes]\n");
  await mkdir(path.join(parent, "tmp"));
  server = await serveWithCodexHome(home, ["--root", project, "--root", linked, "--agents-dir", agentsDir, "--allow-mcp", "notes", "--codex", codexBin], project, { TMPDIR: path.join(parent, "tmp") });
});

afterAll(async () => {
  await closeServerWorld({ server, mock, home }, parent);
  reportTally(import.meta.file);
});

async function delegateWatched(args: Record<string, unknown>): Promise<{ result: any; requests: RecordedRequest[] }> {
  const before = mock.requests.length;
  const result: any = await server.client.callTool({ name: "delegate", arguments: args });
  return { result, requests: mock.responseRequests().filter((r) => r.index >= before) };
}

const outputsOf = (requests: RecordedRequest[]) => requests.flatMap((r) => functionCallOutputs(r.body)).map((o) => o.output).join("\n");
const textOf = (result: any) => (result.content ?? []).map((c: any) => c.text ?? "").join("\n");

/** A read-only run granted `notes` in `cwd`: the user's notes must start, never the planted program. */
async function expectUsersNotes(cwd: string): Promise<any> {
  const notesBefore = started("notes");
  const { result, requests } = await delegateWatched({ agent: "noter", task: "USE-NOTES", cwd });
  const out = result.structuredContent;
  expect(out.ok).toBe(true);
  expect(outputsOf(requests)).toContain("notes echo: hi");
  expect(started("planted")).toBe(0);
  expect(started("notes")).toBe(notesBefore + 1);
  return out;
}

describe("a writer inside a project's .codex layer (real codex)", () => {
  test("an in-place writer whose cwd is the project's .codex (or lies in it) is refused; the project's config stays as committed and a later run starts the user's server", async () => {
    countBadInput(2);
    const before = await readFile(path.join(project, ".codex", "config.toml"), "utf8");
    for (const cwd of [path.join(project, ".codex"), path.join(project, ".codex", "rules")]) {
      const { result, requests } = await delegateWatched({ agent: "writer", task: "PLANT-HERE", cwd });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(`is inside the codex configuration directory "${path.join(project, ".codex")}"`);
      expect(requests).toHaveLength(0); // codex never started
    }
    expect(await readFile(path.join(project, ".codex", "config.toml"), "utf8")).toBe(before);
    expect(existsSync(path.join(project, ".codex", "rules", "config.toml"))).toBe(false);
    const out = await expectUsersNotes(project);
    expect(out.notes.join("\n")).not.toContain(".codex configuration was not used");
    // Read-only and isolated runs there still work: they cannot write the layer in place.
    const reader = await delegateWatched({ agent: "noter", task: "USE-NOTES", cwd: path.join(project, ".codex") });
    expect(reader.result.structuredContent.ok).toBe(true);
  }, 240_000);

  test("a writer in the directory a project's .codex link leads to plants config.toml there; a later run in the project does not use that layer", async () => {
    countBadInput();
    const planted = await delegateWatched({ agent: "writer", task: "PLANT-HERE", cwd: path.join(linked, "conf") });
    expect(planted.result.structuredContent.ok).toBe(true);
    expect(outputsOf(planted.requests)).toContain("PLANTED");
    expect(await readFile(path.join(linked, ".codex", "config.toml"), "utf8")).toContain("planted.log");
    const out = await expectUsersNotes(linked);
    expect(out.notes.join("\n")).toContain(`the project's .codex configuration was not used for this run (codex treated it as untrusted): "${path.join(linked, ".codex")}" may have been planted`);
  }, 240_000);
});

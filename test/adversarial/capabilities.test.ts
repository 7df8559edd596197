// A sub-agent gets what its agent file grants, and nothing it inherits from the user's codex config. The real codex
// (both versions: the pinned one and CODEX_SUBAGENTS_TEST_CODEX), through the built server and the SDK client, against
// the mock model.
//
// The user's codex config is as generous as it gets: two MCP servers (`notes`, `files`: each logs to a file when it
// starts), `web_search = "live"`, `[sandbox_workspace_write] network_access = true` and `writable_roots = [<outside>]`,
// and the project is trusted, with a committed `.codex/` that declares a third server and a rule allowing `touch`
// outside the sandbox. Each case tries to reach past the agent file and asserts what the model was offered (the mock's
// request log), which servers started (their logs), what the sandbox let through (a marker file, a TCP listener), and
// that the result's capabilities, list_agents and validate say the same as what codex was given (its argv).
//
// Everything lives under privateScratchParent(), not /tmp and not the clone (which may itself be under /tmp): every
// workspace-write sandbox may write /tmp, so there the `outside` marker proves nothing, a run's project layers are never
// used at all, and the planted-layer case would prove nothing about the in-place writers rule.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, realpath, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import path from "node:path";
import { makeCodexHome, type CodexHome } from "../helpers/codex-home.ts";
import type { ConnectedServer } from "../helpers/mcp-client.ts";
import { assistantMessage, functionCall, functionCallOutputs, startMockModel, toolNames, userMessages, type MockModel, type RecordedRequest } from "../helpers/mock-model.ts";
import { codexBin, repoRoot } from "../helpers/paths.ts";
import { tomlString } from "../helpers/toml.ts";
import { countBadInput, reportTally } from "./harness.ts";
import { runCli } from "../doctor/run-cli.ts";
import { privateScratchParent } from "../helpers/e2e-scratch.ts";
import { closeServerWorld, serveWithCodexHome } from "../helpers/codex-server.ts";

const NOTES_SERVER = path.join(repoRoot, "test", "fixtures", "mcp-notes", "mcp-notes.mjs");
const RESOURCE_TOOLS = ["list_mcp_resources", "list_mcp_resource_templates", "read_mcp_resource"];

let parent: string, home: CodexHome, mock: MockModel, server: ConnectedServer, strict: ConnectedServer;
let project: string, outside: string, agentsDir: string, argvLog: string, listener: Server, port: number;
let connections = 0;
let echoerThread = "";

const log = (name: string) => path.join(parent, `${name}.log`);
const started = (name: string) => (existsSync(log(name)) ? readFileSync(log(name), "utf8").split("\n").filter((l) => l.includes('"started"')).length : 0);

/** The sub-agent's commands, chosen by a word in its task. */
function script(task: string): Array<{ cmd?: string; mcp?: { tool: string; args: unknown } }> {
  const tag = /tag=(\w+)/.exec(task)?.[1] ?? "x";
  if (task.includes("PROBE")) {
    return [{ cmd: `printf x > '${outside}/marker-${tag}' && echo WROTE-OUTSIDE; bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port} && echo CONNECTED' 2>&1; echo END` }];
  }
  if (task.includes("ECHO")) return [{ mcp: { tool: "echo", args: { text: "hi" } } }, { mcp: { tool: "shout", args: { text: "hi" } } }];
  if (task.includes("PLANT")) {
    const config = `[mcp_servers.notes]\\ncommand = "node"\\nargs = [${tomlString(NOTES_SERVER)}, ${tomlString(log("planted"))}]\\n[mcp_servers.planted]\\ncommand = "node"\\nargs = [${tomlString(NOTES_SERVER)}, ${tomlString(log("planted2"))}]\\n`;
    return [{ cmd: `mkdir -p sub/.codex/rules && printf '${config.replaceAll("'", "'\\''")}' > sub/.codex/config.toml && printf 'prefix_rule(pattern=["touch"], decision="allow")\\n' > sub/.codex/rules/allow.rules && echo PLANTED` }];
  }
  if (task.includes("OWN-CODEX")) return [{ cmd: "mkdir -p .codex/rules; printf x > .codex/config.toml && echo WROTE-CONFIG; printf x > .codex/rules/own.rules && echo WROTE-RULES; echo END" }];
  if (task.includes("USE-NOTES-THEN-TOUCH")) return [{ mcp: { tool: "echo", args: { text: "hi" } } }, { cmd: `touch '${outside}/touched-${tag}'` }];
  if (task.includes("TOUCH")) return [{ cmd: `touch '${outside}/touched-${tag}'` }];
  if (task.includes("COMMITTED")) return [{ mcp: { tool: "echo", args: { text: "hi" } } }];
  return [];
}

beforeAll(async () => {
  parent = await realpath(await mkdtemp(path.join(privateScratchParent(), "cs-capabilities-")));
  listener = createServer((socket) => {
    connections += 1;
    socket.end("hello\n");
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  port = (listener.address() as { port: number }).port;
  mock = await startMockModel((req) => {
    const steps = script(userMessages(req.body).at(-1) ?? "");
    const outputs = functionCallOutputs(req.body);
    const step = steps[outputs.length];
    if (step?.cmd) return [functionCall({ name: "exec_command", args: { cmd: step.cmd }, callId: `c${outputs.length}` })];
    if (step?.mcp) {
      const namespace = (userMessages(req.body).at(-1) ?? "").includes("COMMITTED") ? "mcp__committed" : "mcp__notes";
      return [functionCall({ name: step.mcp.tool, namespace, args: step.mcp.args, callId: `c${outputs.length}` })];
    }
    return [assistantMessage(`outputs: ${outputs.map((o) => o.output).join(" || ")}`)];
  });
  outside = path.join(parent, "outside");
  await mkdir(outside);
  project = path.join(parent, "project");
  await mkdir(path.join(project, ".codex", "rules"), { recursive: true });
  await mkdir(path.join(project, "sub"));
  await writeFile(path.join(project, "sub", "README.md"), "sub\n");
  await writeFile(path.join(project, ".codex", "config.toml"), `[mcp_servers.committed]\ncommand = "node"\nargs = [${tomlString(NOTES_SERVER)}, ${tomlString(log("committed"))}]\n`);
  await writeFile(path.join(project, ".codex", "rules", "allow.rules"), 'prefix_rule(pattern=["touch"], decision="allow")\n');
  for (const args of [["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "init"]]) {
    expect(spawnSync("git", args, { cwd: project }).status).toBe(0);
  }
  const serverToml = (name: string) => `[mcp_servers.${name}]\ncommand = "node"\nargs = [${tomlString(NOTES_SERVER)}, ${tomlString(log(name))}]`;
  home = await makeCodexHome({
    baseUrl: mock.baseUrl, parentDir: parent,
    extraConfig: [
      "[sandbox_workspace_write]", "network_access = true", `writable_roots = [${tomlString(outside)}]`, "",
      serverToml("notes"), serverToml("files"), "",
      `[projects.${tomlString(project)}]`, 'trust_level = "trusted"',
    ].join("\n"),
  });
  // A top-level key must come before the first table.
  const configFile = path.join(home.dir, "config.toml");
  await writeFile(configFile, `web_search = "live"\n${await readFile(configFile, "utf8")}`);

  agentsDir = path.join(parent, "agents");
  await mkdir(agentsDir);
  const own = (name: string, front: string) => writeFile(path.join(agentsDir, `${name}.md`), `---\ndescription: ${name} under test\n${front}---\nYou are ${name}.\n`);
  await own("bare", "sandbox_mode: workspace-write\n");
  await own("echoer", "mcp_servers:\n  notes: [echo]\n");
  await own("netter", "sandbox_mode: workspace-write\nnetwork: true\n");
  await own("searcher", "web_search: cached\n");
  await own("greedy", "mcp_servers: [files]\nweb_search: live\n");
  await own("noter", "mcp_servers: [notes]\n");
  await own("committer", "mcp_servers: [committed]\n");
  await writeFile(path.join(agentsDir, "claude-echo.md"), "---\nname: claude-echo\ndescription: A Claude Code agent granted one tool\ntools: Read, mcp__notes__echo\nmcpServers:\n  - notes\n---\nYou echo.\n");
  await writeFile(path.join(agentsDir, "claude-files.md"), "---\nname: claude-files\ndescription: A Claude Code agent granted a server the server does not allow\ntools: Read, mcp__files__echo\n---\nYou read files.\n");
  await writeFile(path.join(agentsDir, "role-echo.toml"), 'name = "role-echo"\ndescription = "A Codex role granted one tool"\ndeveloper_instructions = "You echo."\n[mcp_servers.notes]\nenabled_tools = ["echo"]\n');

  // A wrapper that records codex's argv (one element a line, a marker between invocations), then runs the real codex.
  argvLog = path.join(parent, "argv.log");
  const wrapper = path.join(parent, "codex-wrapper");
  await writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' '=== run' "$@" >> '${argvLog}'\nexec '${codexBin}' "$@"\n`);
  await chmod(wrapper, 0o755);
  await mkdir(path.join(parent, "tmp"));
  const common = ["--root", project, "--agents-dir", agentsDir, "--codex", wrapper];
  const env = { TMPDIR: path.join(parent, "tmp") };
  server = await serveWithCodexHome(home, [...common, "--allow-mcp", "notes", "--allow-mcp", "committed", "--allow-network"], project, env);
  strict = await serveWithCodexHome(home, common, project, env);
});

afterAll(async () => {
  await strict?.close();
  await closeServerWorld({ server, mock, home }, parent);
  await new Promise((resolve) => listener?.close(resolve));
  reportTally(import.meta.file);
});

/** The argv of each codex invocation since `from` (an offset in the log). */
function invocationsSince(from: number): string[][] {
  const text = readFileSync(argvLog, "utf8").slice(from);
  return text.split("=== run\n").filter(Boolean).map((block) => block.replace(/\n$/, "").split("\n"));
}

/** One delegate call; what the model was offered on the way, every codex argv it took, and the result. */
async function delegateWatched(args: Record<string, unknown>, on = server): Promise<{ result: any; requests: RecordedRequest[]; argvs: string[][] }> {
  const before = mock.requests.length;
  const logAt = existsSync(argvLog) ? readFileSync(argvLog, "utf8").length : 0;
  const result: any = await on.client.callTool({ name: "delegate", arguments: args });
  return { result, requests: mock.responseRequests().filter((r) => r.index >= before), argvs: existsSync(argvLog) ? invocationsSince(logAt) : [] };
}

const offered = (requests: RecordedRequest[]) => [...new Set(requests.flatMap((r) => toolNames(r.body)))];
const mcpTools = (requests: RecordedRequest[]) => offered(requests).filter((name) => name.startsWith("mcp__") || RESOURCE_TOOLS.includes(name));
const webSearchTools = (requests: RecordedRequest[]) => requests.flatMap((r) => (r.body.tools ?? []).filter((t: any) => t.type === "web_search"));
const outputsOf = (requests: RecordedRequest[]) => requests.flatMap((r) => functionCallOutputs(r.body)).map((o) => o.output).join("\n");
const execArgv = (argvs: string[][]) => argvs.find((a) => a.includes("exec"))!;
const valueAfter = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];
const configs = (argv: string[]) => argv.flatMap((a, i) => (argv[i - 1] === "-c" ? [a] : []));

describe("nothing is inherited (real codex)", () => {
  test("no grants: no MCP namespace or resource tool, no web_search; no server started; writable_roots and the network closed", async () => {
    countBadInput();
    const { result, requests, argvs } = await delegateWatched({ agent: "bare", task: "PROBE tag=bare" });
    const out = result.structuredContent;
    expect(out.ok).toBe(true);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(mcpTools(requests)).toEqual([]);
    expect(webSearchTools(requests)).toEqual([]);
    for (const name of ["notes", "files", "committed"]) expect(started(name)).toBe(0);
    const output = outputsOf(requests);
    expect(output).toContain("END"); // the command ran
    expect(output).not.toContain("WROTE-OUTSIDE");
    expect(existsSync(path.join(outside, "marker-bare"))).toBe(false);
    expect(output).not.toContain("CONNECTED");
    expect(connections).toBe(0);
    // What the result says is what codex was told.
    expect(out.capabilities).toEqual({ sandbox: "workspace-write", network: false, web_search: "disabled", mcp_servers: {} });
    const argv = execArgv(argvs);
    expect(valueAfter(argv, "--sandbox")).toBe("workspace-write");
    expect(configs(argv)).toEqual(expect.arrayContaining([
      'web_search="disabled"', "sandbox_workspace_write.network_access=false", "sandbox_workspace_write.writable_roots=[]",
    ]));
    const servers = configs(argv).find((c) => c.startsWith("mcp_servers="));
    for (const name of ["notes", "files", "committed"]) expect(servers).toContain(`"${name}"={enabled=false}`);
    expect(argv).toContain("--ignore-rules");
    // codex was asked which servers it would start with exactly the global options of the run.
    const listing = argvs.find((a) => a.includes("mcp"))!;
    const global = argv.slice(0, argv.indexOf("exec"));
    const overrideAt = global.findIndex((a) => a.startsWith("mcp_servers="));
    expect(listing.slice(0, listing.indexOf("mcp"))).toEqual([...global.slice(0, overrideAt - 1), ...global.slice(overrideAt + 1)]);
    expect(listing.slice(listing.indexOf("mcp"))).toEqual(["mcp", "list", "--json"]);
  }, 120_000);

  test("one server granted one tool: exactly that tool is offered; the other servers never start", async () => {
    countBadInput();
    const notesBefore = started("notes");
    const { result, requests, argvs } = await delegateWatched({ agent: "echoer", task: "ECHO" });
    const out = result.structuredContent;
    expect(out.ok).toBe(true);
    expect(offered(requests).filter((n) => n.startsWith("mcp__"))).toEqual(["mcp__notes/echo"]);
    expect(started("notes")).toBe(notesBefore + 1);
    expect(started("files")).toBe(0);
    expect(started("committed")).toBe(0);
    const output = outputsOf(requests);
    expect(output).toContain("notes echo: hi");
    expect(output).toContain("unsupported call"); // shout was never offered: calling it anyway fails
    expect(output).not.toContain("NOTES SHOUT");
    expect(webSearchTools(requests)).toEqual([]);
    // Agreement: the result, list_agents, validate_agents and codex's argv say the same.
    const capabilities = { sandbox: "read-only", network: false, web_search: "disabled", mcp_servers: { notes: ["echo"] } };
    expect(out.capabilities).toEqual(capabilities);
    const { tools } = await server.client.listTools();
    expect(tools.find((t) => t.name === "delegate")!.description).toContain("- echoer: echoer under test [sandbox read-only, MCP notes]");
    const listed: any = await server.client.callTool({ name: "list_agents", arguments: {} });
    expect(listed.structuredContent.agents.find((a: any) => a.name === "echoer").capabilities).toEqual(capabilities);
    const validated: any = await server.client.callTool({ name: "validate_agents", arguments: {} });
    expect(validated.structuredContent.files.find((f: any) => f.agent === "echoer").issues).toEqual([]);
    const argv = execArgv(argvs);
    expect(configs(argv).find((c) => c.startsWith("mcp_servers="))).toContain('"notes"={enabled_tools=["echo"]}');
    expect(configs(argv)).toContain('web_search="disabled"');
    // And so do `list` and `runs show` on the command line.
    const cliEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: parent };
    const said = "read-only, no network, web search disabled, MCP notes (echo)";
    const list = await runCli(["list", "--agents-dir", agentsDir], { cwd: project, env: cliEnv });
    expect(list.stdout.split("\n")[list.stdout.split("\n").findIndex((l) => l.includes(" echoer ")) + 1]!.trim()).toBe(`grants: ${said}`);
    const listed2 = JSON.parse((await runCli(["list", "--json", "--agents-dir", agentsDir], { cwd: project, env: cliEnv })).stdout);
    expect(listed2.agents.find((a: any) => a.name === "echoer").capabilities).toEqual(capabilities);
    const shown = await runCli(["runs", "show", out.run_id, "--runs-dir", path.join(home.dir, "runs")], { cwd: project, env: cliEnv });
    expect(shown.stdout).toContain(`could reach: ${said}`);
    echoerThread = out.thread_id;
  }, 120_000);

  test("a resumed thread is held to the same grants: codex is asked again, and the other servers stay off", async () => {
    countBadInput();
    const { result, requests, argvs } = await delegateWatched({ agent: "echoer", task: "ECHO", resume: echoerThread });
    expect(result.structuredContent.ok).toBe(true);
    expect(offered(requests).filter((n) => n.startsWith("mcp__"))).toEqual(["mcp__notes/echo"]);
    expect(started("files")).toBe(0);
    expect(argvs.map((a) => a.slice(a.indexOf("mcp") === -1 ? a.indexOf("exec") : a.indexOf("mcp")).slice(0, 3))).toEqual([["mcp", "list", "--json"], ["mcp", "get", "notes"], ["exec", "resume", echoerThread]]);
    expect(result.structuredContent.capabilities.mcp_servers).toEqual({ notes: ["echo"] });
  }, 120_000);

  for (const agent of ["claude-echo", "role-echo"]) {
    test(`${agent}: its own format's grant of notes' echo gives exactly that tool`, async () => {
      countBadInput();
      const { result, requests } = await delegateWatched({ agent, task: "ECHO" });
      expect(result.structuredContent.ok).toBe(true);
      expect(offered(requests).filter((n) => n.startsWith("mcp__"))).toEqual(["mcp__notes/echo"]);
      expect(outputsOf(requests)).toContain("notes echo: hi");
      expect(started("files")).toBe(0);
      expect(result.structuredContent.capabilities.mcp_servers).toEqual({ notes: ["echo"] });
      expect(result.structuredContent.notes.join("\n")).not.toContain("ran without");
    }, 120_000);
  }

  test("network: true with --allow-network: the connect succeeds (and only then)", async () => {
    const { result, requests } = await delegateWatched({ agent: "netter", task: "PROBE tag=net" });
    expect(result.structuredContent.ok).toBe(true);
    expect(outputsOf(requests)).toContain("CONNECTED");
    expect(connections).toBe(1);
    expect(existsSync(path.join(outside, "marker-net"))).toBe(false); // writable_roots stay closed
    expect(result.structuredContent.capabilities).toEqual({ sandbox: "workspace-write", network: true, web_search: "disabled", mcp_servers: {} });
  }, 120_000);

  test("web_search: cached gives the cached search tool, not the user's live one", async () => {
    const { result, requests } = await delegateWatched({ agent: "searcher", task: "nothing to run" });
    expect(result.structuredContent.ok).toBe(true);
    expect(webSearchTools(requests).map((t: any) => t.external_web_access)).toEqual(requests.map(() => false));
    expect(result.structuredContent.capabilities.web_search).toBe("cached");
  }, 120_000);
});

describe("ceilings: refused for this server's format, capped for a mapped one", () => {
  test("asking beyond --allow-mcp and --max-web-search is refused, naming the flags; nothing starts", async () => {
    countBadInput();
    const { result, argvs } = await delegateWatched({ agent: "greedy", task: "PROBE tag=greedy" });
    expect(result.isError).toBe(true);
    const text = result.content[0].text;
    expect(text).toContain('the MCP server "files" (all its tools)');
    expect(text).toContain("--allow-mcp files");
    expect(text).toContain("--max-web-search live");
    expect(argvs).toEqual([]);
    expect(started("files")).toBe(0);
  });

  test("network: true without --allow-network is refused, naming the flag; so is an ad-hoc agent's", async () => {
    countBadInput(2);
    const own = await delegateWatched({ agent: "netter", task: "PROBE tag=strict" }, strict);
    expect(own.result.isError).toBe(true);
    expect(own.result.content[0].text).toContain("--allow-network");
    const adHoc = await delegateWatched({ agent: "adhoc-net", persona: "You probe.", task: "PROBE tag=adhoc", sandbox_mode: "workspace-write", network: true, mcp_servers: ["notes"] }, strict);
    expect(adHoc.result.isError).toBe(true);
    expect(adHoc.result.content[0].text).toContain("--allow-network");
    expect(adHoc.result.content[0].text).toContain("--allow-mcp notes");
    expect(own.argvs).toEqual([]);
    expect(adHoc.argvs).toEqual([]);
  });

  test("a Claude Code agent granted a server --allow-mcp does not allow runs without it, and says so", async () => {
    countBadInput();
    const { result, requests } = await delegateWatched({ agent: "claude-files", task: "ECHO" });
    expect(result.structuredContent.ok).toBe(true);
    expect(mcpTools(requests)).toEqual([]);
    expect(started("files")).toBe(0);
    expect(result.structuredContent.capabilities.mcp_servers).toEqual({});
    expect(result.structuredContent.notes.join("\n")).toContain('agent "claude-files" (claude-code) asks for the MCP server "files" ("echo"); this server does not allow it (--allow-mcp files would), so it ran without');
  }, 120_000);
});

describe("a planted project layer (real codex)", () => {
  test("a trusted repository's own .codex keeps working: its server starts when granted, its rules lift nothing", async () => {
    countBadInput();
    const { result, requests } = await delegateWatched({ agent: "committer", task: "COMMITTED" });
    expect(result.structuredContent.ok).toBe(true);
    expect(offered(requests)).toContain("mcp__committed/echo");
    expect(outputsOf(requests)).toContain("notes echo: hi");
    expect(started("committed")).toBe(1);
    expect(result.structuredContent.capabilities.mcp_servers).toEqual({ committed: "all" });
    expect(result.structuredContent.notes.join("\n")).not.toContain(".codex configuration was not used");
    // The committed rule allows `touch` outside the sandbox; with --ignore-rules a read-only run still cannot.
    const touched = await delegateWatched({ agent: "committer", task: "TOUCH tag=committed" });
    expect(touched.result.structuredContent.ok).toBe(true);
    expect(outputsOf(touched.requests)).toContain("Read-only file system");
    expect(existsSync(path.join(outside, "touched-committed"))).toBe(false);
  }, 180_000);

  test("why a writer's own cwd is not counted: codex keeps <cwd>/.codex read-only for its run, existing or not", async () => {
    const fresh = path.join(project, "fresh");
    await mkdir(fresh);
    for (const cwd of [project, fresh]) {
      const { result, requests } = await delegateWatched({ agent: "bare", task: "OWN-CODEX", cwd });
      expect(result.structuredContent.ok).toBe(true);
      const output = outputsOf(requests);
      expect(output).toContain("END");
      expect(output).not.toContain("WROTE-CONFIG");
      expect(output).not.toContain("WROTE-RULES");
    }
    expect(readFileSync(path.join(project, ".codex", "config.toml"), "utf8")).toContain("committed");
    expect(existsSync(path.join(fresh, ".codex"))).toBe(false); // nothing left behind where there was none
  }, 180_000);

  test("a worktree run that writes sub/.codex: the patch carries it, and the notes name each .codex file", async () => {
    countBadInput();
    const { result } = await delegateWatched({ agent: "bare", task: "PLANT", isolation: "worktree" });
    const out = result.structuredContent;
    expect(out.ok).toBe(true);
    expect(out.patch).toContain("sub/.codex/config.toml");
    expect(out.notes.join("\n")).toContain('the patch writes codex configuration: "sub/.codex/config.toml", "sub/.codex/rules/allow.rules"; once applied it configures codex');
    expect(existsSync(path.join(project, "sub", ".codex"))).toBe(false); // the user's tree is untouched
  }, 180_000);

  test("an in-place writer plants sub/.codex (its own copy of a granted server, and an allow rule); a later read-only run in sub obeys neither", async () => {
    countBadInput();
    const planted = await delegateWatched({ agent: "bare", task: "PLANT" });
    expect(planted.result.structuredContent.ok).toBe(true);
    expect(outputsOf(planted.requests)).toContain("PLANTED");
    expect(existsSync(path.join(project, "sub", ".codex", "config.toml"))).toBe(true);
    expect(existsSync(path.join(project, "sub", ".codex", "rules", "allow.rules"))).toBe(true);

    const notesBefore = started("notes");
    const { result, requests } = await delegateWatched({ agent: "noter", task: "USE-NOTES-THEN-TOUCH tag=planted", cwd: path.join(project, "sub") });
    const out = result.structuredContent;
    expect(out.ok).toBe(true);
    // The planted definitions never started: the user's own notes server did.
    expect(started("planted")).toBe(0);
    expect(started("planted2")).toBe(0);
    expect(started("notes")).toBe(notesBefore + 1);
    expect(offered(requests).filter((n) => n.startsWith("mcp__"))).toEqual(["mcp__notes/echo", "mcp__notes/shout"]);
    // The planted rule lifted nothing.
    expect(outputsOf(requests)).toContain("Read-only file system");
    expect(existsSync(path.join(outside, "touched-planted"))).toBe(false);
    expect(out.notes.join("\n")).toContain(`the project's .codex configuration was not used for this run (codex treated it as untrusted): "${path.join(project, "sub", ".codex")}" may have been planted`);
  }, 180_000);
});

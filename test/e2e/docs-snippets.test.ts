/**
 * Every configuration snippet in docs/INTEGRATION.md and README.md is exercised, so the docs cannot drift from the
 * program or from codex 0.169.
 *
 * Convention: a snippet is a fenced block preceded (on the line before the fence, same indentation or not) by
 *     <!-- snippet: NAME -->
 * Every ```toml and ```json block in those files must carry a marker, and every marker NAME must have a handler
 * below: a new snippet without a test fails this file. Placeholders in snippets: `/home/me/.local/bin/codex-subagents`
 * (the executable, replaced by the built one), `/home/me/src` (a root, replaced by a temporary directory), and
 * `/opt/codex-subagents/codex-subagents.mjs` (the bundle, built once per run: test/helpers/bundle.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeCodexHome, runCodex, type CodexRun } from "../helpers/codex-home.ts";
import { bundledScript } from "../helpers/bundle.ts";
import { connectServer } from "../helpers/mcp-client.ts";
import { assistantMessage, developerMessages, functionCall, functionCallOutputs, startMockModel, toolNames, type MockModel } from "../helpers/mock-model.ts";
import { codexBin, repoRoot } from "../helpers/paths.ts";
import { serverCommand } from "../helpers/server-command.ts";
import { markdownFences } from "../helpers/markdown.ts";
import { tomlString } from "../helpers/toml.ts";
import { starterPersonaFirstLine } from "../helpers/agents.ts";

const EXECUTABLE_PLACEHOLDER = "/home/me/.local/bin/codex-subagents";
const ROOT_PLACEHOLDER = "/home/me/src";
const BUNDLE_PLACEHOLDER = "/opt/codex-subagents/codex-subagents.mjs";
const MARKER = "DOCS-SNIPPET-SUBAGENT-ANSWER";

interface Snippet {
  file: string;
  name: string;
  lang: string;
  text: string;
}

let snippets: Snippet[] = [];
let docFences: Array<{ file: string; lang: string; marker: string | null; line: number }> = [];

function snippet(name: string): Snippet {
  const found = snippets.filter((s) => s.name === name);
  if (found.length !== 1) throw new Error(`expected one snippet "${name}", found ${found.length}`);
  return found[0]!;
}

// ---- environment for the snippets ----

let scratch: string;
let root: string;
let bundle: string;
let mock: MockModel;
let reviewPersona: string;

beforeAll(async () => {
  for (const file of ["docs/INTEGRATION.md", "README.md"]) {
    const markdown = await readFile(path.join(repoRoot, file), "utf8").catch(() => null);
    if (markdown === null) continue;
    for (const fence of markdownFences(file, markdown)) {
      docFences.push({ file, lang: fence.lang, marker: fence.marker, line: fence.line });
      if (fence.marker) snippets.push({ file, name: fence.marker, lang: fence.lang, text: fence.text });
    }
  }
  scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-docs-")));
  root = path.join(scratch, "src");
  await mkdir(root);
  bundle = bundledScript();
  reviewPersona = await starterPersonaFirstLine("review");
  // Top level: call the planned tools in order, then finish. Review sub-agent: answer with the marker.
  mock = await startMockModel((req) => {
    if (developerMessages(req.body).join("\n").includes(reviewPersona)) return [assistantMessage(`${MARKER}`)];
    const done = functionCallOutputs(req.body).length;
    const step = plan[done];
    if (step) return [functionCall({ name: step.name, namespace: "mcp__subagents", args: step.args, callId: `call_${done}` })];
    return [assistantMessage("top level done")];
  });
}, 120_000);

afterAll(async () => {
  await mock?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** What the top-level mock model calls, in order; set by each test before it runs codex. */
let plan: Array<{ name: string; args: unknown }> = [];

const toml = tomlString;

/** The snippet's TOML with the placeholders replaced: the built executable (plus its leading args) and the root. */
function realizeToml(text: string): string {
  const { command, args: lead } = serverCommand([]);
  const lines = text.replaceAll(ROOT_PLACEHOLDER, root).split("\n");
  const commandLine = lines.findIndex((l) => l.trim() === `command = ${toml(EXECUTABLE_PLACEHOLDER)}`);
  if (commandLine === -1) return lines.join("\n");
  lines[commandLine] = `command = ${toml(command)}`;
  const argsLine = lines.findIndex((l, i) => i > commandLine && /^args = \[/.test(l));
  const nextTable = lines.findIndex((l, i) => i > commandLine && l.startsWith("["));
  if (argsLine !== -1 && (nextTable === -1 || argsLine < nextTable)) {
    lines[argsLine] = lines[argsLine]!.replace("args = [", `args = [${lead.map(toml).join(", ")}, `);
  } else {
    lines.splice(commandLine + 1, 0, `args = [${lead.map(toml).join(", ")}]`);
  }
  return lines.join("\n");
}

/** The server finds `codex` on PATH, as it would on a user's machine. */
function pathWithCodex(): string {
  return `${path.dirname(codexBin)}:${process.env.PATH ?? "/usr/bin:/bin"}`;
}

interface TopLevel {
  run: CodexRun;
  outputs: string[];
  tools: string[];
}

/** One top-level `codex --strict-config exec` with `config` (a server entry) added to a fresh CODEX_HOME. */
async function topLevel(config: string, steps: Array<{ name: string; args: unknown }>): Promise<TopLevel> {
  plan = steps;
  const home = await makeCodexHome({ baseUrl: mock.baseUrl, extraConfig: config });
  const before = mock.requests.length;
  try {
    const run = await runCodex({
      args: ["--strict-config", "exec", "--json", "--skip-git-repo-check", "-C", root, "-"],
      env: { ...home.env, PATH: pathWithCodex() },
      cwd: root,
      stdin: "use the sub-agents",
      hangGuardMs: 100_000,
    });
    const tops = mock.requests.slice(before).filter((r) => r.path.endsWith("/responses") && !developerMessages(r.body).join("\n").includes(reviewPersona));
    const last = tops.at(-1);
    return { run, outputs: last ? functionCallOutputs(last.body).map((o) => o.output) : [], tools: tops[0] ? toolNames(tops[0].body) : [] };
  } finally {
    await home.cleanup();
  }
}

/** Shell words of a one-command snippet: continuation lines joined, double quotes removed. */
function shellWords(text: string): string[] {
  return text.replace(/\\\n/g, " ").trim().split(/\s+/).map((w) => w.replace(/^"(.*)"$/, "$1"));
}

// ---- the tests ----

const HANDLED = new Set([
  "codex-mcp-add",
  "codex-mcp-add-result",
  "codex-config",
  "readme-codex-config",
  "readme-codex-mcp-add",
  "codex-config-per-tool",
  "codex-profile",
  "claude-mcp-add",
  "mcp-json",
  "mcp-json-mjs",
  "agents-md",
  // Run with the real clients in test/clients/ (each reads its snippets from docs/INTEGRATION.md).
  ...["claude-allowed-tools", "claude-settings", "claude-timeout"],
  ...["gemini-settings", "gemini-trust"],
  ...["opencode-config"],
  ...["inspector-call"],
  ...["codex-config-2026"],
]);

describe("snippet markers", () => {
  test("every toml and json block carries a marker, and every marker has a test here", () => {
    const unmarked = docFences.filter((f) => (f.lang === "toml" || f.lang === "json") && f.marker === null);
    expect(unmarked.map((f) => `${f.file}:${f.line}`)).toEqual([]);
    expect(snippets.map((s) => s.name).filter((n) => !HANDLED.has(n))).toEqual([]);
    // Names are unique, and the integration guide's snippets are all there.
    const names = snippets.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of ["codex-mcp-add", "codex-mcp-add-result", "codex-config", "codex-config-per-tool", "codex-profile", "claude-mcp-add", "mcp-json", "mcp-json-mjs", "agents-md"]) {
      expect(snippets.find((s) => s.name === name)?.file).toBe("docs/INTEGRATION.md");
    }
  });
});

describe("Codex CLI snippets, loaded by the real codex 0.169", () => {
  test("README's codex mcp add is the guide's, so the next test covers it", () => {
    expect(snippet("readme-codex-mcp-add").text).toBe(snippet("codex-mcp-add").text);
  });

  test("codex-mcp-add writes exactly codex-mcp-add-result", async () => {
    const words = shellWords(snippet("codex-mcp-add").text);
    expect(words.slice(0, 3)).toEqual(["codex", "mcp", "add"]);
    const home = path.join(scratch, "mcp-add-home");
    await mkdir(home, { recursive: true });
    const run = spawnSync(codexBin, words.slice(1), { env: { PATH: process.env.PATH!, HOME: home, CODEX_HOME: home }, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect((await readFile(path.join(home, "config.toml"), "utf8")).trim()).toBe(snippet("codex-mcp-add-result").text.trim());
  });

  test("codex-mcp-add-result: the server starts; list_agents (read-only) runs without approval, delegate needs it", async () => {
    const top = await topLevel(realizeToml(snippet("codex-mcp-add-result").text), [
      { name: "list_agents", args: {} },
      { name: "delegate", args: { agent: "review", task: "review please" } },
    ]);
    expect(top.run.exitCode).toBe(0);
    expect(top.tools).toEqual(expect.arrayContaining(["mcp__subagents/delegate", "mcp__subagents/list_agents", "mcp__subagents/validate_agents"]));
    expect(top.outputs).toHaveLength(2);
    expect(top.outputs[0]).toMatch(/"name": ?"review"/);
    expect(top.outputs[1]).toContain("requires approval, but approval policy is never");
    expect(top.outputs[1]).not.toContain(MARKER);
  });

  for (const name of ["codex-config", "readme-codex-config"]) {
    test(`${name}: accepted by --strict-config; the top-level codex delegates to review and gets the answer back`, async () => {
      const found = snippets.find((s) => s.name === name);
      if (!found) {
        // README.md is the lead's; until it carries this marker there is nothing to check.
        expect(name).toBe("readme-codex-config");
        return;
      }
      const config = realizeToml(found.text);
      expect(found.text).toContain("tool_timeout_sec");
      expect(found.text).toContain("CODEX_SUBAGENTS_DEPTH");
      const top = await topLevel(config, [
        { name: "list_agents", args: {} },
        { name: "delegate", args: { agent: "review", task: "review the last commit" } },
      ]);
      expect(top.run.exitCode).toBe(0);
      expect(top.outputs[0]).toMatch(/"name": ?"review"/);
      expect(top.outputs[1]).toContain(MARKER);
      expect(top.outputs[1]).toMatch(new RegExp(`"working_dir": ?"${root}"`));
    });
  }

  test("codex-config-per-tool: approving only delegate lets the call reach the server", async () => {
    const config = `${realizeToml(snippet("codex-mcp-add-result").text)}\n\n${snippet("codex-config-per-tool").text}\n`;
    const top = await topLevel(config, [{ name: "delegate", args: { agent: "no-such-agent", task: "x" } }]);
    expect(top.run.exitCode).toBe(0);
    // The server answered (it names the agents it knows), so codex did not stop the call for approval.
    expect(top.outputs[0]).toContain('unknown agent "no-such-agent"');
    expect(top.outputs[0]).toContain("review");
  });

  test("codex-profile: a NAME.config.toml file is accepted by codex -p NAME; a legacy [profiles.NAME] table is refused", async () => {
    const profile = snippet("codex-profile");
    const fileName = /#\s*~\/\.codex\/(\S+\.config\.toml)/.exec(profile.text)?.[1];
    expect(fileName).toBe("fast.config.toml");
    const home = await makeCodexHome({ baseUrl: mock.baseUrl });
    try {
      plan = [];
      await writeFile(path.join(home.dir, fileName!), profile.text);
      const ok = await runCodex({ args: ["--strict-config", "-p", "fast", "exec", "--json", "--skip-git-repo-check", "-C", root, "-"], env: home.env, stdin: "hi" });
      expect(ok.exitCode).toBe(0);
      await writeFile(path.join(home.dir, "config.toml"), `${await readFile(path.join(home.dir, "config.toml"), "utf8")}\n[profiles.fast]\nmodel_reasoning_effort = "low"\n`);
      const legacy = await runCodex({ args: ["-p", "fast", "exec", "--json", "--skip-git-repo-check", "-C", root, "-"], env: home.env, stdin: "hi" });
      expect(legacy.exitCode).not.toBe(0);
      expect(legacy.stderr + legacy.stdout).toContain("legacy");
    } finally {
      await home.cleanup();
    }
  });
});

describe("other clients' snippets, through the MCP SDK client", () => {
  test("claude-mcp-add: its command and --env start the server, and the root it names is enforced", async () => {
    const words = shellWords(snippet("claude-mcp-add").text);
    expect(words.slice(0, 3)).toEqual(["claude", "mcp", "add"]);
    const env: Record<string, string> = {};
    for (let i = 0; i < words.length; i++) if (words[i] === "--env") env[words[i + 1]!.split("=")[0]!] = words[i + 1]!.split("=").slice(1).join("=").replaceAll(ROOT_PLACEHOLDER, root);
    expect(Object.keys(env)).toEqual(["CODEX_SUBAGENTS_ROOTS"]);
    const after = words.slice(words.indexOf("--") + 1);
    expect(after).toEqual([EXECUTABLE_PLACEHOLDER]);
    const elsewhere = path.join(scratch, "elsewhere");
    await mkdir(elsewhere, { recursive: true });
    const server = await connectServer({ ...serverCommand([]), env: { ...env, HOME: scratch }, cwd: elsewhere });
    try {
      const listed: any = await server.client.callTool({ name: "list_agents", arguments: {} });
      expect(listed.isError).toBeFalsy();
      const refused: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "x", cwd: elsewhere } });
      expect(refused.isError).toBe(true);
      expect(refused.content[0].text).toContain(root);
    } finally {
      await server.close();
    }
  });

  for (const name of ["mcp-json", "mcp-json-mjs"]) {
    test(`${name}: parses, and its command, args and env start the server`, async () => {
      const config = JSON.parse(snippet(name).text);
      const entry = config.mcpServers?.subagents;
      expect(entry).toBeDefined();
      let command: string = entry.command;
      let args: string[] = (entry.args ?? []).map((a: string) => a.replaceAll(ROOT_PLACEHOLDER, root));
      if (command === EXECUTABLE_PLACEHOLDER) {
        const real = serverCommand([]);
        command = real.command;
        args = [...real.args, ...args];
      } else {
        expect(command).toBe("node");
        expect(args[0]).toBe(BUNDLE_PLACEHOLDER);
        args[0] = bundle;
      }
      const server = await connectServer({ command, args, env: { ...(entry.env ?? {}), HOME: scratch }, cwd: scratch });
      try {
        const { tools } = await server.client.listTools();
        expect(tools.map((t) => t.name).sort()).toEqual(["cancel_run", "delegate", "get_run", "list_agents", "validate_agents"]);
        const listed: any = await server.client.callTool({ name: "list_agents", arguments: {} });
        expect(listed.isError).toBeFalsy();
        // --root from the snippet is the only root: a cwd outside it is refused, naming it.
        const refused: any = await server.client.callTool({ name: "delegate", arguments: { agent: "review", task: "x", cwd: scratch } });
        expect(refused.isError).toBe(true);
        expect(refused.content[0].text).toContain(root);
        if (entry.env?.CODEX_SUBAGENTS_LOG === "info") expect(server.stderr()).toContain("serving");
      } finally {
        await server.close();
      }
    });
  }
});

describe("the AGENTS.md snippet", () => {
  test("names only agents and tools that exist, with the settings it promises", async () => {
    const text = snippet("agents-md").text;
    const agentFiles = (await readdir(path.join(repoRoot, "agents"))).filter((f) => f.endsWith(".md")).map((f) => f.slice(0, -3));
    const delegatedTo = [...text.matchAll(/delegate to `([a-z0-9_-]+)`/g)].map((m) => m[1]!);
    expect(delegatedTo.length).toBeGreaterThanOrEqual(3);
    for (const name of delegatedTo) expect(agentFiles).toContain(name);
    expect(text).toContain("`list_agents`");
    expect(text).toContain("`delegate`");
    // "It works in a git worktree and returns a patch" about the debugger.
    if (text.includes("`debugger`")) expect(await readFile(path.join(repoRoot, "agents", "debugger.md"), "utf8")).toContain("isolation: worktree");
    const concurrency = /runs up to (\d+) at a time/.exec(text)?.[1];
    if (concurrency) {
      const help = spawnSync(serverCommand([]).command, [...serverCommand([]).args.slice(0, -1), "--help"], { encoding: "utf8" });
      expect(help.stdout).toMatch(new RegExp(`--max-concurrency N\\s+CODEX_SUBAGENTS_MAX_CONCURRENCY\\s+${concurrency};`));
    }
  });
});

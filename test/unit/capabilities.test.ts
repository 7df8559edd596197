/**
 * Capabilities without codex: the agent keys (mcp_servers, web_search, network) as validate reads them, the server's
 * ceilings (options, refuse or cap), the per-server overrides built from what codex declares, and the planted-layer
 * rule on a real directory tree. The proof with the real codex is test/adversarial/capabilities.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseMarkdownAgent } from "../../src/agents/parse.ts";
import { addMcpServerWarnings } from "../../src/agents/mcp-check.ts";
import { ancestorsOf, plantedLayers } from "../../src/codex/project-layers.ts";
import { parseMcpGet, type McpServerEntry } from "../../src/codex/mcp-servers.ts";
import { parseServerOptions } from "../../src/config.ts";
import { UsageError } from "../../src/errors.ts";
import { mcpReach, settleReach } from "../../src/delegation/reach.ts";
import { codexLayerPaths } from "../../src/delegation/outcome.ts";
import { EMBEDDED_AGENTS } from "../../src/agents/embedded.ts";
import { loadRegistry } from "../../src/agents/registry.ts";
import { listReport } from "../../src/agents/report.ts";
import { DEFAULT_CEILINGS, grantsWithinCeilings, networkForSandbox, plannedCapabilities, requestedGrants } from "../../src/policy/capabilities.ts";

const own = (front: string) => parseMarkdownAgent("a", "a.md", `---\ndescription: d\n${front}\n---\nYou help.\n`);
const codes = (r: { issues: { code: string }[] }) => r.issues.map((i) => i.code);

describe("the agent keys", () => {
  test("mcp_servers: a list grants whole servers, a map names tools (or all); repeats count once", () => {
    expect(own("mcp_servers: [notes, files, notes]").agent?.mcp_servers).toEqual({ notes: "all", files: "all" });
    expect(own("mcp_servers:\n  notes: [echo, echo, shout]\n  files: all").agent?.mcp_servers).toEqual({ notes: ["echo", "shout"], files: "all" });
    expect(own("mcp_servers: []").agent?.mcp_servers).toEqual({});
  });

  test.each([
    ["mcp_servers: notes"],
    ["mcp_servers: [\"bad name\"]"],
    ["mcp_servers: [\"-x\"]"],
    ["mcp_servers:\n  notes: []"],
    ["mcp_servers:\n  notes: echo"],
    ["mcp_servers:\n  \"a b\": [echo]"],
    ["web_search: sometimes"],
    ["network: yes please"],
  ])("%j is an error saying what to write", (front) => {
    const r = own(front);
    expect(codes(r)).toEqual(["INVALID_VALUE"]);
    expect(r.agent).toBeUndefined();
  });

  test("network: true needs workspace-write (an error otherwise, also when no sandbox is named); danger-full-access warns", () => {
    expect(codes(own("network: true"))).toEqual(["NETWORK_NEEDS_WORKSPACE_WRITE"]);
    expect(codes(own("network: true\nsandbox_mode: read-only"))).toEqual(["NETWORK_NEEDS_WORKSPACE_WRITE"]);
    expect(own("network: true\nsandbox_mode: workspace-write").agent?.network).toBe(true);
    expect(codes(own("network: false\nsandbox_mode: danger-full-access"))).toEqual(["NETWORK_UNSANDBOXED"]);
  });

  test("the keys make a file this server's format", () => {
    for (const front of ["mcp_servers: [notes]", "web_search: cached", "network: false"]) expect(own(front).format).toBe("codex-subagents");
  });
});

describe("the ceilings", () => {
  test("options: --allow-mcp repeatable or a comma list, * for all; --max-web-search; --allow-network a switch", () => {
    const defaults = parseServerOptions([], {}, "/w");
    expect({ allowMcp: defaults.allowMcp, maxWebSearch: defaults.maxWebSearch, allowNetwork: defaults.allowNetwork }).toEqual(DEFAULT_CEILINGS as never);
    expect(parseServerOptions(["--allow-mcp", "notes", "--allow-mcp=files", "--allow-network", "--max-web-search", "live"], {}, "/w")).toMatchObject({ allowMcp: ["notes", "files"], allowNetwork: true, maxWebSearch: "live" });
    expect(parseServerOptions([], { CODEX_SUBAGENTS_ALLOW_MCP: "notes, files", CODEX_SUBAGENTS_ALLOW_NETWORK: "1", CODEX_SUBAGENTS_MAX_WEB_SEARCH: "disabled" }, "/w")).toMatchObject({ allowMcp: ["notes", "files"], allowNetwork: true, maxWebSearch: "disabled" });
    expect(parseServerOptions([], { CODEX_SUBAGENTS_ALLOW_MCP: "*", CODEX_SUBAGENTS_ALLOW_NETWORK: "false" }, "/w")).toMatchObject({ allowMcp: ["*"], allowNetwork: false });
    for (const [argv, env, message] of [
      [["--allow-network=1"], {}, "--allow-network takes no value"],
      [["--allow-mcp", "bad name"], {}, '--allow-mcp "bad name" is not an MCP server name'],
      [["--max-web-search", "always"], {}, '--max-web-search "always" is not a web search mode'],
      [[], { CODEX_SUBAGENTS_ALLOW_NETWORK: "maybe" }, 'CODEX_SUBAGENTS_ALLOW_NETWORK "maybe" is not a yes or no'],
      [["--allow-network", "--allow-network"], {}, "--allow-network was given 2 times"],
    ] as const) {
      expect(() => parseServerOptions([...argv], env, "/w")).toThrow(UsageError);
      expect(() => parseServerOptions([...argv], env, "/w")).toThrow(message);
    }
  });

  const asks = requestedGrants({ mcp_servers: { notes: ["echo"], files: "all" }, web_search: "live", network: true });
  test("this server's own format is refused above any ceiling, naming every flag that would allow it", () => {
    const r = grantsWithinCeilings(asks, { allowMcp: ["notes"], maxWebSearch: "cached", allowNetwork: false }, null);
    expect("refusal" in r && r.refusal).toBe('the MCP server "files" (all its tools), web_search "live" (the limit is "cached"), network: true are above what this server allows; remove them from the agent, or restart the server with --allow-mcp files --max-web-search live --allow-network');
    expect(grantsWithinCeilings(asks, { allowMcp: ["*"], maxWebSearch: "live", allowNetwork: true }, null)).toEqual({ grants: asks, notes: [] });
  });

  test("a mapped agent is capped instead, one note per grant it loses", () => {
    const r = grantsWithinCeilings(asks, DEFAULT_CEILINGS, { agent: "c", format: "claude-code" });
    expect(r).toMatchObject({ grants: { mcp_servers: {}, web_search: "cached", network: false } });
    expect("notes" in r && r.notes.length).toBe(4);
  });

  test("network follows the sandbox the run got; danger-full-access shows it, whatever was granted", () => {
    expect(networkForSandbox(true, "read-only", "a")).toMatchObject({ network: false, note: expect.stringContaining("read-only") });
    expect(networkForSandbox(true, "workspace-write", "a")).toEqual({ network: true });
    expect(plannedCapabilities("danger-full-access", requestedGrants({})).network).toBe(true);
    expect(plannedCapabilities("read-only", requestedGrants({}))).toEqual({ sandbox: "read-only", network: false, web_search: "disabled", mcp_servers: {} });
  });
});

const entry = (name: string, enabled = true): McpServerEntry => ({ name, enabled, transport: { type: "stdio", command: "/bin/true" } });

describe("what codex is told about each server it declares", () => {
  test("every server not granted is switched off; a tool list becomes enabled_tools; a granted whole server is left as it is", () => {
    const r = mcpReach([entry("notes"), entry("files"), entry("a.b"), entry("sp ace")], { notes: ["echo"], files: "all" }, { notes: { enabledTools: null, disabledTools: [] } }, "x");
    expect(r.settings).toEqual({ notes: ["echo"], "a.b": false, "sp ace": false });
    expect(r.granted).toEqual({ notes: ["echo"], files: "all" });
    expect(r.notes).toEqual([]);
  });

  test("a grant never widens the user's own limits, and an undeclared or switched-off server is a note", () => {
    const r = mcpReach([entry("notes"), entry("off", false), entry("tight")], { notes: ["echo", "shout"], off: "all", tight: ["x"], gone: "all" }, {
      notes: { enabledTools: ["echo", "other"], disabledTools: [] },
      tight: { enabledTools: null, disabledTools: ["x"] },
    }, "x");
    expect(r.settings).toEqual({ notes: ["echo"], off: false, tight: false });
    expect(r.granted).toEqual({ notes: ["echo"] });
    expect(r.notes).toEqual([
      'your codex config does not offer "shout" of the MCP server "notes" (its enabled_tools / disabled_tools), so agent "x" ran without it',
      'agent "x" is granted the MCP server "off", but your codex config keeps it switched off (enabled = false); it ran without',
      'your codex config does not offer "x" of the MCP server "tight" (its enabled_tools / disabled_tools), so agent "x" ran without it',
      'agent "x" is granted the MCP server "gone" (all its tools), but your codex config declares no server of that name for this run (config.toml, its profile, the project\'s .codex layers); it ran without. codex mcp list shows what is declared',
    ]);
  });

  test("a name like constructor or __proto__ is just a name", () => {
    const r = mcpReach([entry("constructor"), entry("toString")], {}, {}, "x");
    expect(r.settings).toEqual({ constructor: false, toString: false } as Record<string, false>);
    expect(r.granted).toEqual({});
  });

  test("codex mcp get --json: its tool limits, or why not", () => {
    expect(parseMcpGet(JSON.stringify({ name: "n", enabled_tools: ["a"], disabled_tools: null }))).toEqual({ enabledTools: ["a"], disabledTools: [] });
    expect(parseMcpGet("nope")).toHaveProperty("problem");
  });

  test("a codex that cannot list its servers refuses the run, saying how to see why", async () => {
    const refused = await settleReach({
      codexPath: "/c", grants: requestedGrants({}), sourceDir: "/", env: {}, writers: [], tmpDirs: [],
      invocation: { agent: { name: "a", file: "a.md", persona: "p", sandbox_mode: "read-only" }, workingDir: "/", lastMessageFile: "/l" },
      probes: { list: async () => ({ problem: "codex exited with 1 when asked to list its MCP servers: bad config" }), get: async () => ({ problem: "unused" }) },
    }).then(() => null, (e: Error & { hint?: string }) => e);
    expect(refused?.message).toContain("could not learn which MCP servers codex would start for this run, so none of them could be switched off; nothing ran: codex exited with 1");
    expect(refused?.hint).toContain("codex mcp list --json");
  });
});

describe("validate: a granted server codex does not declare", () => {
  test("a warning per unknown name (with a suggestion); one 'not checked' warning without a codex; one question per profile", async () => {
    const files = [own("mcp_servers: [notse, files]"), own("mcp_servers: [notes]\nprofile: p"), own("description2: x")];
    const asked: Array<string | undefined> = [];
    await addMcpServerWarnings(files, async (profile) => (asked.push(profile), { names: ["notes", "files"] }));
    expect(files[0]!.issues.map((i) => [i.code, i.message])).toEqual([["MCP_SERVER_UNDECLARED", '"notse" is not an MCP server your codex config declares here (codex mcp list shows them; codex mcp add NAME -- COMMAND adds one), so the sub-agent would run without it; did you mean "notes"?']]);
    expect(files[1]!.issues).toEqual([]);
    expect(asked).toEqual([undefined, "p"]);
    const unchecked = [own("mcp_servers: [notes]")];
    await addMcpServerWarnings(unchecked, async () => ({ problem: "no codex was found" }));
    expect(codes(unchecked[0]!)).toEqual(["MCP_SERVERS_UNCHECKED"]);
  });
});

describe("the planted-layer rule (a real directory tree)", () => {
  let base: string, tmp: string, outsideTmp: string;
  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), "cs-layers-")));
    tmp = path.join(base, "tmp");
    // Stands for a place outside /tmp: the rule is given the tmp directories, so any other directory will do.
    outsideTmp = path.join(base, "home");
    await mkdir(path.join(outsideTmp, "repo", "sub", "deep"), { recursive: true });
    await mkdir(path.join(outsideTmp, "repo", ".codex"));
    await mkdir(tmp);
  });
  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });
  const repo = () => path.join(outsideTmp, "repo");

  test("ancestors, nearest first, up to /", () => {
    expect(ancestorsOf("/a/b")).toEqual(["/a/b", "/a", "/"]);
  });

  test("no writer recorded: the repository's own .codex is used", async () => {
    expect(await plantedLayers({ workingDir: path.join(repo(), "sub"), sourceDir: path.join(repo(), "sub") }, [], [tmp])).toEqual({ reasons: [], untrusted: [] });
  });

  test("a writer's own cwd keeps its .codex (codex protects it); a .codex strictly below a writer's cwd is planted", async () => {
    const deep = path.join(repo(), "sub", "deep");
    expect((await plantedLayers({ workingDir: deep, sourceDir: deep }, [repo()], [tmp])).reasons).toEqual([]);
    await mkdir(path.join(repo(), "sub", ".codex"));
    const planted = await plantedLayers({ workingDir: deep, sourceDir: deep }, [repo()], [tmp]);
    expect(planted.reasons).toEqual([`"${path.join(repo(), "sub", ".codex")}" may have been planted: it lies below "${repo()}", where a sub-agent once worked with a sandbox that can write in place`]);
    expect(planted.untrusted).toEqual(ancestorsOf(deep));
    await rm(path.join(repo(), "sub", ".codex"), { recursive: true });
  });

  test("a link or a file named .codex counts; so does one on the way to a copy's source", async () => {
    await symlink("/nonexistent", path.join(repo(), "sub", ".codex"));
    const copy = path.join(base, "copy");
    const planted = await plantedLayers({ workingDir: copy, sourceDir: path.join(repo(), "sub") }, [repo()], [tmp]);
    expect(planted.reasons.length).toBe(1);
    expect(planted.untrusted).toEqual(expect.arrayContaining([copy, path.join(repo(), "sub")]));
    await rm(path.join(repo(), "sub", ".codex"));
  });

  test("in /tmp or $TMPDIR a run is always untrusted (any sandbox may write there at any moment), without a note", async () => {
    const inTmp = path.join(tmp, "x");
    await mkdir(path.join(inTmp, ".codex"), { recursive: true });
    expect(await plantedLayers({ workingDir: inTmp, sourceDir: inTmp }, [], [tmp])).toEqual({ reasons: [], untrusted: ancestorsOf(inTmp) });
  });
});

describe("what else is visible", () => {
  test("a worktree patch's .codex files are named (any depth), nothing else is", () => {
    const patch = ["a.txt", ".codex/config.toml", "sub/.codex/rules/x.rules", "docs/.codexrc", "x/.codex"].map((f) => `diff --git a/${f} b/${f}\nnew file mode 100644\n`).join("");
    expect(codexLayerPaths(patch)).toEqual([".codex/config.toml", "sub/.codex/rules/x.rules"]);
    expect(codexLayerPaths("")).toEqual([]);
  });

  test("the starter agents grant nothing", async () => {
    const registry = await loadRegistry({ dir: null, source: "embedded", foundBy: "test" }, EMBEDDED_AGENTS);
    const report = listReport(registry.location, registry.files);
    expect(report.agents.length).toBeGreaterThan(0);
    for (const agent of report.agents) expect({ ...agent.capabilities, sandbox: "any" }).toEqual({ sandbox: "any", network: false, web_search: "disabled", mcp_servers: {} });
  });
});

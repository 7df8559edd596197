/**
 * The capability keys of an agent file (mcp_servers, web_search, network) as validate reads them. The ceilings and
 * what codex is told are in test/policy/capabilities.test.ts and test/delegation/reach.test.ts; the proof with the
 * real codex is test/adversarial/capabilities.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { parseMarkdownAgent } from "../../src/agents/parse.ts";

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

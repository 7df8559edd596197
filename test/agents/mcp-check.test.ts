/** validate's warning about an MCP server an agent is granted that the user's codex config does not declare. */
import { describe, expect, test } from "bun:test";
import { addMcpServerWarnings } from "../../src/agents/mcp-check.ts";
import { parseMarkdownAgent } from "../../src/agents/parse.ts";

const own = (front: string) => parseMarkdownAgent("a", "a.md", `---\ndescription: d\n${front}\n---\nYou help.\n`);
const codes = (r: { issues: { code: string }[] }) => r.issues.map((i) => i.code);

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

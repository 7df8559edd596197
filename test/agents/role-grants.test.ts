/** The documented mapping (docs/AGENT-FILES.md), row by row, through the pure parser: a Codex role file's grants. */
import { describe, expect, test } from "bun:test";
import { parseCodexRoleAgent } from "../../src/agents/parse.ts";
import { codes } from "./helpers.ts";

describe("grants from other formats (mcp_servers, web_search, network)", () => {
  const role = (text: string) => parseCodexRoleAgent("r", "r.toml", `description = "d"\ndeveloper_instructions = "x"\n${text}`);
  const grantsOf = (r: { agent?: { mcp_servers?: unknown; web_search?: unknown; network?: unknown } }) => ({ mcp_servers: r.agent?.mcp_servers, web_search: r.agent?.web_search, network: r.agent?.network });

  test("Codex role: enabled = true grants a server whole, enabled_tools those tools, enabled = false nothing", () => {
    const r = role('sandbox_mode = "workspace-write"\nweb_search = "live"\n[mcp_servers.notes]\nenabled_tools = ["echo"]\n[mcp_servers.files]\nenabled = true\n[mcp_servers.off]\nenabled = false\n[sandbox_workspace_write]\nnetwork_access = true\n');
    expect(r.issues).toEqual([]);
    expect(grantsOf(r)).toEqual({ mcp_servers: { notes: ["echo"], files: "all" }, web_search: "live", network: true });
  });

  test("Codex role: what cannot be granted is said, never passed", () => {
    const r = role('[mcp_servers.notes]\ntool_timeout_sec = 5\n[mcp_servers.files]\nenabled_tools = []\n[sandbox_workspace_write]\nnetwork_access = true\nwritable_roots = ["/"]\n');
    expect(r.issues.map((i) => `${i.code}:${i.field}`)).toEqual([
      "CODEX_SANDBOX_DEFAULT:sandbox_mode", "CODEX_KEY_NOT_PASSED:mcp_servers.notes.tool_timeout_sec", "CODEX_MCP_NOT_GRANTED:mcp_servers.notes",
      "CODEX_MCP_NOT_GRANTED:mcp_servers.files", "CODEX_KEY_NOT_PASSED:sandbox_workspace_write.writable_roots", "CODEX_NETWORK_NOT_CARRIED:sandbox_workspace_write.network_access",
    ]);
    expect(grantsOf(r)).toEqual({ mcp_servers: undefined, web_search: undefined, network: undefined });
    expect(codes(role('web_search = "sometimes"'))).toContain("INVALID_VALUE");
  });
});

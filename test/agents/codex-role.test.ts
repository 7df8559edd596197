/** The documented mapping (docs/AGENT-FILES.md), row by row, through the pure parser: a Codex role file's keys. */
import { describe, expect, test } from "bun:test";
import { parseCodexRoleAgent } from "../../src/agents/parse.ts";
import { codes } from "./helpers.ts";

describe("Codex role files", () => {
  const role = (text: string) => parseCodexRoleAgent("file-name", "file-name.toml", text);

  test("role keys map one to one; developer_instructions is the persona; name wins", () => {
    const r = role('name = "rev"\ndescription = "Reviews"\ndeveloper_instructions = """\nYou review.\n"""\nmodel = "gpt-5.3-codex"\nmodel_reasoning_effort = "high"\nsandbox_mode = "workspace-write"\napproval_policy = "never"\n');
    expect(r.issues).toEqual([]);
    expect(r.agent).toMatchObject({ name: "rev", persona: "You review.", model: "gpt-5.3-codex", reasoning_effort: "high", sandbox_mode: "workspace-write", approval_policy: "never", format: "codex-role" });
  });

  test("any other Codex config key is not passed, with a warning naming it", () => {
    const r = role('description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "read-only"\nmodel_provider = "evil"\n[shell_environment_policy]\ninherit = "all"\n');
    expect(r.issues.map((i) => [i.code, i.field])).toEqual([["CODEX_KEY_NOT_PASSED", "model_provider"], ["CODEX_KEY_NOT_PASSED", "shell_environment_policy"]]);
    expect(r.agent).not.toHaveProperty("mcp_servers");
    expect(r.name).toBe("file-name");
  });

  test("approval_policy untrusted in a role file (codex refuses it at start-up) is an error, as in our own files; the options offered leave it out", () => {
    const r = role('description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "read-only"\napproval_policy = "untrusted"\n');
    expect(r.issues.map((i) => [i.level, i.code, i.field])).toEqual([["error", "UNSUPPORTED_APPROVAL_POLICY", "approval_policy"]]);
    expect(r.agent).toBeUndefined();
    const bad = role('description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "read-only"\napproval_policy = "sometimes"\n');
    expect(bad.issues[0]!.message).toBe('approval_policy "sometimes" is not valid; use one of: never, on-request, on-failure');
  });

  test("a role that defines an MCP server (command, url) is refused: an error, the agent cannot be used", () => {
    for (const table of ['[mcp_servers.x]\ncommand = "sh"', '[mcp_servers.x]\nurl = "https://example.invalid/mcp"\nenabled = true']) {
      const r = role(`description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "read-only"\n${table}\n`);
      expect(r.issues.map((i) => [i.level, i.code, i.field])).toEqual([["error", "CODEX_MCP_SERVER_DEFINED", "mcp_servers.x"]]);
      expect(r.agent).toBeUndefined();
    }
  });

  test("no sandbox_mode: read-only, said explicitly; bad values are errors; no instructions is an error", () => {
    const r = role('description = "d"\ndeveloper_instructions = "x"');
    expect(r.agent?.sandbox_mode).toBe("read-only");
    expect(codes(r)).toEqual(["CODEX_SANDBOX_DEFAULT"]);
    expect(codes(role('description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "yolo"'))).toEqual(["INVALID_VALUE"]);
    expect(codes(role('description = "d"\nsandbox_mode = "read-only"'))).toEqual(["EMPTY_PERSONA"]);
    expect(codes(role('description = "d"\ndeveloper_instructions = "x"\nsandbox_mode = "read-only"\nnickname_candidates = ["A"]'))).toEqual(["CODEX_NICKNAMES"]);
  });

  test("a date, which no role key takes, is an error naming the key and its line", () => {
    const r = role('name = "x"\n\nwhen = 2024-01-01\n');
    expect(codes(r)).toEqual(["TOML_ERROR"]);
    expect(r.issues[0]!.message).toContain("line 3: when holds a date or time");
  });
});

// The server's log is stderr, which the MCP client shows (and a log viewer renders): each message is one line, its
// secrets masked, and no control character of what it quotes (an agent file's text, codex's words) reaches it raw.
import { expect, test } from "bun:test";
import { createLogger } from "../src/log.ts";
import { createRedactor } from "../src/policy/redact.ts";

test("a log line is one printable line with its secrets masked, whatever the message quotes", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", redact: createRedactor(["s3cret-value"]), write: (line) => lines.push(line) });
  log.error("agent \"A\u001b]0;PWNED\u0007\" in x.md:\nkey s3cret-value\r\nend\u009b2J");
  log.debug("below the level: not written");
  expect(lines).toEqual(["codex-subagents: error: agent \"A?]0;PWNED?\" in x.md:\\nkey [REDACTED]\\nend?2J\n"]);
});

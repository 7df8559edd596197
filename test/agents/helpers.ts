// What the tests of the agent-file mapping share: a Claude Code file through the pure parser, and its issue codes.
import { parseMarkdownAgent } from "../../src/agents/parse.ts";

export const codes = (r: { issues: { code: string }[] }) => r.issues.map((i) => i.code);
export const claude = (front: string, body = "You help.", opts: { inClaudeDir?: boolean } = {}) =>
  parseMarkdownAgent("file-name", "file-name.md", `---\n${front}\n---\n${body}\n`, opts);

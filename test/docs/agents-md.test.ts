/**
 * Codex reads every AGENTS.md from the repository root down to its working directory as instructions, so a
 * sub-agent started in docs/ of this repository would take an AGENTS.md there as its orders. Our documentation
 * of agent files is docs/AGENT-FILES.md; no file of ours may be called AGENTS.md.
 */
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dir, "..", "..");

describe("no AGENTS.md in the repository", () => {
  test("no tracked file is named AGENTS.md, and the agent-file docs live at docs/AGENT-FILES.md", () => {
    const tracked = execFileSync("git", ["ls-files"], { cwd: repoRoot, encoding: "utf8" }).split("\n");
    expect(tracked.filter((f) => path.basename(f).toLowerCase() === "agents.md")).toEqual([]);
    expect(tracked).toContain("docs/AGENT-FILES.md");
  });
});

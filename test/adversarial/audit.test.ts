// Auditable by search: a reviewer who greps the source for process creation finds exactly one place that starts codex
// and one that runs git, and no network code at all. This test is that grep, so a new spawn site or a network call
// cannot slip in unnoticed.
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../helpers/paths.ts";
import { reportTally } from "./harness.ts";

afterAll(() => reportTally(import.meta.file));

const SRC = path.join(repoRoot, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|js|mjs)$/.test(entry) ? [full] : [];
  });
}

/** Code without comments, so a comment that mentions `spawn(` is not a hit (and cannot hide one). */
function code(file: string): string {
  return readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

function hits(pattern: RegExp): Array<{ file: string; line: string }> {
  const found: Array<{ file: string; line: string }> = [];
  for (const file of sourceFiles(SRC)) {
    for (const line of code(file).split("\n")) {
      if (pattern.test(line)) found.push({ file: path.relative(repoRoot, file), line: line.trim() });
    }
  }
  return found;
}

describe("auditable by search", () => {
  test("processes are started in one file for codex (src/codex/run.ts) and one for git (src/workspace/git.ts)", () => {
    // `exec(` as a bare call; `.exec(` is RegExp#exec (a child_process `cp.exec(` would need the import checked below).
    const spawns = hits(/\b(spawn|spawnSync|execSync|execFile|execFileSync|fork)\s*\(|(?<![.\w])exec\s*\(|Bun\.spawn|Bun\.\$|new\s+Worker\s*\(/);
    // run.ts holds the delegation run and doctor's short probe, both of codex; git.ts holds the one git runner.
    expect([...new Set(spawns.map((h) => h.file))].sort()).toEqual(["src/codex/run.ts", "src/workspace/git.ts"]);
    // git is the absolute path found once at start-up (useGitProgram), never a bare "git" looked up at each spawn.
    expect(spawns.filter((h) => h.file === "src/workspace/git.ts").every((h) => h.line.includes("spawn(program, "))).toBe(true);
    expect(spawns.filter((h) => h.file === "src/codex/run.ts").every((h) => /spawn\((req\.)?codexPath\b/.test(h.line))).toBe(true);
    expect(hits(/\bshell\s*:\s*true/)).toEqual([]);
  });

  test("child_process is imported only by those two files", () => {
    const importers = hits(/(from\s+|require\s*\(\s*|import\s*\(\s*)["'](node:)?child_process["']/).map((h) => h.file).sort();
    expect(importers).toEqual(["src/codex/run.ts", "src/workspace/git.ts"]);
  });

  test("no network: no net/http/https/dgram/tls/dns modules, no fetch, no WebSocket, no Bun.serve/connect", () => {
    const network = hits(/["'](node:)?(net|http|https|http2|dgram|tls|dns)["']|\bfetch\s*\(|\bWebSocket\b|\bEventSource\b|Bun\.(serve|connect|listen)|XMLHttpRequest/);
    expect(network).toEqual([]);
  });

  test("nothing in src writes to stdout except the CLI's own output seam", () => {
    const writers = hits(/console\.(log|info|debug|table|dir)\s*\(|process\.stdout\.write/).map((h) => h.file);
    expect([...new Set(writers)].sort()).toEqual(["src/cli.ts"]);
  });
});

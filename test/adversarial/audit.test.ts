// Auditable by search: a reviewer who greps the source for process creation finds one layer that creates processes
// (src/process), exactly one place that asks it to start codex and one that asks it to run git, and no network code. This test is that grep, so a new spawn site or a network call
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
  test("processes are started only through src/process: codex by src/codex/run.ts, git by src/workspace/git.ts", () => {
    // `exec(` as a bare call; `.exec(` is RegExp#exec (a child_process `cp.exec(` would need the import checked below).
    const spawns = hits(/\b(spawn|spawnSync|execSync|execFile|execFileSync|fork)\s*\(|(?<![.\w])exec\s*\(|Bun\.spawn|Bun\.\$|new\s+Worker\s*\(/);
    // The layer's one spawn, of whatever program its caller names; nothing outside src/process creates a process.
    expect([...new Set(spawns.map((h) => h.file))].sort()).toEqual(["src/process/spawn.ts"]);
    expect(spawns.every((h) => h.line.includes("spawn(program, "))).toBe(true);
    // Who asks the layer to start something, and what: run.ts holds the delegation run and doctor's short probe, both
    // of codex; git.ts holds the one git runner.
    const runs = hits(/\brunProcess\s*\(/).filter((h) => !h.file.startsWith("src/process/"));
    expect([...new Set(runs.map((h) => h.file))].sort()).toEqual(["src/codex/run.ts", "src/workspace/git.ts"]);
    // git is the absolute path found once at start-up and handed over in the delegation context (createGit), never a
    // bare "git" looked up at each spawn, and never kept in module state that one command sets and another forgets.
    expect(runs.filter((h) => h.file === "src/workspace/git.ts").every((h) => h.line.includes("runProcess(program, "))).toBe(true);
    expect(runs.filter((h) => h.file === "src/codex/run.ts").every((h) => /runProcess\((req\.)?codexPath\b/.test(h.line))).toBe(true);
    // And only those two files reach the layer at all.
    const layerUsers = hits(/from\s+["'][./]*(\.\.\/)?process\/(index|spawn|terminate|output|result)\.ts["']/)
      .map((h) => h.file).filter((file) => !file.startsWith("src/process/"));
    expect([...new Set(layerUsers)].sort()).toEqual(["src/codex/run.ts", "src/workspace/git.ts"]);
    expect(hits(/\bshell\s*:\s*true/)).toEqual([]);
    expect(hits(/^(let|var)\s/)).toEqual([]);
    expect(hits(/\bshell\s*:\s*false/).map((h) => h.file)).toEqual(["src/process/spawn.ts"]);
  });

  test("child_process is imported only by src/process/", () => {
    const importers = hits(/(from\s+|require\s*\(\s*|import\s*\(\s*)["'](node:)?child_process["']/).map((h) => h.file).sort();
    expect(importers).toEqual(["src/process/spawn.ts"]);
    expect(importers.every((file) => file.startsWith("src/process/"))).toBe(true);
  });

  test("no network: no net/http/https/dgram/tls/dns modules, no fetch, no WebSocket, no Bun.serve/connect", () => {
    const network = hits(/["'](node:)?(net|http|https|http2|dgram|tls|dns)["']|\bfetch\s*\(|\bWebSocket\b|\bEventSource\b|Bun\.(serve|connect|listen)|XMLHttpRequest/);
    expect(network).toEqual([]);
  });

  test("nothing reaches the JSON Schema validator the executable leaves out (src/sdk-platform.ts)", () => {
    // The SDK asks its platform module for one only to check an elicitation's answer and for tools built from JSON
    // Schema: src does neither, and hands the SDK no validator of its own.
    expect(hits(/\bfromJsonSchema\b|\belicitInput\b|elicitation\/create|\bjsonSchemaValidator\b|\bDefaultJsonSchemaValidator\b/).map((h) => h.file)).toEqual(["src/sdk-platform.ts"]);
    // The SDK is reached through its two public entry points only (no internal path, no client package).
    const sdkImports = hits(/from\s+["']@modelcontextprotocol\/[^"']+["']/).map((h) => /@modelcontextprotocol\/[^"']+/.exec(h.line)![0]);
    expect([...new Set(sdkImports)].sort()).toEqual(["@modelcontextprotocol/server", "@modelcontextprotocol/server/stdio"]);
  });

  test("nothing in src writes to stdout except the CLI's own output seam", () => {
    const writers = hits(/console\.(log|info|debug|table|dir)\s*\(|process\.stdout\.write/).map((h) => h.file);
    expect([...new Set(writers)].sort()).toEqual(["src/cli.ts"]);
  });
});

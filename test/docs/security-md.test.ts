/**
 * SECURITY.md is read by a reviewer who opens every test it names: each risk has the shape "the risk, what we do, the
 * proof", every file it names exists, every test name it quotes is a describe or test name in that file, and every
 * function or constant it places in a source file is defined there. A move or a rename that leaves the page behind
 * fails here, naming the line.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { defines, holdsTitle, namedPaths, placedIdentifiers, proofLines } from "../helpers/doc-references.ts";
import { repoRoot } from "../helpers/paths.ts";

const PAGE = "SECURITY.md";
const text = readFileSync(path.join(repoRoot, PAGE), "utf8");
const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");

/** The risks: each `####` section of "## Risks", by its heading. */
function risks(): Array<{ heading: string; body: string }> {
  const section = text.slice(text.indexOf("\n## Risks\n"), text.indexOf("\n## Secure defaults\n"));
  return section.split(/\n#### /).slice(1).map((part) => {
    const [heading, ...rest] = part.split("\n");
    return { heading: heading!, body: rest.join("\n") };
  });
}

describe("SECURITY.md as a reviewer reads it", () => {
  test("every risk says the risk, what we do and the proof, and names at least one test", () => {
    const all = risks();
    expect(all.length).toBeGreaterThanOrEqual(30);
    const misshapen = all.filter(({ body }) => {
      const at = ["- **Risk:**", "- **What we do:**", "- **Proof:**"].map((label) => body.indexOf(label));
      return at.some((i) => i < 0) || !(at[0]! < at[1]! && at[1]! < at[2]!) || !/^\s+- `test\//m.test(body.slice(at[2]!));
    });
    expect(misshapen.map((r) => r.heading)).toEqual([]);
  });

  test("every test file a proof names exists, and every test name it quotes is in that file", () => {
    const proofs = proofLines(text);
    expect(proofs.length).toBeGreaterThanOrEqual(60);
    const missing = proofs.filter((p) => !existsSync(path.join(repoRoot, p.file))).map((p) => `${PAGE}:${p.line}: ${p.file}`);
    expect(missing).toEqual([]);
    const unknown = proofs.flatMap((p) => p.titles.filter((t) => !holdsTitle(read(p.file), t)).map((t) => `${PAGE}:${p.line}: ${p.file}: "${t}"`));
    expect(unknown).toEqual([]);
  });

  test("every path it names exists", () => {
    const paths = namedPaths(text);
    expect(paths.length).toBeGreaterThan(80);
    expect(paths.filter((p) => !existsSync(path.join(repoRoot, p)))).toEqual([]);
  });

  test("every function or constant it places in a source file is defined there", () => {
    const placed = placedIdentifiers(text);
    expect(placed.length).toBeGreaterThan(40);
    const wrong = placed.filter(({ name, file }) => !existsSync(path.join(repoRoot, file)) || !defines(read(file), name));
    expect(wrong.map(({ name, file }) => `${name} in ${file}`)).toEqual([]);
  });
});
